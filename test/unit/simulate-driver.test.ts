/**
 * The driver against a real loopback HTTP server: a minimal test double of the ingest endpoint
 * (node:http on port 0) that records every request, dedupes event ids like the real one, and can
 * be told to answer 429, 5xx or 401. Also pacing (speed) with a manual clock, aborting, and the
 * `simulate` CLI command.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Command } from 'commander'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { registerSimulate } from '../../src/cli/commands/simulate.js'
import { ManualClock } from '../../src/domain/clock.js'
import type { IngestEvent } from '../../src/domain/events.js'
import { parseIso, type Micros } from '../../src/domain/time.js'
import { createDirectory } from '../../src/simulate/directory.js'
import {
  defaultAccountNumber,
  runSimulation,
  simulateInto,
  simulationPeriod,
} from '../../src/simulate/driver.js'
import { IngestDeliveryError, parseRetryAfter } from '../../src/simulate/ingest-sink.js'
import { simulate } from '../../src/simulate/simulate-day.js'

const HOUR = 3_600_000_000
const START = parseIso('2020-12-22T09:00:00Z')!
const TOKEN = 'cx_test_0123456789abcdef'

interface Recorded {
  method: string
  url: string
  authorization: string | undefined
  contentType: string | undefined
  body: string
  status: number
}

type Scripted = {
  status: number
  headers?: Record<string, string>
  body?: unknown
  commit?: boolean
}

/** A minimal ingest endpoint: records requests; answers from `script` by request number. */
class IngestDouble {
  readonly requests: Recorded[] = []
  readonly applied = new Set<string>()
  /** Request number (0-based) → scripted answer; otherwise 200 with accepted/duplicates. */
  readonly script = new Map<number, Scripted>()
  private server: Server | undefined
  url = ''

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      void this.handle(req).then(({ status, headers, body }) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers })
        res.end(JSON.stringify(body))
      })
    })
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()))
  }

  private async handle(req: IncomingMessage) {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    const n = this.requests.length
    const scripted = this.script.get(n)
    const apply = () => {
      const events = JSON.parse(body) as IngestEvent[]
      let accepted = 0
      for (const e of events) {
        if (this.applied.has(e.id)) continue
        this.applied.add(e.id)
        accepted++
      }
      return { accepted, duplicates: events.length - accepted }
    }
    let status = 200
    let headers: Record<string, string> = {}
    let answer: unknown
    if (req.method !== 'POST' || req.url !== '/api/chat-export/v1/events') {
      status = 404
      answer = { error: 'Not Found', description: 'no such path' }
    } else if (scripted !== undefined) {
      // `commit`: the batch is applied but the answer is an error (a lost acknowledgement).
      if (scripted.commit) apply()
      status = scripted.status
      headers = scripted.headers ?? {}
      answer = scripted.body ?? { error: 'Internal Server Error', description: 'scripted failure' }
    } else {
      answer = { ...apply(), position: '2020-12-22T09:00:00.000001Z' }
    }
    this.requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization,
      contentType: req.headers['content-type'],
      body,
      status,
    })
    return { status, headers, body: answer }
  }
}

/** The events the driver must deliver for these options. */
function expected(seed: number, start: Micros, hours: number): IngestEvent[] {
  const directory = createDirectory({ seed, accountNumber: defaultAccountNumber(seed) })
  return [...simulate({ seed, directory, start, end: start + hours * HOUR, drain: true })]
}

/** A sleep that returns at once and records what it was asked to wait. */
function fakeSleep(clock?: ManualClock) {
  const waits: number[] = []
  const sleep = (ms: number, signal?: AbortSignal) => {
    waits.push(ms)
    clock?.advance(ms * 1000)
    if (signal?.aborted) return Promise.reject(signal.reason as Error)
    return Promise.resolve()
  }
  return { waits, sleep }
}

describe('simulate: driver over HTTP', () => {
  let server: IngestDouble
  beforeEach(async () => {
    server = new IngestDouble()
    await server.start()
  })
  afterEach(async () => {
    await server.stop()
  })

  it('delivers every event in order, retrying 429 (Retry-After) and 5xx with identical batches', async () => {
    server.script.set(1, { status: 429, headers: { 'retry-after': '7' } })
    server.script.set(3, { status: 500 })
    server.script.set(4, { status: 503, headers: { 'retry-after': '2' } })
    const { waits, sleep } = fakeSleep()
    const retries: (number | null)[] = []
    const summary = await runSimulation({
      baseUrl: `${server.url}/`,
      token: TOKEN,
      seed: 21,
      start: START,
      hours: 2,
      batchSize: 100,
      sleep,
      onRetry: (r) => retries.push(r.status),
    })

    const want = expected(21, START, 2)
    const delivered = server.requests
      .filter((r) => r.status === 200)
      .flatMap((r) => JSON.parse(r.body) as IngestEvent[])
    expect(delivered).toEqual(want)
    // Each failed request is followed by the very same bytes.
    server.requests.forEach((r, i) => {
      if (r.status !== 200) expect(server.requests[i + 1]?.body).toBe(r.body)
    })
    expect(server.requests.map((r) => r.status).slice(0, 6)).toEqual([200, 429, 200, 500, 503, 200])
    expect(retries).toEqual([429, 500, 503])
    // Retry-After is a floor: exactly 7 s here (the first backoff step is at most 0.5 s).
    expect(waits[0]).toBe(7000)
    expect(waits[1]).toBeLessThan(7000)
    expect(waits[2]).toBeGreaterThanOrEqual(2000)
    for (const r of server.requests) {
      expect(r.method).toBe('POST')
      expect(r.url).toBe('/api/chat-export/v1/events')
      expect(r.authorization).toBe(`Bearer ${TOKEN}`)
      expect(r.contentType).toBe('application/json')
    }
    expect(summary).toMatchObject({
      events: want.length,
      accepted: want.length,
      duplicates: 0,
      retries: 3,
      aborted: false,
    })
    expect(summary.batches).toBe(Math.ceil(want.length / 100))
  })

  it('a batch applied before its answer was lost counts as duplicates when resent', async () => {
    server.script.set(2, { status: 502, commit: true })
    const { sleep } = fakeSleep()
    const summary = await runSimulation({
      baseUrl: server.url,
      token: TOKEN,
      seed: 22,
      start: START,
      hours: 1,
      batchSize: 50,
      sleep,
    })
    const total = expected(22, START, 1).length
    expect(server.applied.size).toBe(total)
    expect(summary.duplicates).toBe(50)
    expect(summary.accepted).toBe(total - 50)
    expect(summary.events).toBe(total)
  })

  it('does not retry a refusal, and says why without showing the token', async () => {
    server.script.set(0, {
      status: 401,
      headers: { 'www-authenticate': 'Bearer' },
      body: { error: 'Unauthorized', description: 'The token is unknown or revoked.' },
    })
    const { sleep } = fakeSleep()
    const run = runSimulation({
      baseUrl: server.url,
      token: TOKEN,
      seed: 1,
      start: START,
      hours: 1,
      sleep,
    })
    const error = await run.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(IngestDeliveryError)
    expect(error).toMatchObject({ status: 401, description: 'The token is unknown or revoked.' })
    expect((error as Error).message).toMatch(/401 Unauthorized: The token is unknown or revoked/)
    expect((error as Error).message).not.toContain(TOKEN)
    expect(server.requests).toHaveLength(1)
  })

  it('gives up after maxAttempts when the server keeps failing', async () => {
    for (let i = 0; i < 10; i++) server.script.set(i, { status: 503 })
    const { waits, sleep } = fakeSleep()
    const error = await runSimulation({
      baseUrl: server.url,
      token: TOKEN,
      seed: 1,
      start: START,
      hours: 1,
      sleep,
      maxAttempts: 3,
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(IngestDeliveryError)
    expect((error as Error).message).toMatch(/after 3 attempts; last: 503/)
    expect(server.requests).toHaveLength(3)
    // Exponential backoff: the second wait is longer than the first.
    expect(waits).toHaveLength(2)
    expect(waits[1]!).toBeGreaterThan(waits[0]!)
  })

  it('retries when the server cannot be reached, then delivers', async () => {
    const { sleep } = fakeSleep()
    let calls = 0
    const flaky: typeof fetch = (input, init) => {
      calls++
      if (calls === 2) return Promise.reject(new TypeError('fetch failed'))
      return fetch(input, init)
    }
    const summary = await runSimulation({
      baseUrl: server.url,
      token: TOKEN,
      seed: 23,
      start: START,
      hours: 1,
      batchSize: 200,
      fetch: flaky,
      sleep,
    })
    expect(summary.retries).toBe(1)
    expect(server.applied.size).toBe(expected(23, START, 1).length)
  })

  it('the simulate command posts a run and prints progress lines', async () => {
    const lines: string[] = []
    const { sleep } = fakeSleep()
    const program = new Command().exitOverride()
    registerSimulate(program, {
      print: (l) => lines.push(l),
      sleep,
      environment: { CHAT_EXPORT_TOKEN: TOKEN },
    })
    await program.parseAsync(
      [
        'simulate',
        '--url',
        server.url,
        '--seed',
        '24',
        '--from',
        '2020-12-22T09:00:00Z',
        '--hours',
        '3',
      ],
      { from: 'user' },
    )
    expect(process.exitCode ?? 0).toBe(0)
    const want = expected(24, START, 3)
    expect(server.applied.size).toBe(want.length)
    expect(server.requests[0]?.authorization).toBe(`Bearer ${TOKEN}`)
    expect(lines[0]).toMatch(
      /^simulating 2020-12-22T09:00:00Z to 2020-12-22T12:00:00Z \(seed 24, account \d{7}, speed max\)/,
    )
    expect(lines.some((l) => l.startsWith('2020-12-22T10:00:00Z  '))).toBe(true)
    expect(lines[lines.length - 1]).toMatch(
      new RegExp(`^done: ${want.length} events in \\d+ batches`),
    )
    expect(lines.join('\n')).not.toContain(TOKEN)
  })
})

describe('simulate: pacing and stopping', () => {
  it('at speed 60 each event is sent when its simulated time comes, not before', async () => {
    const clock = new ManualClock(parseIso('2024-05-06T12:00:00Z')!)
    const wallStart = clock.now()
    const { waits, sleep } = fakeSleep(clock)
    const sends: { at: Micros; events: IngestEvent[] }[] = []
    const summary = await simulateInto(
      (events) => {
        sends.push({ at: clock.now(), events })
        return Promise.resolve()
      },
      { seed: 31, speed: 60, start: START, hours: 2, clock, sleep },
    )
    const due = (e: IngestEvent) => wallStart + (parseIso(e.timestamp)! - START) / 60
    for (const send of sends) {
      for (const e of send.events) expect(due(e)).toBeLessThanOrEqual(send.at)
      // Not late either: the batch goes out as soon as its last event is due (to the millisecond).
      expect(send.at - Math.max(...send.events.map(due))).toBeLessThan(1000)
    }
    // The same events as an unpaced run, in the same order.
    expect(sends.flatMap((s) => s.events)).toEqual(expected(31, START, 2))
    // Two simulated hours took two (manual) minutes, spent in waits.
    expect(clock.now() - wallStart).toBeGreaterThanOrEqual((2 * HOUR) / 60)
    expect(waits.length).toBeGreaterThan(10)
    expect(summary.aborted).toBe(false)
  })

  it('an abort stops after the batch in flight, also during a wait', async () => {
    const controller = new AbortController()
    const sent: IngestEvent[][] = []
    const summary = await simulateInto(
      (events) => {
        sent.push(events)
        if (sent.length === 2) controller.abort()
        return Promise.resolve({ accepted: events.length, duplicates: 0 })
      },
      { seed: 32, start: START, hours: 24, batchSize: 100, signal: controller.signal },
    )
    expect(summary).toMatchObject({ aborted: true, batches: 2, events: 200 })
    expect(sent).toHaveLength(2)

    const clock = new ManualClock(0)
    const paced = new AbortController()
    const waiting = simulateInto(() => Promise.resolve(), {
      seed: 32,
      speed: 1,
      start: START,
      hours: 24,
      clock,
      signal: paced.signal,
      sleep: (_ms, signal) =>
        new Promise((_resolve, reject) => {
          signal?.addEventListener('abort', () => reject(new Error('aborted')))
          paced.abort()
        }),
    })
    await expect(waiting).resolves.toMatchObject({ aborted: true })
  })

  it('without a start, the run ends about now and never stamps events in the future', () => {
    const now = parseIso('2024-05-06T12:00:00Z')!
    expect(simulationPeriod({ speed: 'max', hours: 24 }, now)).toEqual({
      start: now - 24 * HOUR,
      end: now,
    })
    // Real time: live from now on.
    expect(simulationPeriod({ speed: 1, hours: 8 }, now)).toEqual({
      start: now,
      end: now + 8 * HOUR,
    })
    // 60×: a 24-hour run takes 24 minutes; its last event is stamped when it is sent.
    const { start, end } = simulationPeriod({ speed: 60, hours: 24 }, now)
    expect(end - start).toBe(24 * HOUR)
    expect(Math.abs(end - (now + (24 * HOUR) / 60))).toBeLessThan(1_000_000)
    expect(() => simulationPeriod({ speed: 'max', hours: Infinity }, now)).toThrow(/numeric speed/)
    expect(() => simulationPeriod({ speed: 0, hours: 1 }, now)).toThrow(/speed/)
  })

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2024-05-06T12:00:00Z')
    expect(parseRetryAfter('7', now)).toBe(7000)
    expect(parseRetryAfter('Mon, 06 May 2024 12:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter(null, now)).toBe(0)
    expect(parseRetryAfter('soon', now)).toBe(0)
  })
})
