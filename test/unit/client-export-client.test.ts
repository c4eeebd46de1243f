import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Sleep } from '../../src/client/index.js'
import {
  ExportClient,
  ExportHttpError,
  ExportNetworkError,
  ExportProtocolError,
  InvalidClientOptionsError,
  InvalidCursorError,
} from '../../src/client/index.js'
import { abortableSleep } from '../../src/client/sleep.js'
import { EXPORT_STREAMS, STREAM_TIME_UNIT } from '../../src/client/index.js'
import { STREAM_NAMES, streamSpec } from '../../src/domain/streams.js'
import { FakeExportServer, chat, span } from './client-fake-server.js'

let server: FakeExportServer

beforeEach(async () => {
  server = await FakeExportServer.start({ token: 'secret-token-123' })
})
afterEach(async () => {
  await server.close()
})

/** A sleep that returns at once and records how long the client asked to wait. */
function recordingSleep(): { waits: number[]; sleep: Sleep } {
  const waits: number[] = []
  return {
    waits,
    sleep: (ms, signal) => {
      waits.push(ms)
      return signal?.aborted ? Promise.reject(signal.reason as Error) : Promise.resolve()
    },
  }
}

function client(
  options: Partial<ConstructorParameters<typeof ExportClient>[0]> = {},
): ExportClient {
  return new ExportClient({
    baseUrl: server.baseUrl,
    token: 'secret-token-123',
    sleep: recordingSleep().sleep,
    random: () => 0.999,
    ...options,
  })
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of iterable) out.push(x)
  return out
}

function seedChats(n: number): void {
  for (let i = 0; i < n; i++) server.put('chats', chat(`chat-${String(i).padStart(3, '0')}`))
}

describe('ExportClient paging', () => {
  it('follows next_page verbatim through every page and stops at the short page', async () => {
    seedChats(25)
    const pages = await collect(client({ limit: 10 }).pages('chats'))
    expect(pages.map((p) => p.count)).toEqual([10, 10, 5])
    expect(pages.map((p) => p.caughtUp)).toEqual([false, false, true])
    expect(pages.flatMap((p) => p.items)).toEqual(server.ordered('chats'))
    const urls = server.requestsFor('chats').map((r) => r.url)
    expect(urls).toHaveLength(3)
    const first = new URL(urls[0]!)
    expect(first.pathname).toBe('/api/v2/chat/incremental/chats')
    expect(first.searchParams.get('fields')).toBe('chats(*)')
    expect(first.searchParams.get('limit')).toBe('10')
    expect(first.searchParams.get('start_time')).toBe('0')
    // Every later request is exactly the previous page's next_page.
    expect(urls.slice(1)).toEqual(pages.slice(0, 2).map((p) => p.nextPage))
    expect(server.requests.every((r) => r.authorization === 'Bearer secret-token-123')).toBe(true)
  })

  it('treats a full last page as "more may come" and ends on the empty page after it', async () => {
    seedChats(10)
    const pages = await collect(client({ limit: 10 }).pages('chats'))
    expect(pages.map((p) => [p.count, p.caughtUp])).toEqual([
      [10, false],
      [0, true],
    ])
    // The empty page keeps the cursor: its next_page is the polling URL it was fetched from.
    expect(pages[1]!.nextPage).toBe(pages[0]!.nextPage)
  })

  it('asks for the page after a full one before the caller wants it, and uses that answer', async () => {
    seedChats(25)
    const pages = client({ limit: 10 }).pages('chats')
    const first = await pages.next()
    expect(first.done).toBe(false)
    // The request for page 2 is out while page 1 is still with the caller.
    await vi.waitFor(() => expect(server.requestsFor('chats')).toHaveLength(2))
    const urls = server.requestsFor('chats').map((r) => r.url)
    expect(urls[1]).toBe(first.value?.nextPage)
    const rest = await collect({ [Symbol.asyncIterator]: () => pages })
    expect([first.value, ...rest].flatMap((p) => p?.items ?? [])).toEqual(server.ordered('chats'))
    // Page 3 is short: nothing is asked for after it; every request was used once.
    expect(server.requestsFor('chats')).toHaveLength(3)
  })

  it('does not ask ahead after a page that is not full (a follow poll keeps its interval)', async () => {
    seedChats(5)
    const controller = new AbortController()
    const pages = client({ limit: 10 }).pages('chats', {
      follow: true,
      intervalMs: 60_000,
      signal: controller.signal,
    })
    await pages.next()
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(server.requestsFor('chats')).toHaveLength(1)
    controller.abort()
    await pages.return(undefined)
  })

  it('drops the request ahead of a damaged page and fetches that page again', async () => {
    seedChats(15)
    // The first answer says it is full (count 10) but holds one item: the tail names page 2, so
    // page 2 is asked for ahead, and then the page is found damaged and retried.
    server.faults.push({
      kind: 'body',
      body: (url) =>
        `{"chats":[{"id":"chat-000"}],"count":10,"end_id":"chat-000","end_time":1600000000,"next_page":${JSON.stringify(url.replace('start_time=0', 'start_time=1600000000'))}}`,
    })
    const items = await collect(client({ limit: 10 }).items('chats'))
    expect(items).toEqual(server.ordered('chats'))
  })

  it('calls off the request ahead when the caller stops early', async () => {
    seedChats(25)
    server.faults.push({ kind: 'slow', ms: 0 }, { kind: 'hang' })
    for await (const page of client({ limit: 10 }).pages('chats')) {
      expect(page.count).toBe(10)
      await vi.waitFor(() => expect(server.hanging).toBe(1))
      break
    }
    // The hanging request ahead is closed by the client, not left to its timeout.
    await vi.waitFor(() => expect(server.hanging).toBe(0))
  })

  it('yields the items of every page through items()', async () => {
    seedChats(7)
    const items = await collect(client({ limit: 3 }).items('chats'))
    expect(items.map((c) => c.id)).toEqual(server.ordered('chats').map((c) => c.id))
  })

  it('resumes from a serialised cursor without losing or repeating items', async () => {
    seedChats(12)
    const seen: string[] = []
    let saved = ''
    for await (const page of client({ limit: 5 }).pages('chats')) {
      seen.push(...page.items.map((c) => String(c.id)))
      saved = JSON.stringify(page.cursor)
      break
    }
    // New items arrive and an old one changes while the reader is away.
    server.put('chats', chat('chat-new'))
    server.put('chats', chat('chat-001', { tags: ['changed'] }))
    const rest = await collect(client({ limit: 5 }).items('chats', { cursor: JSON.parse(saved) }))
    seen.push(...rest.map((c) => String(c.id)))
    expect(seen.slice(0, 5)).toEqual(['chat-000', 'chat-001', 'chat-002', 'chat-003', 'chat-004'])
    expect(rest.map((c) => c.id)).toEqual([
      ...Array.from({ length: 7 }, (_, i) => `chat-${String(i + 5).padStart(3, '0')}`),
      'chat-new',
      'chat-001',
    ])
    expect(rest.at(-1)!.tags).toEqual(['changed'])
  })

  it('accepts the cursor as JSON text and refuses one of another stream', async () => {
    seedChats(2)
    const [page] = await collect(client().pages('chats'))
    const text = JSON.stringify(page!.cursor)
    expect(await collect(client().pages('chats', { cursor: text }))).toHaveLength(1)
    const wrong = client().pages('conversions', { cursor: text })
    await expect(wrong.next()).rejects.toBeInstanceOf(InvalidCursorError)
  })

  it('never loops on items that share one timestamp: start_id continues inside the tie', async () => {
    const position = 1_608_615_725_000_000
    for (const id of ['g', 'c', 'a', 'f', 'b', 'e', 'd']) server.put('chats', chat(id), position)
    const pages = await collect(client({ limit: 2 }).pages('chats'))
    expect(pages.flatMap((p) => p.items.map((c) => c.id))).toEqual([
      'a',
      'b',
      'c',
      'd',
      'e',
      'f',
      'g',
    ])
    expect(pages).toHaveLength(4)
    expect(new URL(pages[0]!.nextPage).searchParams.get('start_id')).toBe('b')
  })

  it('follows the legacy zopim path shape and completes a bare origin', async () => {
    seedChats(1)
    const legacy = await collect(client({ baseUrl: `${server.origin}/api/v2` }).items('chats'))
    expect(legacy).toHaveLength(1)
    expect(new URL(server.requests.at(-1)!.url).pathname).toBe('/api/v2/incremental/chats')
    const bare = client({ baseUrl: `${server.origin}/` })
    expect(bare.baseUrl).toBe(`${server.origin}/api/v2/chat`)
    expect(await collect(bare.items('chats'))).toHaveLength(1)
  })

  it('keeps polling with follow and picks up items that arrive later', async () => {
    seedChats(2)
    const controller = new AbortController()
    const waits: number[] = []
    let polls = 0
    const sleep: Sleep = (ms) => {
      waits.push(ms)
      polls++
      if (polls === 1) server.put('chats', chat('late-1'))
      if (polls === 3) controller.abort()
      return Promise.resolve()
    }
    const seen: string[] = []
    const iteration = (async () => {
      for await (const page of client({ sleep }).pages('chats', {
        follow: true,
        intervalMs: 30_000,
        signal: controller.signal,
      })) {
        seen.push(...page.items.map((c) => String(c.id)))
      }
    })()
    await expect(iteration).rejects.toMatchObject({ name: 'AbortError' })
    expect(seen).toEqual(['chat-000', 'chat-001', 'late-1'])
    expect(waits).toEqual([30_000, 30_000, 30_000])
  })
})

describe('ExportClient units and exact microseconds', () => {
  it('sends start_time in seconds for seconds streams and in microseconds for agent_timeline', async () => {
    const c = client()
    const date = new Date('2020-12-22T05:42:05.123Z')
    expect(
      new URL(c.firstPageUrl('chats', { startTime: date })).searchParams.get('start_time'),
    ).toBe('1608615725.123')
    expect(
      new URL(c.firstPageUrl('agent_timeline', { startTime: date })).searchParams.get('start_time'),
    ).toBe('1608615725123000')
    expect(
      new URL(
        c.firstPageUrl('department_events', { startTime: 1512172860.657078 }),
      ).searchParams.get('start_time'),
    ).toBe('1512172860.657078')
    expect(
      new URL(
        c.firstPageUrl('conversions', { startTime: { epochMicros: 1608615725000001 } }),
      ).searchParams.get('start_time'),
    ).toBe('1608615725.000001')
    expect(new URL(c.firstPageUrl('agent_timeline')).searchParams.has('fields')).toBe(false)
    expect(new URL(c.firstPageUrl('conversions')).searchParams.get('fields')).toBe('conversions(*)')
  })

  it('refuses a startTime that is clearly milliseconds or microseconds', () => {
    expect(() => client().firstPageUrl('chats', { startTime: 1608615725123 })).toThrow(
      InvalidClientOptionsError,
    )
  })

  it('reads end_time exactly to the microsecond and loses nothing one microsecond apart', async () => {
    // Positions one microsecond apart around values a float cannot hold exactly.
    const base = 1_608_615_725_123_456
    const positions = [base, base + 1, base + 2, base + 1_000_000, base + 1_000_001]
    positions.forEach((p, i) =>
      server.put(
        'conversions',
        { id: `conv-${i}`, goal_id: 1, timestamp: '2020-12-22T05:42:05Z' },
        p,
      ),
    )
    const pages = await collect(client({ limit: 1 }).pages('conversions'))
    expect(pages.slice(0, 5).map((p) => p.endTime)).toEqual(positions)
    expect(pages.flatMap((p) => p.items.map((i) => i.id))).toEqual(
      positions.map((_, i) => `conv-${i}`),
    )
    expect(new URL(pages[0]!.nextPage).searchParams.get('start_time')).toBe('1608615725.123456')
  })

  it('pages the agent timeline by end of span in integer microseconds', async () => {
    server.put('agent_timeline', span(980824, '2018-04-29T11:02:33.286461Z'), 1_525_010_407_403_712)
    server.put(
      'agent_timeline',
      span(1730415, '2018-04-29T10:27:46.956531Z'),
      1_525_010_407_403_713,
    )
    const pages = await collect(
      client({ limit: 1 }).pages('agent_timeline', { startTime: 1_525_000_000 }),
    )
    expect(pages.map((p) => p.endTime)).toEqual([
      1_525_010_407_403_712, 1_525_010_407_403_713, 1_525_010_407_403_713,
    ])
    expect(pages.map((p) => p.endId)).toEqual(['980824', '1730415', '1730415'])
    expect(new URL(server.requests[0]!.url).searchParams.get('start_time')).toBe('1525000000000000')
  })
})

describe('ExportClient retries', () => {
  it('waits at least Retry-After seconds after a 429 and then continues', async () => {
    seedChats(3)
    server.faults.push({ kind: 'status', status: 429, retryAfter: '7' })
    const { waits, sleep } = recordingSleep()
    const retries: unknown[] = []
    const items = await collect(
      client({ sleep, random: () => 0, onRetry: (i) => retries.push(i) }).items('chats'),
    )
    expect(items).toHaveLength(3)
    expect(waits).toEqual([7000])
    expect(retries).toMatchObject([
      { reason: 'rate-limited', status: 429, retry: 1, delayMs: 7000 },
    ])
    // The retry asked for the same page again.
    const urls = server.requestsFor('chats').map((r) => r.url)
    expect(urls[1]).toBe(urls[0])
  })

  it('reads an HTTP-date Retry-After against the injected clock', async () => {
    seedChats(1)
    const now = Date.parse('2024-01-01T00:00:00Z')
    server.faults.push({ kind: 'status', status: 429, retryAfter: 'Mon, 01 Jan 2024 00:00:12 GMT' })
    const { waits, sleep } = recordingSleep()
    await collect(client({ sleep, random: () => 0, now: () => now }).items('chats'))
    expect(waits).toEqual([12_000])
  })

  it('keeps Retry-After as a floor but may wait longer when the backoff is longer', async () => {
    seedChats(1)
    server.faults.push(
      { kind: 'status', status: 503, retryAfter: '1' },
      { kind: 'status', status: 503, retryAfter: '1' },
      { kind: 'status', status: 503, retryAfter: '1' },
    )
    const { waits, sleep } = recordingSleep()
    await collect(
      client({
        sleep,
        random: () => 0.5,
        backoff: { initialMs: 1000, maxMs: 3000, multiplier: 2 },
      }).items('chats'),
    )
    // Ceilings 1000, 2000, 3000 (capped); half of each, but never below the 1000 ms Retry-After.
    expect(waits).toEqual([1000, 1000, 1500])
  })

  it('retries 5xx, dropped connections and cut-off bodies with capped exponential backoff', async () => {
    seedChats(4)
    server.faults.push(
      { kind: 'status', status: 500 },
      { kind: 'drop' },
      { kind: 'cut-body' },
      { kind: 'status', status: 502 },
    )
    const { waits, sleep } = recordingSleep()
    const reasons: string[] = []
    const items = await collect(
      client({
        sleep,
        random: () => 0.999,
        backoff: { initialMs: 100, maxMs: 500, multiplier: 3 },
        onRetry: (i) => reasons.push(i.reason),
      }).items('chats'),
    )
    expect(items.map((c) => c.id)).toEqual(server.ordered('chats').map((c) => c.id))
    expect(reasons).toEqual(['server-error', 'network', 'network', 'server-error'])
    // Full jitter with random ≈ 1: just under each ceiling 100, 300, 500 (cap), 500.
    expect(waits).toEqual([99, 299, 499, 499])
  })

  it('gives up after maxRetries and throws the last error with the attempt count', async () => {
    seedChats(1)
    for (let i = 0; i < 10; i++) server.faults.push({ kind: 'status', status: 500 })
    const error = await collect(client({ maxRetries: 3 }).items('chats')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ExportHttpError)
    expect(error).toMatchObject({ status: 500, attempts: 4 })
    expect(server.requests).toHaveLength(4)
  })

  it('retries a response that does not arrive within requestTimeoutMs', async () => {
    seedChats(1)
    server.faults.push({ kind: 'slow', ms: 2000 })
    const reasons: string[] = []
    const items = await collect(
      client({ requestTimeoutMs: 100, onRetry: (i) => reasons.push(i.reason) }).items('chats'),
    )
    expect(items).toHaveLength(1)
    expect(reasons).toEqual(['network'])
  })

  it('stops on abort even when the runtime never ends the body read (a stalled decoder)', async () => {
    // Headers arrive, the body never does, and this fetch ignores the signal once it has
    // answered: as Node's fetch can do while decoding a compressed body.
    const stalledFetch: typeof fetch = async () =>
      new Response(new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}) }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      })
    const controller = new AbortController()
    const pages = client({ fetch: stalledFetch, signal: controller.signal }).pages('chats')
    const outcome = collect(pages).then(
      () => 'ended',
      (e: unknown) => (e instanceof Error ? e.name : String(e)),
    )
    setTimeout(() => controller.abort(), 50)
    const timeout = new Promise((resolve) => setTimeout(() => resolve('still waiting'), 2000))
    expect(await Promise.race([outcome, timeout])).not.toBe('still waiting')
  })

  it.each([400, 401, 403, 404])(
    'never retries a %i and reports it with the body description',
    async (status) => {
      server.faults.push({
        kind: 'status',
        status,
        body: JSON.stringify({ error: 'Some Reason', description: 'what went wrong' }),
      })
      const error = await collect(client().items('chats')).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ExportHttpError)
      expect(error).toMatchObject({
        status,
        error: 'Some Reason',
        description: 'what went wrong',
        attempts: 1,
      })
      expect(server.requests).toHaveLength(1)
    },
  )

  it('reports a wrong token as a 401 without leaking the token', async () => {
    const error = await collect(client({ token: 'wrong-token-xyz' }).items('chats')).catch(
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(ExportHttpError)
    const httpError = error as ExportHttpError
    expect(httpError.status).toBe(401)
    expect(httpError.url).toContain('/incremental/chats')
    expect(`${httpError.message} ${httpError.url} ${JSON.stringify(httpError)}`).not.toContain(
      'wrong-token-xyz',
    )
    expect(server.requests).toHaveLength(1)
  })

  it('refuses a server that returns items with an unchanged next_page instead of looping', async () => {
    server.faults.push({
      kind: 'body',
      body: (url) =>
        JSON.stringify({ chats: [{ id: 'x' }], count: 1, end_time: 0, next_page: url }),
    })
    await expect(collect(client({ limit: 1 }).items('chats'))).rejects.toBeInstanceOf(
      ExportProtocolError,
    )
  })

  it('does not retry a 200 that is not an export page', async () => {
    server.faults.push({ kind: 'body', body: () => JSON.stringify({ hello: 'world' }) })
    await expect(collect(client().items('chats'))).rejects.toBeInstanceOf(ExportProtocolError)
    expect(server.requests).toHaveLength(1)
  })
})

describe('ExportClient abort', () => {
  it('aborts a request that hangs, without waiting for the server', async () => {
    server.faults.push({ kind: 'hang' })
    const controller = new AbortController()
    const iteration = collect(client({ signal: controller.signal }).items('chats'))
    await waitUntil(() => server.hanging === 1)
    controller.abort()
    await expect(iteration).rejects.toMatchObject({ name: 'AbortError' })
    expect(server.completed).toBe(0)
  })

  it('aborts a long Retry-After wait at once (the real sleep)', async () => {
    server.faults.push({ kind: 'status', status: 429, retryAfter: '3600' })
    const controller = new AbortController()
    const iteration = collect(
      client({
        sleep: abortableSleep,
        onRetry: () => setTimeout(() => controller.abort(), 10),
      }).pages('chats', {
        signal: controller.signal,
      }),
    )
    await expect(iteration).rejects.toMatchObject({ name: 'AbortError' })
    expect(server.requests).toHaveLength(1)
  })

  it('throws the abort reason when the signal carries one', async () => {
    const controller = new AbortController()
    const reason = new Error('shutting down')
    controller.abort(reason)
    await expect(collect(client().pages('chats', { signal: controller.signal }))).rejects.toBe(
      reason,
    )
    expect(server.requests).toHaveLength(0)
  })
})

describe('ExportClient options', () => {
  it('knows the same streams and time units as the server', () => {
    expect([...EXPORT_STREAMS]).toEqual([...STREAM_NAMES])
    for (const stream of EXPORT_STREAMS)
      expect(STREAM_TIME_UNIT[stream]).toBe(streamSpec(stream).unit)
  })

  it.each([
    [{ limit: 0 }],
    [{ limit: 1001 }],
    [{ baseUrl: 'ftp://example.com' }],
    [{ baseUrl: 'https://user:pw@example.com/api/v2/chat' }],
    [{ token: '' }],
    [{ maxRetries: -1 }],
  ])('rejects %j with a message naming the option', (bad) => {
    expect(() => client(bad as never)).toThrow(InvalidClientOptionsError)
  })

  it('surfaces a refused connection as a network error once retries are used up', async () => {
    await server.close()
    const error = await collect(client({ maxRetries: 1 }).items('chats')).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ExportNetworkError)
    expect(error).toMatchObject({ attempts: 2 })
    server = await FakeExportServer.start()
  })
})

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 5))
  if (!condition()) throw new Error('condition never became true')
}
