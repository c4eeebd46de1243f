/**
 * Typed destination tables end to end: a real server with a simulated morning, `chat-export sync
 * --typed-tables` into SQLite and PostgreSQL, then new, changed and deleted chats and a second
 * (incremental) sync. The typed tables must then equal those of a fresh full sync, also for a
 * destination that got `--typed-tables` only on its second run (filled from `data`), and the
 * example queries of docs/sync.md must answer what the server's items say.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { STREAM_TABLES } from '../../src/sync/typed-tables.js'
import { runCli } from '../support/cli.js'
import { freshPostgresUrl, postgresTestServerAvailable } from '../support/postgres.js'
import {
  createAccountAndToken,
  postEvents,
  serverSnapshot,
  simulate,
  startServe,
  type Item,
  type ServerProcess,
  type Snapshot,
} from '../support/sync-e2e.js'

const dir = mkdtempSync(join(tmpdir(), 'chat-export-sync-typed-'))
let server: ServerProcess
let token = ''

type Rows = Record<string, unknown>[]
type Dump = Record<string, Rows>

interface Target {
  name: string
  kind: 'sqlite' | 'postgres'
  mode: 'flag' | 'remove'
  to: string
}

/** Every typed table (stream tables and child tables), rows in key order. */
const TABLES = Object.values(STREAM_TABLES).flatMap((t) => [
  { name: t.stream, order: t.stream === 'agent_timeline' ? 'agent_id, start_time' : 'id' },
  ...t.children.map((c) => ({ name: c.name, order: `${c.parentKey}, "position"` })),
])

async function query(target: Target, sql: string): Promise<Rows> {
  if (target.kind === 'sqlite') {
    const db = new Database(target.to.slice('sqlite:'.length), { readonly: true })
    try {
      return db.prepare(sql).all() as Rows
    } finally {
      db.close()
    }
  }
  const client = new pg.Client({ connectionString: target.to })
  await client.connect()
  try {
    return (await client.query(sql)).rows as Rows
  } finally {
    await client.end()
  }
}

async function dump(target: Target): Promise<Dump> {
  const result: Dump = {}
  for (const table of TABLES) {
    result[table.name] = await query(
      target,
      `SELECT * FROM "${table.name}" ORDER BY ${table.order}`,
    )
  }
  return result
}

async function sync(target: Target, typed = true): Promise<void> {
  const args = ['sync', '--from', server.url, '--to', target.to, '--deleted', target.mode]
  if (typed) args.push('--typed-tables')
  const result = await runCli([...args, '--limit', '50', '--quiet'], undefined, {
    CHAT_EXPORT_TOKEN: token,
  })
  expect(result.code, `${target.name}: ${result.stderr}`).toBe(0)
}

async function targets(prefix: string): Promise<Target[]> {
  const list: Target[] = [
    {
      name: `${prefix} sqlite flag`,
      kind: 'sqlite',
      mode: 'flag',
      to: `sqlite:${join(dir, `${prefix}-f.db`)}`,
    },
    {
      name: `${prefix} sqlite remove`,
      kind: 'sqlite',
      mode: 'remove',
      to: `sqlite:${join(dir, `${prefix}-r.db`)}`,
    },
  ]
  if (postgresTestServerAvailable()) {
    list.push({
      name: `${prefix} postgres remove`,
      kind: 'postgres',
      mode: 'remove',
      to: await freshPostgresUrl(),
    })
    list.push({
      name: `${prefix} postgres flag`,
      kind: 'postgres',
      mode: 'flag',
      to: await freshPostgresUrl(),
    })
  }
  return list
}

/** The documented example queries, by name and dialect. */
function documentedQueries(): { name: string; dialects: string[]; sql: string }[] {
  const text = readFileSync(new URL('../../docs/sync.md', import.meta.url), 'utf8')
  const found = [...text.matchAll(/```sql\n-- query: (\S+) \(([^)]+)\)\n([\s\S]*?)```/g)]
  return found.map((m) => ({
    name: m[1] ?? '',
    dialects: (m[2] ?? '').split(',').map((d) => d.trim()),
    sql: m[3] ?? '',
  }))
}

/** What each example query must answer, computed from the server's items. */
function expectedAnswers(snapshot: Snapshot): Record<string, Rows> {
  const live = [...snapshot.chats.values()].filter((c) => c.deleted !== true)
  const perHour = new Map<string, number>()
  for (const c of live.filter((c) => c.type === 'chat')) {
    const hour = String(c.timestamp).slice(0, 13)
    perHour.set(hour, (perHour.get(hour) ?? 0) + 1)
  }
  const firsts = new Map<string, number[]>()
  for (const c of live) {
    for (const e of (c.engagements as Item[] | undefined) ?? []) {
      const first = (e.response_time as Item | undefined)?.first
      if (typeof first !== 'number') continue
      firsts.set(String(e.agent_id), [...(firsts.get(String(e.agent_id)) ?? []), first])
    }
  }
  const online = new Map<string, number>()
  for (const s of snapshot.agent_timeline.values()) {
    if (s.status !== 'online') continue
    const key = `${String(s.agent_id)}|${String(s.start_time).slice(0, 10)}`
    online.set(key, (online.get(key) ?? 0) + Number(s.duration))
  }
  const sorted = <T>(m: Map<string, T>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return {
    'chats-per-hour': sorted(perHour).map(([hour, chats]) => ({ hour, chats })),
    'first-response-by-agent': sorted(firsts).map(([agent_id, list]) => ({
      agent_id,
      engagements: list.length,
      avg_first_response_s: list.reduce((a, b) => a + b, 0) / list.length,
    })),
    'online-hours-per-agent-per-day': [...online]
      .map(([key, seconds]) => {
        const [agent, day] = key.split('|')
        return { agent_id: Number(agent), day, hours_online: seconds / 3600 }
      })
      .sort((a, b) => a.agent_id - b.agent_id || (a.day! < b.day! ? -1 : 1)),
  }
}

/** Rows as plain values: numbers from numeric/bigint strings, so both databases compare alike. */
function plain(rows: Rows): Rows {
  return rows.map((row) =>
    Object.fromEntries(
      Object.entries(row).map(([k, v]) => [
        k,
        typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) && k !== 'agent_id' ? Number(v) : v,
      ]),
    ),
  )
}

function expectClose(actual: Rows, expected: Rows, what: string): void {
  expect(actual.length, what).toBe(expected.length)
  actual.forEach((row, i) => {
    const want = expected[i] ?? {}
    for (const [key, value] of Object.entries(want)) {
      if (typeof value === 'number' && !Number.isInteger(value)) {
        // The query rounds (1 or 2 decimals); the expectation is exact.
        expect(Math.abs(Number(row[key]) - value), `${what} row ${i} ${key}`).toBeLessThanOrEqual(
          0.051,
        )
      } else {
        expect(String(row[key]), `${what} row ${i} ${key}`).toBe(String(value))
      }
    }
  })
}

beforeAll(async () => {
  const store = `sqlite:${join(dir, 'server.db')}`
  token = await createAccountAndToken(store)
  server = await startServe(store)
  await simulate(server.url, token, { seed: 5, from: '2024-05-06T08:00:00Z', hours: 2 })
})

afterAll(async () => {
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
})

describe('typed destination tables', () => {
  it('after updates and deletions equal a fresh full sync, and answer the documented queries', async () => {
    const incremental = await targets('inc')
    const late = (await targets('late')).slice(0, 1)
    for (const t of incremental) await sync(t)
    for (const t of late) await sync(t, false)

    // New chats, then changes to synced ones: tags, a comment, deletions.
    await simulate(server.url, token, { seed: 5, from: '2024-05-06T11:00:00Z', hours: 1 })
    const before = await serverSnapshot(server.url, token)
    const chats = [...before.chats.values()]
      .filter((c) => c.type === 'chat' && c.deleted !== true)
      .sort((a, b) => String(a.id).localeCompare(String(b.id)))
    const at = '2024-05-06T13:00:00Z'
    const events: Item[] = [
      ...chats.slice(0, 3).map((c, i) => ({
        id: `typed-tag-${i}`,
        type: 'chat.tags_changed',
        timestamp: at,
        chat_id: c.id,
        tags: [...(c.tags as string[]), 'typed'],
      })),
      {
        id: 'typed-comment',
        type: 'chat.commented',
        timestamp: at,
        chat_id: chats[3]?.id,
        comment: 'ok',
      },
      ...chats.slice(4, 7).map((c, i) => ({
        id: `typed-del-${i}`,
        type: 'chat.deleted',
        timestamp: at,
        chat_id: c.id,
      })),
    ]
    await postEvents(server.url, token, events)
    const snapshot = await serverSnapshot(server.url, token)

    for (const t of [...incremental, ...late]) await sync(t)
    const fresh = await targets('fresh')
    for (const t of fresh) await sync(t)

    const tagged = await query(
      incremental[0]!,
      `SELECT count(*) AS n FROM chat_tags WHERE tag = 'typed'`,
    )
    expect(Number(tagged[0]?.n)).toBe(3)
    for (const [i, t] of incremental.entries()) {
      const twin = fresh[i]!
      expect(await dump(t), `${t.name} = ${twin.name}`).toEqual(await dump(twin))
    }
    expect(await dump(late[0]!), 'filled from data').toEqual(await dump(fresh[0]!))

    const answers = expectedAnswers(snapshot)
    const queries = documentedQueries()
    expect(queries.map((q) => q.name).sort()).toEqual([
      'chats-per-hour',
      'chats-per-hour',
      'first-response-by-agent',
      'online-hours-per-agent-per-day',
    ])
    for (const t of incremental) {
      const dialect = t.kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'
      for (const q of queries.filter((q) => q.dialects.includes(dialect))) {
        const expected = answers[q.name] ?? []
        expect(expected.length, q.name).toBeGreaterThan(0)
        expectClose(plain(await query(t, q.sql)), expected, `${t.name}: ${q.name}`)
      }
    }
  })
})
