/**
 * Ingest benchmark: a realistic simulated event stream folded and committed durably, in batches of
 * 1, 100 and 1000 events (one transaction, one fsync per batch).
 * @module
 */
import { performance } from 'node:perf_hooks'
import cliProgress from 'cli-progress'
import type { Clock } from '../domain/clock.js'
import type { IngestEvent } from '../domain/events.js'
import { parseIso } from '../domain/time.js'
import { applyEvents } from '../ingest/ingest-events.js'
import { createDirectory } from '../simulate/directory.js'
import { simulate } from '../simulate/simulate-day.js'
import type { Store } from '../store/store.js'
import type { Row } from './export-bench.js'

export interface IngestBenchOptions {
  store: Store
  accountId: number
  clock: Clock
  backend: string
  log: (line: string) => void
  /** Events per batch size (batch 1 is capped lower: one durable commit per event). */
  events?: number
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
    const bar = new cliProgress.SingleBar(
      { format: `ingest batch ${batch} [{bar}] {value}/{total} events`, stream: process.stderr },
      cliProgress.Presets.shades_classic,
    )
    bar.start(count, 0)
    const latencies: number[] = []
    const t0 = performance.now()
    for (let i = 0; i < count; i += batch) {
      const s = performance.now()
      await applyEvents(options.store, account.id, events.slice(i, Math.min(count, i + batch)))
      latencies.push(performance.now() - s)
      if (latencies.length % 20 === 0) bar.update(Math.min(count, i + batch))
    }
    const seconds = (performance.now() - t0) / 1000
    bar.update(count)
    bar.stop()
    latencies.sort((a, b) => a - b)
    rows.push({
      backend: options.backend,
      batch,
      events: count,
      'events/s': Math.round(count / seconds),
      'ms/batch p50': latencies[Math.floor(latencies.length / 2)] ?? 0,
      'ms/batch p99': latencies[Math.floor(latencies.length * 0.99)] ?? 0,
    })
    options.log(`ingest batch ${batch}: ${Math.round(count / seconds)} events/s`)
  }
  return rows
}
