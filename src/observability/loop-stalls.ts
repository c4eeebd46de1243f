/**
 * Event-loop stalls, named. Every account shares one event loop: a request that holds it (a large
 * synchronous transaction, a big JSON.parse, a checkpoint) makes `/healthz` and every other
 * account wait. Prometheus' `nodejs_eventloop_lag_*` says that it happened; this says during
 * which requests, so an operator (or the fuzz proof) can find the one to fix.
 *
 * A timer that should fire every `intervalMs` measures how late it fired; a delay of at least
 * `thresholdMs` is reported with the requests that were in flight at the time (method and path
 * only: query strings and bodies may hold visitor data and never reach the log), and with the
 * process's CPU and GC time over the same window, which tell a busy loop from a starved one.
 * @module
 */
import { PerformanceObserver } from 'node:perf_hooks'

/** The requests being served right now, for stall reports. */
export interface InFlightRequests {
  /** Registers a request; call the returned function when its response is finished. */
  begin(method: string, path: string, bodyBytes: number | undefined): () => void
  /**
   * The requests in flight, and those that finished at or after `since`, oldest first, e.g.
   * `POST /api/v2/chat/goals (12 B, 40 ms)` or `… (12 B, 40 ms, finished)`. The request that held
   * the loop has often finished by the time a late timer runs, so recent ones are kept.
   */
  describe(now: number, since: number): string[]
  /** Forgets requests that finished before `before`. */
  prune(before: number): void
}

interface Entry {
  method: string
  path: string
  bodyBytes: number | undefined
  started: number
  ended?: number
}

/** A registry of in-flight requests (a Set: begin and end are O(1) on the hot path). */
export function createInFlightRequests(
  now: () => number = () => performance.now(),
): InFlightRequests {
  const entries = new Set<Entry>()
  return {
    begin(method, path, bodyBytes) {
      const entry: Entry = { method, path, bodyBytes, started: now() }
      entries.add(entry)
      return () => {
        entry.ended ??= now()
      }
    },
    describe(at, since) {
      const lines: string[] = []
      for (const e of entries) {
        if (e.ended !== undefined && e.ended < since) continue
        const size = e.bodyBytes === undefined ? '' : `${e.bodyBytes} B, `
        // A path can be long (ids lists): the start is what names the route.
        const path = e.path.length > 120 ? `${e.path.slice(0, 120)}…` : e.path
        const took = Math.round((e.ended ?? at) - e.started)
        lines.push(
          `${e.method} ${path} (${size}${took} ms${e.ended === undefined ? '' : ', finished'})`,
        )
      }
      return lines
    },
    prune(before) {
      for (const e of entries) if (e.ended !== undefined && e.ended < before) entries.delete(e)
    },
  }
}

/**
 * One stall: how long the loop was held, what was being served, and what the process did
 * meanwhile. `cpuMs` near `blockedMs` means the process was busy (JavaScript, SQLite, or `gcMs`
 * of garbage collection); far below it, the process was not running (waiting on the disk in a
 * synchronous call, or not given a CPU by a loaded machine).
 */
export interface LoopStall {
  blockedMs: number
  /** CPU time of the whole process (every thread) during the stall. */
  cpuMs: number
  /** Garbage-collection pauses during the stall. */
  gcMs: number
  inFlight: string[]
}

/** The process's CPU and GC time so far, in milliseconds. */
export interface ProcessTimes {
  cpuMs(): number
  gcMs(): number
  stop(): void
}

/** CPU from `process.cpuUsage()`, GC from the `gc` performance entries. */
export function processTimes(): ProcessTimes {
  let gc = 0
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gc += entry.duration
  })
  observer.observe({ entryTypes: ['gc'] })
  return {
    cpuMs() {
      const used = process.cpuUsage()
      return (used.user + used.system) / 1000
    },
    gcMs: () => gc,
    stop: () => observer.disconnect(),
  }
}

export interface LoopStallOptions {
  /** Report delays of at least this many milliseconds. */
  thresholdMs: number
  /** How often the timer should fire (default 20 ms). */
  intervalMs?: number
  inFlight: InFlightRequests
  onStall(stall: LoopStall): void
  now?: () => number
  /** Where CPU and GC time come from (default: this process, {@link processTimes}). */
  times?: ProcessTimes
}

/**
 * Starts watching; returns the function that stops. The timer is unref'd: it never keeps a
 * process alive. The in-flight list is taken when the late timer finally runs, so it names the
 * requests in flight during the stall, and those that finished during it (the one that held the
 * loop has often just finished). The report says which were there, not which was guilty.
 */
export function watchLoopStalls(options: LoopStallOptions): () => void {
  const interval = options.intervalMs ?? 20
  const now = options.now ?? (() => performance.now())
  const times = options.times ?? processTimes()
  let expected = now() + interval
  let cpu = times.cpuMs()
  let gc = times.gcMs()
  const timer = setInterval(() => {
    const at = now()
    const late = at - expected
    const due = expected
    expected = at + interval
    const cpuNow = times.cpuMs()
    const gcNow = times.gcMs()
    if (late >= options.thresholdMs) {
      // What ran since the timer was due: in flight then, or finished while the loop was held.
      options.onStall({
        blockedMs: Math.round(late),
        cpuMs: Math.round(cpuNow - cpu),
        gcMs: Math.round(gcNow - gc),
        inFlight: options.inFlight.describe(at, due - interval),
      })
    }
    cpu = cpuNow
    gc = gcNow
    options.inFlight.prune(at)
  }, interval)
  timer.unref()
  return () => {
    clearInterval(timer)
    if (!options.times) times.stop()
  }
}
