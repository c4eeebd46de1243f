/**
 * Sync benchmark: a server (its own process) over a store holding N synthetic chats, and a full
 * `chat-export sync` of the chats stream into each destination (SQLite, JSONL, PostgreSQL when one
 * can be started), timed with the real sync code (runSync) at the default page size. Destinations
 * alternate round by round (sqlite, jsonl, postgres, sqlite, …), each round into a fresh
 * destination, so that what the machine does at one moment does not fall on one destination.
 *
 * Each sync runs in a process of its own (sync-child.ts), as `chat-export sync` does, not in the
 * bench process whose heap holds what loading the chats left. The server stays pinned to its CPU;
 * the sync may use every CPU (its SQLite writes run on a thread of their own, as they would on a
 * user's machine), which the table says.
 * @module
 */
import { fork, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import cliProgress from 'cli-progress'
import { systemClock } from '../domain/clock.js'
import { streamSpec } from '../domain/streams.js'
import { issueToken } from '../auth/tokens.js'
import { importItems } from '../ingest/import-items.js'
import { openStore } from '../store/open-store.js'
import { syntheticChats } from './bench-data.js'
import { allowEveryCpu, cpuSeconds, postgresCpuSeconds, spawnServer } from './bench-server.js'
import type { DataType } from '../sync/postgres-destination.js'
import type { SyncChildJob, SyncChildMessage } from './sync-child.js'
import type { Row } from './export-bench.js'

export interface SyncBenchOptions {
  log: (line: string) => void
  /** Chats on the server (default 100 000). */
  chats?: number
  /**
   * Destinations to time, among sqlite, jsonl, postgres and postgres-json (`--postgres-data
   * json`); default all four.
   */
  destinations?: readonly string[]
  /** Full syncs per destination, alternated across destinations (default 2). */
  rounds?: number
}

/** The columns of the rows runSyncBench returns, in table order. */
export const SYNC_BENCH_COLUMNS = [
  'destination',
  'round',
  'items',
  'seconds',
  'items/s',
  'client CPU ms/page',
  'server CPU ms/page',
  'client/server CPU',
  'PostgreSQL CPU ms/page',
]

/** Chats generated and imported per transaction: bounds memory whatever N is. */
const CHUNK = 5000

/**
 * Loads the chats, starts the server, and times one full sync per destination. Returns one row
 * per destination: {destination, items, seconds, items/s}. Progress goes to `log` and to a bar on
 * stderr.
 */
export async function runSyncBench(options: SyncBenchOptions): Promise<Row[]> {
  const chats = options.chats ?? 100_000
  const wanted = options.destinations ?? ['sqlite', 'jsonl', 'postgres', 'postgres-json']
  const rounds = options.rounds ?? 2
  const { log } = options
  const dir = mkdtempSync(join(tmpdir(), 'chat-export-sync-bench-'))
  const stops: Array<() => Promise<void>> = []
  const rows: Row[] = []
  try {
    const storeUrl = `sqlite:${join(dir, 'server.db')}`
    const token = await loadServerStore(storeUrl, chats)
    const server = await spawnServer(storeUrl)
    stops.push(() => server.stop())
    const from = `${server.url}/api/v2/chat`

    // Each destination, made fresh for each round (`make`), and what to do once it is measured
    // (`after`): a file destination is deleted (its pages then need no writeback during the next
    // sync), PostgreSQL does now the vacuum and checkpoint 400 MB of inserts lead to, instead of
    // on the CPUs the next sync needs.
    interface Target {
      name: string
      postgresData?: DataType
      make: (round: number) => Promise<string>
      after: (to: string) => Promise<void>
    }
    const targets: Target[] = []
    if (wanted.includes('sqlite')) {
      targets.push({
        name: 'sqlite',
        make: (round) => Promise.resolve(`sqlite:${join(dir, `sync-${round}.db`)}`),
        after: (to) => {
          const file = to.slice('sqlite:'.length)
          for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true })
          return Promise.resolve()
        },
      })
    }
    if (wanted.includes('jsonl')) {
      targets.push({
        name: 'jsonl',
        make: (round) => Promise.resolve(`jsonl:${join(dir, `jsonl-${round}`)}`),
        after: (to) => {
          rmSync(to.slice('jsonl:'.length), { recursive: true, force: true })
          return Promise.resolve()
        },
      })
    }
    if (wanted.includes('postgres') || wanted.includes('postgres-json')) {
      try {
        const { startBenchPostgres } = await import('./bench-postgres.js')
        const pg = await startBenchPostgres()
        stops.push(pg.stop)
        let made = 0
        const make = () => freshDatabase(pg.url, ++made)
        if (wanted.includes('postgres'))
          targets.push({ name: 'postgres', make, after: settlePostgres })
        if (wanted.includes('postgres-json'))
          targets.push({ name: 'postgres-json', postgresData: 'json', make, after: settlePostgres })
      } catch (err) {
        log(`sync → postgres: skipped (${(err as Error).message})`)
      }
    }

    // Destinations alternate round by round: sqlite, jsonl, postgres, sqlite, ...
    const runs = Array.from({ length: rounds }, (_, r) =>
      targets.map((target) => ({ ...target, round: r + 1 })),
    ).flat()
    for (const { name, make, after, round, postgresData } of runs) {
      const to = await make(round)
      // Dirty pages left by the run before would be written back during this one, and on ext4 an
      // fsync of this sync's file can wait for them: flush them first.
      spawnSync('sync')
      const bar = new cliProgress.SingleBar(
        {
          format: `sync → ${name.padEnd(8)} [{bar}] {value}/{total} chats, {rate}/s`,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      )
      bar.start(chats, 0, { rate: 0 })
      const serverCpu0 = await cpuSeconds(server.pid)
      const onPostgres = name.startsWith('postgres')
      const postgresCpu0 = onPostgres ? await postgresCpuSeconds() : undefined
      const job = { from, token, to, ...(postgresData === undefined ? {} : { postgresData }) }
      const result = await syncInChild(job, (items, rate) =>
        bar.update(items, { rate: Math.round(rate) }),
      )
      const { seconds, items } = result
      const serverCpu1 = await cpuSeconds(server.pid)
      const postgresCpu1 = onPostgres ? await postgresCpuSeconds() : undefined
      bar.stop()
      const pages = Math.max(1, result.pages)
      if (items !== chats) log(`  warning: synced ${items} items, expected ${chats}`)
      // The sync process's CPU (fetch, scan, destination driver, its writer thread); PostgreSQL's
      // own work is its column.
      const clientMs = result.cpuMs / pages
      const serverMs =
        serverCpu0 === undefined || serverCpu1 === undefined
          ? undefined
          : ((serverCpu1 - serverCpu0) * 1000) / pages
      rows.push({
        destination: name,
        round,
        items,
        seconds,
        'items/s': Math.round(items / seconds),
        'client CPU ms/page': clientMs,
        'server CPU ms/page': serverMs ?? '-',
        'client/server CPU': serverMs === undefined || serverMs === 0 ? '-' : clientMs / serverMs,
        // The destination database's own work (parsing jsonb, writing WAL), beside the client's.
        'PostgreSQL CPU ms/page':
          postgresCpu0 === undefined || postgresCpu1 === undefined
            ? '-'
            : ((postgresCpu1 - postgresCpu0) * 1000) / pages,
      })
      log(`sync → ${name} (round ${round}): ${items} chats in ${seconds.toFixed(1)} s`)
      await after(to)
    }
  } finally {
    for (const stop of stops.reverse()) await stop()
    rmSync(dir, { recursive: true, force: true })
  }
  return rows
}

const SYNC_CHILD = fileURLToPath(new URL('./sync-child.js', import.meta.url))

/** Runs one sync in a child process (see the module comment); resolves with what it reported. */
function syncInChild(
  job: SyncChildJob,
  onProgress: (items: number, itemsPerSecond: number) => void,
): Promise<Extract<SyncChildMessage, { type: 'done' }>> {
  const child = fork(SYNC_CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  // The bench process is pinned to the load's CPUs, and a child inherits that: undo it.
  if (child.pid !== undefined) allowEveryCpu(child.pid)
  return new Promise((resolve, reject) => {
    let outcome: SyncChildMessage | undefined
    child.on('message', (message: SyncChildMessage) => {
      if (message.type === 'progress') onProgress(message.items, message.itemsPerSecond)
      else outcome = message
    })
    child.once('error', reject)
    child.once('exit', (code) => {
      if (outcome?.type === 'done') resolve(outcome)
      else if (outcome?.type === 'failed') reject(new Error(`sync failed: ${outcome.message}`))
      else reject(new Error(`the sync process exited with code ${code} without a result`))
    })
    child.send(job)
  })
}

/** Runs the vacuum and checkpoint a bulk load leads to, and waits for them. */
async function settlePostgres(url: string): Promise<void> {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query('VACUUM ANALYZE')
    // Needs superuser (or pg_checkpoint): a DATABASE_URL user without it just skips this.
    await client.query('CHECKPOINT').catch(() => {})
  } finally {
    await client.end()
  }
}

/** `url` the first time; a new database on the same server each later time (`n` counts them). */
async function freshDatabase(url: string, n: number): Promise<string> {
  if (n === 1) return url
  const { default: pg } = await import('pg')
  const target = new URL(url)
  const name = `${target.pathname.slice(1)}_r${n}`
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  target.pathname = `/${name}`
  return target.toString()
}

/** Creates an account, a token and `chats` synthetic chats in the store; returns the token. */
export async function loadServerStore(storeUrl: string, chats: number): Promise<string> {
  const clock = systemClock()
  const store = await openStore(storeUrl, { clock })
  try {
    const account = await store.createAccount('sync-bench')
    const { token } = await issueToken(store, {
      accountId: account.id,
      role: 'owner',
      scopes: ['read'],
      now: clock.now(),
    })
    const bar = new cliProgress.SingleBar(
      { format: `loading chats  [{bar}] {value}/{total} {eta}s`, stream: process.stderr },
      cliProgress.Presets.shades_classic,
    )
    bar.start(chats, 0)
    const spec = streamSpec('chats')
    const end = clock.now() - 10_000_000
    for (let first = 0; first < chats; first += CHUNK) {
      const count = Math.min(CHUNK, chats - first)
      // Chunk k covers the time just before chunk k+1 (2 s per chat), each with its own seed.
      const chunkEnd = end - (chats - first - count) * 2_000_000
      const items = syntheticChats(count, chunkEnd, 1 + first / CHUNK).map((raw, i) => ({
        line: first + i + 1,
        item: spec.prepare(raw),
      }))
      await importItems(store, account.id, 'chats', items, {
        preserveTimestamps: false,
        now: clock.now(),
      })
      bar.update(first + count)
    }
    bar.stop()
    return token
  } finally {
    await store.close()
  }
}
