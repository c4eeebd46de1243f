/**
 * Ingest benchmark: a realistic simulated event stream folded and committed durably, in batches of
 * 1, 100 and 1000 events (one transaction, one fsync per batch), in-process; then batches of 1000
 * posted over HTTP to a server spawned over the same store (body parsing and validation included),
 * with the server's CPU per batch.
 * @module
 */
import { performance } from 'node:perf_hooks'
import cliProgress from 'cli-progress'
import { issueToken } from '../auth/tokens.js'
import type { Clock } from '../domain/clock.js'
import type { IngestEvent } from '../domain/events.js'
import { parseIso } from '../domain/time.js'
import { applyEvents } from '../ingest/ingest-events.js'
import { createDirectory } from '../simulate/directory.js'
import { simulate } from '../simulate/simulate-day.js'
import type { Store } from '../store/store.js'
import { cpuSeconds, spawnServer } from './bench-server.js'
import type { Row } from './export-bench.js'

export interface IngestBenchOptions {
  store: Store
  /** The store's URL: the HTTP run spawns a server over it (skipped when absent). */
  storeUrl?: string
  accountId: number
  clock: Clock
  backend: string
  log: (line: string) => void
  /** Events per batch size (batch 1 is capped lower: one durable commit per event). */
  events?: number
}

/** The columns of the rows {@link runIngestBench} returns. */
export const INGEST_BENCH_COLUMNS = [
  'backend',
  'path',
  'batch',
  'events',
  'events/s',
  'CPU ms/batch',
  'ms/batch p50',
  'ms/batch p99',
]

/** CPU seconds (user + system) this process has used. */
function ownCpuSeconds(): number {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1e6
}

/** A deterministic, realistic event stream of about `count` events. */
export function benchEvents(count: number): IngestEvent[] {
  const directory = createDirectory({ seed: 7, accountNumber: 9339545, agents: 12 })
  const start = parseIso('2026-01-05T00:00:00Z') ?? 0
  const events: IngestEvent[] = []
  for (const event of simulate({
    seed: 7,
    directory,
    start,
    end: start + 30 * 86_400_000_000,
    arrivalsPerHour: 60,
  })) {
    events.push(event)
    if (events.length >= count) break
  }
  return events
}

/** Runs the ingest scenarios; each batch size gets its own account and the same events. */
export async function runIngestBench(options: IngestBenchOptions): Promise<Row[]> {
  const total = options.events ?? 30_000
  const events = benchEvents(total)
  const rows: Row[] = []
  for (const batch of [1, 100, 1000]) {
    const count = batch === 1 ? Math.min(2000, events.length) : events.length
    const account = await options.store.createAccount(`ingest-${batch}-${options.clock.now()}`)
    const c0 = ownCpuSeconds()
    const run = await timeBatches(`ingest batch ${batch}`, count, batch, (from, to) =>
      applyEvents(options.store, account.id, events.slice(from, to)),
    )
    rows.push(row(options.backend, 'in-process', batch, count, run, ownCpuSeconds() - c0))
    options.log(`ingest batch ${batch}: ${Math.round(count / run.seconds)} events/s`)
  }
  if (options.storeUrl !== undefined) rows.push(await httpRun(options, events))
  return rows
}

/**
 * Batches of 1000 posted to `POST /api/chat-export/v1/events` of a server spawned over the same
 * store, one request at a time. The bodies are serialised beforehand: the client's own work is not
 * measured, and the server's CPU is read from /proc around the run.
 */
async function httpRun(options: IngestBenchOptions, events: IngestEvent[]): Promise<Row> {
  const batch = 1000
  const server = await spawnServer(options.storeUrl ?? '')
  try {
    const token = async (name: string) => {
      const account = await options.store.createAccount(`${name}-${options.clock.now()}`)
      const issued = await issueToken(options.store, {
        accountId: account.id,
        role: 'owner',
        scopes: ['read', 'write'],
        now: options.clock.now(),
      })
      return issued.token
    }
    const bodies: string[] = []
    for (let i = 0; i < events.length; i += batch)
      bodies.push(JSON.stringify(events.slice(i, i + batch)))
    const post = async (bearer: string, body: string | undefined) => {
      const res = await fetch(`${server.url}/api/chat-export/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        body,
      })
      if (res.status !== 200) throw new Error(`ingest over HTTP: ${res.status} ${await res.text()}`)
      await res.arrayBuffer()
    }
    // A fresh server compiles its ingest path on the first batches: warmed up on another account
    // with the same events, as the in-process batch-1000 row is by the batch-100 run of them
    // before it (5 warm-up batches left the first measured ones 5-15 ms of CPU dearer each).
    const warmUp = await token('ingest-http-warm-up')
    for (const body of bodies) await post(warmUp, body)
    const measured = await token('ingest-http')
    const c0 = (await cpuSeconds(server.pid)) ?? 0
    const run = await timeBatches(`ingest HTTP ${batch}`, events.length, batch, (from) =>
      post(measured, bodies[from / batch]),
    )
    const cpu = ((await cpuSeconds(server.pid)) ?? 0) - c0
    options.log(`ingest HTTP batch ${batch}: ${Math.round(events.length / run.seconds)} events/s`)
    return row(options.backend, 'HTTP', batch, events.length, run, cpu)
  } finally {
    await server.stop()
  }
}

interface BatchRun {
  seconds: number
  /** Milliseconds per batch, sorted. */
  latencies: number[]
}

async function timeBatches(
  label: string,
  count: number,
  batch: number,
  apply: (from: number, to: number) => Promise<unknown>,
): Promise<BatchRun> {
  const bar = new cliProgress.SingleBar(
    { format: `${label} [{bar}] {value}/{total} events`, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  )
  bar.start(count, 0)
  const latencies: number[] = []
  const t0 = performance.now()
  for (let i = 0; i < count; i += batch) {
    const s = performance.now()
    await apply(i, Math.min(count, i + batch))
    latencies.push(performance.now() - s)
    if (latencies.length % 20 === 0) bar.update(Math.min(count, i + batch))
  }
  const seconds = (performance.now() - t0) / 1000
  bar.update(count)
  bar.stop()
  latencies.sort((a, b) => a - b)
  return { seconds, latencies }
}

function row(
  backend: string,
  path: string,
  batch: number,
  count: number,
  run: BatchRun,
  cpuSecondsUsed: number,
): Row {
  const batches = Math.max(1, run.latencies.length)
  return {
    backend,
    path,
    batch,
    events: count,
    'events/s': Math.round(count / run.seconds),
    'CPU ms/batch': (cpuSecondsUsed * 1000) / batches,
    'ms/batch p50': run.latencies[Math.floor(run.latencies.length / 2)] ?? 0,
    'ms/batch p99': run.latencies[Math.floor(run.latencies.length * 0.99)] ?? 0,
  }
}
