/**
 * Shared pieces of the sync tests: source data for the fake server, and reading back what a
 * destination holds, independently of the code under test (plain SQL and plain file reads).
 */
import { readFileSync } from 'node:fs'
import Database from 'better-sqlite3'
import pg from 'pg'
import type { ExportStream } from '../../src/client/index.js'
import { EXPORT_STREAMS } from '../../src/client/index.js'
import { formatIsoMicros, parseIso } from '../../src/domain/time.js'
import type { FakeExportServer } from './client-fake-server.js'
import { chat, span } from './client-fake-server.js'

export type DestinationKind = 'sqlite' | 'jsonl' | 'postgres'

/** A deterministic random source for data and crash schedules. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Fills every stream of the fake server; some chats are deleted tombstones. */
export function seedSource(
  server: FakeExportServer,
  counts: Partial<Record<ExportStream, number>> = {},
): void {
  const n = (s: ExportStream, d: number) => counts[s] ?? d
  for (let i = 0; i < n('chats', 23); i++) {
    server.put('chats', chat(`chat-${i}`, { deleted: i % 7 === 3, tags: [`t${i % 3}`] }))
  }
  for (let i = 0; i < n('conversions', 9); i++) {
    server.put('conversions', {
      id: `conv-${i}`,
      goal_id: i,
      timestamp: '2018-05-07T07:57:39Z',
      attribution: {},
    })
  }
  for (let i = 0; i < n('department_events', 8); i++) {
    server.put('department_events', {
      id: `dep-${i}`,
      department_id: i % 2 === 0 ? 123 : null,
      field_name: 'queue_sizes',
      timestamp: '2017-12-02T00:00:00.312082Z',
      value: { assigned: i, incoming: i + 1 },
    })
  }
  for (let i = 0; i < n('agent_timeline', 11); i++) {
    const start = 1_525_000_000_000_000 + i * 1_000_123
    server.put('agent_timeline', span(1000 + (i % 3), formatIsoMicros(start), 0.5 + i))
  }
  for (let i = 0; i < n('agent_events', 6); i++) {
    server.put('agent_events', {
      id: `ae-${i}`,
      agent_id: 42,
      field_name: 'status',
      timestamp: '2018-04-29T10:26:40.957650Z',
      value: i % 2 === 0 ? 'online' : 'away',
    })
  }
}

/** Changes the source as a live system would: updates, new items, deletions. */
export function mutateSource(server: FakeExportServer): void {
  server.put('chats', chat('chat-1', { tags: ['updated'] }))
  server.put('chats', chat('chat-2', { deleted: true, tags: [] }))
  server.put('chats', chat('chat-new-a'))
  server.put('chats', chat('chat-5', { deleted: true }))
  server.put('chats', chat('chat-new-b', { tags: ['x'] }))
  server.put('conversions', {
    id: 'conv-new',
    goal_id: 99,
    timestamp: '2018-05-07T07:57:39Z',
    attribution: {},
  })
  server.put('agent_timeline', span(1001, '2018-05-01T00:00:00.000001Z', 3.25))
}

/** Key-order-independent JSON, so jsonb (which reorders keys) compares equal to the source. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    )
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/** What the destination must hold for a stream: the source's items, without deleted ones in remove mode. */
export function expectedContent(
  server: FakeExportServer,
  stream: ExportStream,
  mode: 'flag' | 'remove',
): string[] {
  return server
    .ordered(stream)
    .filter((item) => mode === 'flag' || item.deleted !== true)
    .map(canonical)
    .sort()
}

/**
 * What a destination holds for a stream, read without the code under test. For JSONL: the
 * committed lines (per the state file's committedBytes), latest line per key, tombstones of
 * remove mode dropped.
 */
export async function destinationContent(
  kind: DestinationKind,
  location: string,
  stream: ExportStream,
  mode: 'flag' | 'remove',
): Promise<string[]> {
  if (kind === 'sqlite') {
    const db = new Database(location, { readonly: true })
    try {
      const rows = db.prepare(`SELECT deleted, data FROM ${stream}`).all() as {
        deleted: number
        data: string
      }[]
      for (const row of rows) {
        const item = JSON.parse(row.data) as Record<string, unknown>
        if ((item.deleted === true) !== (row.deleted === 1))
          throw new Error(`deleted column out of step in ${stream}`)
      }
      return rows.map((r) => canonical(JSON.parse(r.data))).sort()
    } finally {
      db.close()
    }
  }
  if (kind === 'postgres') {
    const client = new pg.Client({ connectionString: location })
    await client.connect()
    try {
      const { rows } = await client.query<{ deleted: boolean; data: Record<string, unknown> }>(
        `SELECT deleted, data FROM ${stream}`,
      )
      for (const row of rows) {
        if ((row.data.deleted === true) !== row.deleted)
          throw new Error(`deleted column out of step in ${stream}`)
      }
      return rows.map((r) => canonical(r.data)).sort()
    } finally {
      await client.end()
    }
  }
  const latest = new Map<string, Record<string, unknown>>()
  for (const item of committedJsonlLines(location, stream)) {
    const key =
      stream === 'agent_timeline'
        ? `${String(item.agent_id)}@${parseIso(String(item.start_time))}`
        : String(item.id)
    latest.set(key, item)
  }
  return [...latest.values()]
    .filter((item) => !(mode === 'remove' && item.deleted === true))
    .map(canonical)
    .sort()
}

/** The committed lines of a stream's .jsonl, parsed. */
export function committedJsonlLines(dir: string, stream: ExportStream): Record<string, unknown>[] {
  let state: { committedBytes: number }
  try {
    state = JSON.parse(readFileSync(`${dir}/${stream}.state.json`, 'utf8')) as {
      committedBytes: number
    }
  } catch {
    return []
  }
  const bytes = readFileSync(`${dir}/${stream}.jsonl`).subarray(0, state.committedBytes)
  return bytes
    .toString('utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

/** Asserts-friendly: every stream's content of the destination vs the source. */
export async function compareAll(
  kind: DestinationKind,
  location: string,
  server: FakeExportServer,
  mode: 'flag' | 'remove',
): Promise<{ stream: ExportStream; actual: string[]; expected: string[] }[]> {
  const out = []
  for (const stream of EXPORT_STREAMS) {
    out.push({
      stream,
      actual: await destinationContent(kind, location, stream, mode),
      expected: expectedContent(server, stream, mode),
    })
  }
  return out
}
