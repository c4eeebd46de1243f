/**
 * Shared pieces of the `chat-export sync` end-to-end tests (test/e2e/sync*.test.ts): a real server
 * and real CLI processes over loopback, and an independent reading of both sides so a destination
 * can be compared with the server's data exactly.
 *
 * The server side is read with plain fetch, following next_page, not with the client under test.
 * The destinations are read as docs/sync.md describes them (tables, or the latest committed line
 * per key of the JSONL files), not with the sync code's own readers.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import Database from 'better-sqlite3'
import pg from 'pg'
import { BIN, runCli, startCli, type LongRunning } from './cli.js'

export const STREAMS = [
  'chats',
  'conversions',
  'department_events',
  'agent_timeline',
  'agent_events',
] as const
export type Stream = (typeof STREAMS)[number]
export type Item = Record<string, unknown>
export type DeletedMode = 'flag' | 'remove'

/** One side's data: per stream, the latest version of every item by key. */
export type Snapshot = Record<Stream, Map<string, Item>>

/** The key docs/sync.md stores an item under: `id`, or agent_id + start_time for spans. */
export function keyOf(stream: Stream, item: Item): string {
  if (stream === 'agent_timeline') {
    // The server writes a span's start_time one way every time, so its text is a stable key.
    return `${String(item.agent_id)}|${String(item.start_time)}`
  }
  return String(item.id)
}

function emptySnapshot(): Snapshot {
  return {
    chats: new Map(),
    conversions: new Map(),
    department_events: new Map(),
    agent_timeline: new Map(),
    agent_events: new Map(),
  }
}

/** Creates an account and an owner token with read and write scopes in `store`; returns the token. */
export async function createAccountAndToken(store: string, account = 'acme'): Promise<string> {
  const created = await runCli(['accounts', 'create', account, '--store', store])
  if (created.code !== 0) throw new Error(`accounts create failed: ${created.stderr}`)
  const token = await runCli([
    'tokens',
    'create',
    '--account',
    account,
    '--role',
    'owner',
    '--scopes',
    'read write',
    '--store',
    store,
  ])
  if (token.code !== 0) throw new Error(`tokens create failed: ${token.stderr}`)
  return token.stdout.trim()
}

export interface ServerProcess {
  url: string
  process: LongRunning
  stop(): Promise<number | null>
}

/** `chat-export serve` over `store` on a free loopback port. */
export async function startServe(store: string, extra: string[] = []): Promise<ServerProcess> {
  const server = startCli([
    'serve',
    '--store',
    store,
    '--port',
    '0',
    '--log-level',
    'warn',
    ...extra,
  ])
  const [, url] = await server.waitFor(/listening on (http:\/\/\S+)/)
  return { url: url!, process: server, stop: () => server.stop() }
}

/** `chat-export simulate --speed max` into the server: a deterministic stretch of activity. */
export async function simulate(
  url: string,
  token: string,
  options: { seed: number; from: string; hours: number },
): Promise<void> {
  const args = ['simulate', '--url', url, '--speed', 'max', '--seed', String(options.seed)]
  args.push('--from', options.from, '--hours', String(options.hours))
  const result = await runCli(args, undefined, { CHAT_EXPORT_TOKEN: token })
  if (result.code !== 0 || !/^done: /m.test(result.stdout)) {
    throw new Error(`simulate failed (${result.code}): ${result.stdout}\n${result.stderr}`)
  }
}

/** Posts a batch of ingest events; fails unless every event was applied. */
export async function postEvents(url: string, token: string, events: Item[]): Promise<void> {
  const res = await fetch(`${url}/api/chat-export/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(events),
  })
  const body = (await res.json()) as { accepted?: number }
  if (res.status !== 200 || body.accepted !== events.length) {
    throw new Error(`ingest answered ${res.status}: ${JSON.stringify(body)}`)
  }
}

/**
 * Every item of `stream`, in export order, read from the start following next_page verbatim
 * (with full resource expansion for chats and conversions, as a sync asks for).
 */
export async function fetchStream(url: string, token: string, stream: Stream): Promise<Item[]> {
  const limit = 1000
  const fields = stream === 'chats' || stream === 'conversions' ? `&fields=${stream}(*)` : ''
  let next = `${url}/api/v2/chat/incremental/${stream}?start_time=0&limit=${limit}${fields}`
  const items: Item[] = []
  for (let page = 0; page < 10_000; page++) {
    const res = await fetch(next, { headers: { authorization: `Bearer ${token}` } })
    if (res.status !== 200) throw new Error(`${next} answered ${res.status}: ${await res.text()}`)
    const body = (await res.json()) as Record<string, unknown>
    const pageItems = body[stream] as Item[]
    items.push(...pageItems)
    if ((body.count as number) < limit) return items
    next = body.next_page as string
  }
  throw new Error(`${stream}: next_page never ended`)
}

/** The server's data: every stream reduced to the latest version per key. */
export async function serverSnapshot(url: string, token: string): Promise<Snapshot> {
  const snapshot = emptySnapshot()
  for (const stream of STREAMS) {
    for (const item of await fetchStream(url, token, stream)) {
      const key = keyOf(stream, item)
      snapshot[stream].delete(key)
      snapshot[stream].set(key, item)
    }
  }
  return snapshot
}

/** What a destination in `mode` must hold: in remove mode, deleted items are gone. */
export function expectedFor(snapshot: Snapshot, mode: DeletedMode): Snapshot {
  if (mode === 'flag') return snapshot
  const result = emptySnapshot()
  for (const stream of STREAMS) {
    for (const [key, item] of snapshot[stream]) {
      if (item.deleted !== true) result[stream].set(key, item)
    }
  }
  return result
}

/**
 * The first difference between two snapshots as a sentence, or null when they are equal. Key
 * order inside items does not matter (PostgreSQL's jsonb reorders keys); values must be equal.
 */
export function differences(actual: Snapshot, expected: Snapshot): string | null {
  for (const stream of STREAMS) {
    const a = actual[stream]
    const e = expected[stream]
    const missing = [...e.keys()].filter((k) => !a.has(k))
    const extra = [...a.keys()].filter((k) => !e.has(k))
    if (missing.length > 0 || extra.length > 0) {
      return (
        `${stream}: ${a.size} items, expected ${e.size}; missing ${JSON.stringify(missing.slice(0, 5))}, ` +
        `unexpected ${JSON.stringify(extra.slice(0, 5))}`
      )
    }
    for (const [key, item] of e) {
      const got = a.get(key)
      if (!isDeepStrictEqual(got, item)) {
        return `${stream} ${key}: got ${JSON.stringify(got)}\nexpected ${JSON.stringify(item)}`
      }
    }
  }
  return null
}

/** Counts per stream, for messages and sanity checks. */
export function counts(snapshot: Snapshot): Record<Stream, number> {
  return Object.fromEntries(STREAMS.map((s) => [s, snapshot[s].size])) as Record<Stream, number>
}

/**
 * A SQLite destination's tables. Checks on the way that the key columns and the `deleted` column
 * agree with the stored item, since users query those columns directly.
 */
export function readSqliteDestination(path: string): Snapshot {
  const db = new Database(path, { readonly: true, fileMustExist: true })
  try {
    const snapshot = emptySnapshot()
    for (const stream of STREAMS) {
      const rows = db.prepare(`SELECT * FROM ${stream}`).all() as Array<Record<string, unknown>>
      for (const row of rows) {
        const item = JSON.parse(row.data as string) as Item
        checkColumns(stream, row, item, row.deleted === 1)
        snapshot[stream].set(keyOf(stream, item), item)
      }
    }
    return snapshot
  } finally {
    db.close()
  }
}

/** A PostgreSQL destination's tables (same checks as for SQLite). */
export async function readPostgresDestination(url: string): Promise<Snapshot> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const snapshot = emptySnapshot()
    for (const stream of STREAMS) {
      const { rows } = await client.query<Record<string, unknown>>(`SELECT * FROM ${stream}`)
      for (const row of rows) {
        const item = row.data as Item
        checkColumns(stream, row, item, row.deleted === true)
        snapshot[stream].set(keyOf(stream, item), item)
      }
    }
    return snapshot
  } finally {
    await client.end()
  }
}

function checkColumns(stream: Stream, row: Record<string, unknown>, item: Item, deleted: boolean) {
  const keyMatches =
    stream === 'agent_timeline'
      ? Number(row.agent_id) === item.agent_id &&
        Date.parse(String(row.start_time)) === Date.parse(String(item.start_time))
      : row.id === String(item.id)
  if (!keyMatches || deleted !== (item.deleted === true)) {
    throw new Error(`${stream}: row columns disagree with its data: ${JSON.stringify(row)}`)
  }
}

export interface JsonlStreamFile {
  /** Every committed line, in order. */
  lines: string[]
  committedBytes: number
  /** Size of the .jsonl file (bytes past committedBytes are an uncommitted tail). */
  fileBytes: number
}

/** The committed lines of one stream of a JSONL destination (up to the state's committedBytes). */
export function readJsonlFile(dir: string, stream: Stream): JsonlStreamFile {
  let state: { committedBytes: number }
  try {
    state = JSON.parse(readFileSync(join(dir, `${stream}.state.json`), 'utf8')) as {
      committedBytes: number
    }
  } catch {
    return { lines: [], committedBytes: 0, fileBytes: 0 }
  }
  const data = readFileSync(join(dir, `${stream}.jsonl`))
  const committed = data.subarray(0, state.committedBytes).toString('utf8')
  if (committed !== '' && !committed.endsWith('\n')) {
    throw new Error(`${stream}.jsonl: the committed bytes do not end with a complete line`)
  }
  const lines = committed === '' ? [] : committed.slice(0, -1).split('\n')
  return { lines, committedBytes: state.committedBytes, fileBytes: data.length }
}

/**
 * A JSONL destination: per stream, the latest committed line per key; in remove mode a key whose
 * latest line is a deleted tombstone is gone.
 */
export function readJsonlDestination(dir: string, mode: DeletedMode): Snapshot {
  const snapshot = emptySnapshot()
  for (const stream of STREAMS) {
    for (const line of readJsonlFile(dir, stream).lines) {
      const item = JSON.parse(line) as Item
      const key = keyOf(stream, item)
      snapshot[stream].delete(key)
      if (mode === 'flag' || item.deleted !== true) snapshot[stream].set(key, item)
    }
  }
  return snapshot
}

/** A destination of the tests: where it is and how to read it back. */
export interface TestDestination {
  name: string
  /** The `--to` value. */
  to: string
  mode: DeletedMode
  read(): Promise<Snapshot>
}

/** Builds a TestDestination for `sqlite:PATH`, `jsonl:DIR` or a postgres:// URL. */
export function destination(name: string, to: string, mode: DeletedMode): TestDestination {
  const read = (): Promise<Snapshot> => {
    if (to.startsWith('sqlite:')) return Promise.resolve(readSqliteDestination(to.slice(7)))
    if (to.startsWith('jsonl:')) return Promise.resolve(readJsonlDestination(to.slice(6), mode))
    return readPostgresDestination(to)
  }
  return { name, to, mode, read }
}

export interface CliProcess {
  child: ChildProcess
  stdout(): string
  stderr(): string
  /** Resolves with the exit code, or the signal that ended the process. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Waits until stderr matches (progress goes to stderr). */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>
}

/** Spawns the built CLI with access to stderr and to how it ended (the signal included). */
export function spawnCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitForStderr(pattern, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs
      while (!pattern.test(err)) {
        if (child.exitCode !== null) throw new Error(`exited (${child.exitCode}): ${err}`)
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}: ${err}`)
        await sleep(50)
      }
    },
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
