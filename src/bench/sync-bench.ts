/**
 * Sync benchmark: a server (its own process) over a store holding N synthetic chats, and a full
 * `chat-export sync` of the chats stream into each destination (SQLite, JSONL, PostgreSQL when one
 * can be started), timed with the real sync code (runSync) at the default page size.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import cliProgress from 'cli-progress'
import { systemClock } from '../domain/clock.js'
import { streamSpec } from '../domain/streams.js'
import { issueToken } from '../auth/tokens.js'
import { importItems } from '../ingest/import-items.js'
import { openStore } from '../store/open-store.js'
import { runSync } from '../sync/index.js'
import { syntheticChats } from './bench-data.js'
import { cpuSeconds, postgresCpuSeconds, spawnServer } from './bench-server.js'
import type { Row } from './export-bench.js'

export interface SyncBenchOptions {
  log: (line: string) => void
  /** Chats on the server (default 100 000). */
  chats?: number
  /** Destinations to time, among sqlite, jsonl and postgres (default all three). */
  destinations?: readonly string[]
}

/** The columns of the rows runSyncBench returns, in table order. */
export const SYNC_BENCH_COLUMNS = [
  'destination',
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
  const wanted = options.destinations ?? ['sqlite', 'jsonl', 'postgres']
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

    const targets: Array<[string, string]> = []
    if (wanted.includes('sqlite')) targets.push(['sqlite', `sqlite:${join(dir, 'sync.db')}`])
    if (wanted.includes('jsonl')) targets.push(['jsonl', `jsonl:${join(dir, 'jsonl')}`])
    if (wanted.includes('postgres')) {
      try {
        const { startBenchPostgres } = await import('./bench-postgres.js')
        const pg = await startBenchPostgres()
        stops.push(pg.stop)
        targets.push(['postgres', pg.url])
      } catch (err) {
        log(`sync → postgres: skipped (${(err as Error).message})`)
      }
    }

    for (const [name, to] of targets) {
      const bar = new cliProgress.SingleBar(
        {
          format: `sync → ${name.padEnd(8)} [{bar}] {value}/{total} chats, {rate}/s`,
          stream: process.stderr,
        },
        cliProgress.Presets.shades_classic,
      )
      bar.start(chats, 0, { rate: 0 })
      const serverCpu0 = await cpuSeconds(server.pid)
      const postgresCpu0 = name === 'postgres' ? await postgresCpuSeconds() : undefined
      const clientCpu0 = process.cpuUsage()
      const t0 = performance.now()
      const result = await runSync({
        from,
        token,
        to,
        streams: ['chats'],
        onProgress: (event) => {
          if (event.type === 'page') {
            bar.update(event.items, { rate: Math.round(event.itemsPerSecond) })
          }
        },
      })
      const seconds = (performance.now() - t0) / 1000
      const clientCpu = process.cpuUsage(clientCpu0)
      const serverCpu1 = await cpuSeconds(server.pid)
      const postgresCpu1 = name === 'postgres' ? await postgresCpuSeconds() : undefined
      bar.stop()
      const items = result.streams.reduce((n, s) => n + s.items, 0)
      const pages = Math.max(
        1,
        result.streams.reduce((n, s) => n + s.pages, 0),
      )
      if (items !== chats) log(`  warning: synced ${items} items, expected ${chats}`)
      // This process's CPU (fetch, parse, destination driver); PostgreSQL's own work is its column.
      const clientMs = (clientCpu.user + clientCpu.system) / 1000 / pages
      const serverMs =
        serverCpu0 === undefined || serverCpu1 === undefined
          ? undefined
          : ((serverCpu1 - serverCpu0) * 1000) / pages
      rows.push({
        destination: name,
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
      log(`sync → ${name}: ${items} chats in ${seconds.toFixed(1)} s`)
    }
  } finally {
    for (const stop of stops.reverse()) await stop()
    rmSync(dir, { recursive: true, force: true })
  }
  return rows
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
