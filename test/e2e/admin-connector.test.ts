/**
 * A connector developer's session, through the admin API only: create an account, seed it, script
 * every kind of fault, watch each one in the request journal (list and live stream) and see the
 * export client recover with exactly the data a fault-free read gives. Faults never alter stored
 * data and a faulted page never moves a cursor. Then reset to empty, and move a manual clock.
 * Real HTTP over loopback against the server the CLI runs (startServer), on a real SQLite file.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ExportClient } from '../../src/client/index.js'
import type { ExportItem } from '../../src/client/index.js'
import { loadServeConfig } from '../../src/config/config.js'
import { ManualClock, systemClock } from '../../src/domain/clock.js'
import { startServer, type RunningServer } from '../../src/server/start-server.js'

const dir = mkdtempSync(join(tmpdir(), 'chat-export-admin-'))
const ADMIN = 'cxa_test-admin-token-for-the-connector-session-0000'
const logger = pino({ level: 'silent' })
let server: RunningServer
let token = ''

async function admin(path: string, init: { method?: string; body?: unknown } = {}) {
  const res = await fetch(`${server.url}/api/chat-export/v1/admin${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  })
  return { status: res.status, body: (await res.json()) as Record<string, any> }
}

function client(onRetry?: () => void): ExportClient {
  return new ExportClient({
    baseUrl: server.url,
    token,
    limit: 100,
    backoff: { initialMs: 20, maxMs: 200 },
    requestTimeoutMs: 5000,
    ...(onRetry ? { onRetry } : {}),
  })
}

async function readAll(stream: 'chats' | 'agent_timeline', onRetry?: () => void) {
  const items: ExportItem[] = []
  for await (const item of client(onRetry).items(stream)) items.push(item)
  return items
}

async function lastPosition(): Promise<number> {
  const { body } = await admin('/accounts')
  return (body.accounts as Array<{ name: string; last_position: number }>).find(
    (a) => a.name === 'connector',
  )!.last_position
}

beforeAll(async () => {
  const config = loadServeConfig(
    { store: `sqlite:${join(dir, 'admin.db')}`, port: '0', logLevel: 'silent' },
    {},
  )
  server = await startServer(config, { clock: systemClock(), logger, adminToken: ADMIN })
})
afterAll(async () => {
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('admin API: a connector session', () => {
  let baseline: ExportItem[] = []
  let baselineTimeline: ExportItem[] = []
  let seededPosition = 0

  it('creates an account and seeds it atomically from the simulator', async () => {
    const created = await admin('/accounts', { method: 'POST', body: { name: 'connector' } })
    expect(created.status).toBe(201)
    token = created.body.token as string
    const other = await admin('/accounts', { method: 'POST', body: { name: 'bystander' } })
    const seeded = await admin('/accounts/connector/reset', {
      method: 'POST',
      body: { seed: 3, days: 0.5, arrivals_per_hour: 40 },
    })
    expect(seeded.status, JSON.stringify(seeded.body)).toBe(200)
    expect(seeded.body.events).toBeGreaterThan(100)
    await admin('/accounts/bystander/reset', {
      method: 'POST',
      body: { seed: 4, days: 0.1, arrivals_per_hour: 40 },
    })
    expect(other.status).toBe(201)
    // A reset is one transaction that other accounts' writes wait for: its size is capped.
    const huge = await admin('/accounts/bystander/reset', {
      method: 'POST',
      body: { seed: 5, days: 31, arrivals_per_hour: 10_000 },
    })
    expect(huge.status).toBe(400)
    expect(huge.body.description).toContain('2000 arrivals')
    baseline = await readAll('chats')
    baselineTimeline = await readAll('agent_timeline')
    expect(baseline.length).toBeGreaterThan(20)
    seededPosition = await lastPosition()
  })

  const kinds: Array<{ fault: Record<string, unknown>; label: string }> = [
    { fault: { kind: 'status', status: 429, retry_after: 1 }, label: '429;retry-after=1' },
    { fault: { kind: 'status', status: 500 }, label: '500' },
    { fault: { kind: 'status', status: 502 }, label: '502' },
    { fault: { kind: 'status', status: 503, retry_after: 0 }, label: '503;retry-after=0' },
    { fault: { kind: 'status', status: 504 }, label: '504' },
    { fault: { kind: 'latency', ms: 300 }, label: 'latency=300' },
    { fault: { kind: 'reset', when: 'before_body' }, label: 'reset:before_body' },
    { fault: { kind: 'reset', when: 'mid_body' }, label: 'reset:mid_body' },
    { fault: { kind: 'body', damage: 'truncated' }, label: 'body:truncated' },
    { fault: { kind: 'body', damage: 'malformed' }, label: 'body:malformed' },
    { fault: { kind: 'body', damage: 'wrong_count' }, label: 'body:wrong_count' },
  ]
  for (const { fault, label } of kinds) {
    it(`recovers from ${label} (fail 2 times then succeed) with the same data`, async () => {
      const put = await admin('/accounts/connector/faults', {
        method: 'PUT',
        body: [
          { match: { stream: 'chats' }, trigger: { type: 'fail_then_succeed', count: 2 }, fault },
        ],
      })
      expect(put.status, JSON.stringify(put.body)).toBe(200)
      let retries = 0
      const items = await readAll('chats', () => retries++)
      expect(items).toEqual(baseline)
      if (fault.kind !== 'latency') expect(retries).toBe(2)
      const listed = await admin('/accounts/connector/faults')
      expect(listed.body.faults[0]).toMatchObject({ fired: 2, label })
      const journal = await admin(`/accounts/connector/requests?faulted=true&limit=2`)
      const entries = journal.body.requests as Array<Record<string, any>>
      expect(entries).toHaveLength(2)
      for (const entry of entries) {
        expect(entry.fault).toBe(label)
        expect(entry.path).toBe('/api/v2/chat/incremental/chats')
        expect(entry.query).toContain('start_time=')
        // A faulted page never moves a cursor: it is journaled without one.
        expect(entry.cursor_after).toBeNull()
      }
      expect(await lastPosition()).toBe(seededPosition)
    }, 30_000)
  }

  it('every Kth request, by stream; clear; data unchanged', async () => {
    await admin('/accounts/connector/faults', {
      method: 'PUT',
      body: [
        {
          match: { stream: 'agent_timeline' },
          trigger: { type: 'every', k: 3 },
          fault: { kind: 'status', status: 500 },
        },
      ],
    })
    let retries = 0
    expect(await readAll('agent_timeline', () => retries++)).toEqual(baselineTimeline)
    const pages = Math.ceil(baselineTimeline.length / 100)
    expect(retries).toBeGreaterThanOrEqual(Math.floor(pages / 3))
    expect(await readAll('chats')).toEqual(baseline) // another stream: no fault
    expect((await admin('/accounts/connector/faults', { method: 'DELETE' })).body.faults).toEqual(
      [],
    )
    expect(await readAll('agent_timeline', () => retries++)).toEqual(baselineTimeline)
  })

  it('a faulted ingest writes nothing; body faults never apply to writes', async () => {
    await admin('/accounts/connector/faults', {
      method: 'PUT',
      body: [
        {
          match: { stream: 'ingest' },
          trigger: { type: 'next', count: 1 },
          fault: { kind: 'status', status: 503 },
        },
        {
          match: { stream: 'ingest' },
          trigger: { type: 'next', count: 5 },
          fault: { kind: 'body', damage: 'truncated' },
        },
      ],
    })
    const event = {
      id: 'admin-test-agent-1',
      type: 'agent.upserted',
      timestamp: new Date(Date.now() - 1000).toISOString(),
      agent: {
        id: 777001,
        display_name: 'Test Agent',
        email: 'agent@example.com',
        enabled: true,
        role: 'agent',
      },
    }
    const post = () =>
      fetch(`${server.url}/api/chat-export/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify([event]),
      })
    const faulted = await post()
    expect(faulted.status).toBe(503)
    expect(await lastPosition()).toBe(seededPosition)
    const second = await post()
    const text = await second.text()
    expect(() => JSON.parse(text) as unknown, text).not.toThrow()
    await admin('/accounts/connector/faults', { method: 'DELETE' })
  })

  it('journals each page with the size it sent and its exact end cursor, compressed or not', async () => {
    const url = `${server.url}/api/v2/chat/incremental/chats?fields=chats(*)&limit=3&start_time=0`
    const pages: Array<{ coding: string; bytes: number; end_time: number; end_id: string }> = []
    for (const coding of ['identity', 'br']) {
      const res = await fetch(url, {
        headers: { authorization: `Bearer ${token}`, 'accept-encoding': coding },
      })
      expect(res.status).toBe(200)
      const text = await res.text()
      const page = JSON.parse(text) as { end_time: number; end_id: string }
      pages.push({ coding, bytes: Buffer.byteLength(text), ...page })
    }
    // The compressed body is read from a copy in the background: give the journal a moment.
    await new Promise((r) => setTimeout(r, 200))
    const { body } = await admin('/accounts/connector/requests?limit=10')
    const entries = (body.requests as Array<Record<string, any>>).filter(
      (e) => e.path === '/api/v2/chat/incremental/chats' && e.query.includes('limit=3'),
    )
    expect(entries.length).toBeGreaterThanOrEqual(2)
    for (const page of pages) {
      // chats pages end at a decimal number of seconds; the journal keeps every digit.
      expect(entries.some((e) => e.cursor_after?.end_time === page.end_time)).toBe(true)
      expect(entries.some((e) => e.cursor_after?.end_id === page.end_id)).toBe(true)
    }
    const identity = pages[0]!
    expect(entries.some((e) => e.bytes === identity.bytes)).toBe(true)
  })

  it('streams the journal live as server-sent events, without tokens', async () => {
    const abort = new AbortController()
    const res = await fetch(
      `${server.url}/api/chat-export/v1/admin/accounts/connector/requests/stream?path=/api/v2`,
      { headers: { authorization: `Bearer ${ADMIN}` }, signal: abort.signal },
    )
    expect(res.headers.get('content-type')).toContain('text/event-stream')
    const reader = res.body!.getReader()
    let text = ''
    const request = fetch(`${server.url}/api/v2/chat/incremental/chats?limit=1&start_time=0`, {
      headers: { authorization: `Bearer ${token}` },
    })
    await request
    while (!text.includes('event: request')) {
      const { value, done } = await reader.read()
      if (done) break
      text += new TextDecoder().decode(value)
    }
    abort.abort()
    expect(text).toContain('"query":"limit=1&start_time=0"')
    expect(text).toContain('"cursor_after":{"end_time"')
    expect(text).not.toContain(token)
    const all = JSON.stringify((await admin('/accounts/connector/requests')).body)
    expect(all).not.toContain(token.slice(17))
    expect(all).not.toContain('agent@example.com')
  })

  it('refuses bad rules and other accounts, by catalogue code', async () => {
    const bad = await admin('/accounts/connector/faults', {
      method: 'PUT',
      body: [{ trigger: { type: 'every', k: 0 }, fault: { kind: 'status', status: 418 } }],
    })
    expect(bad.status).toBe(400)
    expect(bad.body.description).toMatch(/fault rule #0/)
    const foreign = await fetch(
      `${server.url}/api/chat-export/v1/admin/accounts/bystander/faults`,
      { headers: { authorization: `Bearer ${token}` } },
    )
    expect(foreign.status).toBe(403)
    const clock = await admin('/clock', { method: 'POST', body: { advance_seconds: 5 } })
    expect(clock.status).toBe(409)
  })

  it('resets to empty: exports start again from position 0 for that account only', async () => {
    const before = await fetch(`${server.url}/api/v2/chat/incremental/chats?start_time=0`, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(((await before.json()) as { count: number }).count).toBeGreaterThan(0)
    const reset = await admin('/accounts/connector/reset', { method: 'POST' })
    expect(reset.body).toMatchObject({ seeded: false, events: 0, last_position: 0 })
    expect(await readAll('chats')).toEqual([])
    const accounts = (await admin('/accounts')).body.accounts as Array<{
      name: string
      last_position: number
    }>
    expect(accounts.find((a) => a.name === 'bystander')?.last_position).toBeGreaterThan(0)
  })
})

describe('admin API: --clock manual', () => {
  it('moves time only when told, so the five-minute rule is testable without waiting', async () => {
    const start = systemClock().now()
    const clock = new ManualClock(start)
    const config = loadServeConfig(
      {
        store: `sqlite:${join(dir, 'clock.db')}`,
        port: '0',
        logLevel: 'silent',
        clock: 'manual',
        minStartAge: '300',
      },
      {},
    )
    const manual = await startServer(config, { clock, logger, adminToken: ADMIN })
    try {
      const call = async (path: string, body?: unknown) =>
        fetch(`${manual.url}/api/chat-export/v1/admin${path}`, {
          method: body === undefined ? 'GET' : 'POST',
          headers: { authorization: `Bearer ${ADMIN}` },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        })
      const { token: owner } = (await (await call('/accounts', { name: 'clocked' })).json()) as {
        token: string
      }
      const startTime = Math.floor(start / 1e6) - 60 // one minute old: too recent for 300 s
      const url = `${manual.url}/api/v2/chat/incremental/chats?start_time=${startTime}`
      const headers = { authorization: `Bearer ${owner}` }
      expect((await fetch(url, { headers })).status).toBe(400)
      const moved = (await (await call('/clock', { advance_seconds: 600 })).json()) as {
        mode: string
        now: string
      }
      expect(moved.mode).toBe('manual')
      expect(Date.parse(moved.now) * 1000).toBeGreaterThanOrEqual(start + 600e6 - 1000)
      expect((await fetch(url, { headers })).status).toBe(200)
      const back = await call('/clock', { set: '2000-01-01T00:00:00Z' })
      expect(back.status).toBe(400)
      // Past the supported range (2255): refused, never a clock no time can be written for.
      const far = await call('/clock', { set: '9999-12-31T23:59:59.999999Z' })
      expect(far.status).toBe(400)
      expect(((await far.json()) as { description: string }).description).toContain('2255')
      const tail = await call('/accounts/clocked/tail?after=9999-12-31T23:59:59.999999Z')
      expect(tail.status).toBe(400)
      expect(((await tail.json()) as { description: string }).description).toContain('after')
      expect((await call('/accounts/clocked/tail')).status).toBe(200)
    } finally {
      await manual.close()
    }
  })
})
