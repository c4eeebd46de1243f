/**
 * Runs a simulation against a sink: the HTTP ingest endpoint of a server ({@link runSimulation},
 * used by `chat-export simulate`) or any function taking batches ({@link simulateInto}, used by
 * the server's demo to feed its own ingest service without HTTP).
 *
 * Pacing. Event timestamps always come from the simulation. With a numeric `speed` the driver
 * waits so that an event at simulated time `t` is sent at wall time
 * `wallStart + (t - start) / speed` (1 = real time, 60 = a simulated minute per second); with
 * `'max'` it sends as fast as the sink accepts. Events that fall due together go in one batch (at
 * most `batchSize`); a batch is sent before each wait, so nothing sits in a buffer while the
 * driver sleeps.
 *
 * Default start. Without `start`, the run is placed so that no event is ever stamped later than
 * the wall clock when it is sent and the last one is sent about "now":
 * `start = now - duration · (1 - 1/speed)`: live for speed 1, the past `hours` for `'max'`.
 * @module
 */
import { systemClock, type Clock } from '../domain/clock.js'
import type { IngestEvent } from '../domain/events.js'
import { parseIso, type Micros } from '../domain/time.js'
import { createDirectory } from './directory.js'
import {
  createHttpSink,
  realSleep,
  type EventSink,
  type HttpSinkOptions,
  type RetryInfo,
  type Sleep,
} from './ingest-sink.js'
import { deriveSeed } from './rng.js'
import { simulate } from './simulate-day.js'
import type { SimulationRates } from './simulate-options.js'

const HOUR: Micros = 3_600_000_000

/** Real time is 1; 60 plays a simulated minute per second; 'max' does not wait at all. */
export type Speed = number | 'max'

export interface SimulationProgress {
  /** Events delivered so far. */
  events: number
  batches: number
  /** Reported by the sink: newly applied events. */
  accepted: number
  /** Reported by the sink: events it had already applied (resends). */
  duplicates: number
  retries: number
  start: Micros
  end: Micros
  /** Timestamp of the last event delivered (µs); `start` before the first. */
  simulatedTime: Micros
}

export interface SimulationSummary extends SimulationProgress {
  /** The signal stopped the run before the end. */
  aborted: boolean
}

export interface SimulateIntoOptions {
  seed: number
  /** Default 'max'. */
  speed?: Speed
  /** First simulated instant (µs); default: see the module comment. */
  start?: Micros
  /** Simulated hours; default 24. `Infinity` runs until `signal` aborts (needs a numeric speed). */
  hours?: number
  /** Account number inside chat/visitor/session ids; default derived from the seed (7 digits). */
  accountNumber?: number
  /** Agents in the team; default 8. */
  agents?: number
  /** Average weekday arrivals per hour; default 20. */
  arrivalsPerHour?: number
  /** The business's local time, minutes east of UTC; default 0. */
  utcOffsetMinutes?: number
  rates?: Partial<SimulationRates>
  /** Let conversations under way finish after the period ends; default true. */
  drain?: boolean
  /** Most events per batch; default 500. */
  batchSize?: number
  clock?: Clock
  sleep?: Sleep
  /** Stops the run: the batch in flight is finished, nothing after it is sent. */
  signal?: AbortSignal
  /** Called after each delivered batch. */
  onProgress?: (progress: SimulationProgress) => void
}

export interface RunSimulationOptions
  extends
    SimulateIntoOptions,
    Pick<
      HttpSinkOptions,
      | 'baseUrl'
      | 'token'
      | 'fetch'
      | 'maxAttempts'
      | 'baseDelayMs'
      | 'maxDelayMs'
      | 'requestTimeoutMs'
    > {
  onRetry?: (info: RetryInfo) => void
}

/** The account number used when none is given: 7 digits, fixed by the seed. */
export function defaultAccountNumber(seed: number): number {
  return 1_000_000 + (deriveSeed(seed, 'account') % 9_000_000)
}

/** The simulated period a run covers (see the module comment for the default start). */
export function simulationPeriod(
  options: Pick<SimulateIntoOptions, 'speed' | 'start' | 'hours'>,
  now: Micros,
): { start: Micros; end: Micros } {
  const hours = options.hours ?? 24
  if (!(hours > 0)) throw new Error(`hours must be positive, got ${hours}`)
  const speed = options.speed ?? 'max'
  if (speed !== 'max' && !(speed > 0 && Number.isFinite(speed))) {
    throw new Error(`speed must be a positive number or 'max', got ${speed}`)
  }
  if (hours === Infinity && speed === 'max') {
    throw new Error('an endless run (hours = Infinity) needs a numeric speed')
  }
  const duration = hours * HOUR
  let start = options.start
  if (start === undefined) {
    const lead = hours === Infinity ? 0 : duration * (1 - 1 / (speed === 'max' ? Infinity : speed))
    // Whole seconds keep ids and timestamps tidy.
    start = Math.floor((now - lead) / 1_000_000) * 1_000_000
  }
  return { start, end: start + duration }
}

/**
 * Runs the simulation and hands its events, in order and in batches, to `sink`, paced by
 * `speed`. Resolves with totals once everything is delivered or the signal aborted the run;
 * rejects if the sink fails (after its own retries).
 *
 * @example
 * // Feed a server's own ingest service, a simulated minute per second, until shutdown.
 * await simulateInto((events) => ingest(accountId, events), { seed: 42, speed: 60, hours: Infinity, signal })
 */
export async function simulateInto(
  sink: EventSink,
  options: SimulateIntoOptions,
): Promise<SimulationSummary> {
  const clock = options.clock ?? systemClock()
  const sleep = options.sleep ?? realSleep
  const speed = options.speed ?? 'max'
  const batchSize = options.batchSize ?? 500
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchSize must be a positive integer, got ${batchSize}`)
  }
  const wallStart = clock.now()
  const { start, end } = simulationPeriod(options, wallStart)
  const directory = createDirectory({
    seed: options.seed,
    accountNumber: options.accountNumber ?? defaultAccountNumber(options.seed),
    agents: options.agents,
  })
  const events = simulate({
    seed: options.seed,
    directory,
    start,
    end,
    drain: options.drain ?? true,
    arrivalsPerHour: options.arrivalsPerHour,
    utcOffsetMinutes: options.utcOffsetMinutes,
    rates: options.rates,
  })

  const progress: SimulationProgress = {
    events: 0,
    batches: 0,
    accepted: 0,
    duplicates: 0,
    retries: 0,
    start,
    end,
    simulatedTime: start,
  }
  const signal = options.signal
  let batch: IngestEvent[] = []
  let batchTime = start

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return
    const sending = batch
    batch = []
    const result = await sink(sending)
    progress.events += sending.length
    progress.batches++
    progress.accepted += result?.accepted ?? sending.length
    progress.duplicates += result?.duplicates ?? 0
    progress.retries += result?.retries ?? 0
    progress.simulatedTime = batchTime
    options.onProgress?.({ ...progress })
  }

  try {
    for (const event of events) {
      if (signal?.aborted) return { ...progress, aborted: true }
      const at = parseIso(event.timestamp) ?? start
      if (speed !== 'max') {
        const due = wallStart + (at - start) / speed
        const waitMicros = due - clock.now()
        if (waitMicros > 0) {
          await flush()
          if (signal?.aborted) return { ...progress, aborted: true }
          // Rounded up: waking a little late is harmless, early would send the future.
          await sleep(Math.ceil(waitMicros / 1000), signal)
        }
      }
      batch.push(event)
      batchTime = at
      if (batch.length >= batchSize) await flush()
    }
    if (signal?.aborted) return { ...progress, aborted: true }
    await flush()
  } catch (err) {
    // An abort during a wait is how a run is stopped, not a failure.
    if (signal?.aborted) return { ...progress, aborted: true }
    throw err
  }
  return { ...progress, aborted: false }
}

/**
 * Runs the simulation against a server's ingest endpoint
 * (`POST {baseUrl}/api/chat-export/v1/events`), retrying 429 / 5xx as {@link createHttpSink}
 * describes. Same seed and start → the same events with the same ids, so rerunning an
 * interrupted run only adds what is missing.
 *
 * @example
 * const summary = await runSimulation({ baseUrl: 'http://127.0.0.1:8080', token, seed: 1, speed: 'max' })
 * console.log(`${summary.accepted} events applied`)
 */
export function runSimulation(options: RunSimulationOptions): Promise<SimulationSummary> {
  // Options the sink does not know (seed, speed…) are ignored by it.
  const sink = createHttpSink(options)
  return simulateInto(sink, options)
}
