/**
 * Shows sync progress: a live multi-line bar on a terminal (cli-progress), plain log lines
 * otherwise (CI logs, files), nothing when quiet. Only counts, rates and cursor times are printed:
 * never item contents, tokens or URLs with credentials.
 * @module
 */
import cliProgress from 'cli-progress'
import type { ExportStream } from '../client/index.js'
import type { SyncEvent } from './sync-events.js'

export type ProgressMode = 'bar' | 'lines' | 'quiet'

export interface ProgressReporter {
  onEvent(event: SyncEvent): void
  /**
   * Prints a message of the caller's (e.g. "stopping after the current page") as a line of its
   * own: above the bars on a terminal, so neither overwrites the other.
   */
  log(message: string): void
  /** Stops the bar (restoring the cursor) and prints nothing more. */
  stop(): void
}

export interface ProgressReporterOptions {
  mode: ProgressMode
  /** Where progress goes (stderr: stdout stays free for data). */
  output: NodeJS.WritableStream
  streams: readonly ExportStream[]
  /** Minimum ms between two log lines of one stream in `lines` mode (default 5000). */
  logIntervalMs?: number
  now?: () => number
}

/** A reporter for `mode`. */
export function createProgressReporter(options: ProgressReporterOptions): ProgressReporter {
  switch (options.mode) {
    case 'quiet':
      return { onEvent: () => {}, log: () => {}, stop: () => {} }
    case 'lines':
      return lineReporter(options)
    case 'bar':
      // Bars are drawn by moving the cursor; in a log they would never show (cli-progress draws
      // nothing without a terminal), so a forced `bar` there prints lines.
      return (options.output as { isTTY?: boolean }).isTTY === true
        ? barReporter(options)
        : lineReporter(options)
  }
}

function rate(perSecond: number): string {
  return perSecond >= 100 ? String(Math.round(perSecond)) : perSecond.toFixed(1)
}

function lineReporter(options: ProgressReporterOptions): ProgressReporter {
  const now = options.now ?? Date.now
  const interval = options.logIntervalMs ?? 5000
  const lastLine = new Map<ExportStream, number>()
  const caughtUp = new Map<ExportStream, boolean>()
  const write = (line: string) => options.output.write(`${line}\n`)
  return {
    onEvent(event) {
      switch (event.type) {
        case 'stream-start':
          write(
            event.resumed
              ? `${event.stream}: resuming from ${event.cursorTime ?? 'the saved cursor'}`
              : `${event.stream}: starting`,
          )
          return
        case 'page': {
          const becameCaughtUp = event.caughtUp && caughtUp.get(event.stream) !== true
          caughtUp.set(event.stream, event.caughtUp)
          const last = lastLine.get(event.stream)
          if (!becameCaughtUp && last !== undefined && now() - last < interval) return
          if (!becameCaughtUp && event.pageItems === 0) return
          lastLine.set(event.stream, now())
          write(
            `${event.stream}: ${event.items} items in ${event.pages} pages (${rate(event.recentItemsPerSecond)}/s), ` +
              `cursor ${event.cursorTime ?? '-'}${event.caughtUp ? ', caught up' : ''}`,
          )
          return
        }
        case 'retry':
          write(
            `${event.stream}: ${event.reason}${event.status === undefined ? '' : ` (${event.status})`}, ` +
              `retry ${event.retry} in ${(event.delayMs / 1000).toFixed(1)} s`,
          )
          return
        case 'stream-done':
          write(`${event.stream}: done, ${event.items} items in ${event.pages} pages`)
          return
      }
    },
    log(message) {
      write(message)
    },
    stop() {},
  }
}

function barReporter(options: ProgressReporterOptions): ProgressReporter {
  const width = Math.max(...options.streams.map((s) => s.length))
  const multibar = new cliProgress.MultiBar(
    {
      stream: options.output,
      format: '{name} {status} {items} items | {rate}/s | cursor {cursor}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      autopadding: true,
    },
    cliProgress.Presets.shades_classic,
  )
  const bars = new Map<ExportStream, cliProgress.SingleBar>()
  for (const stream of options.streams) {
    bars.set(
      stream,
      multibar.create(0, 0, {
        name: stream.padEnd(width),
        status: 'waiting ',
        items: 0,
        rate: '0.0',
        cursor: '-',
      }),
    )
  }
  return {
    onEvent(event) {
      const bar = bars.get(event.stream)
      if (!bar) return
      switch (event.type) {
        case 'stream-start':
          bar.update(0, {
            status: event.resumed ? 'resuming' : 'starting',
            cursor: event.cursorTime ?? '-',
          })
          return
        case 'page':
          bar.update(event.items, {
            status: event.caughtUp ? 'caught up' : 'syncing ',
            items: event.items,
            rate: rate(event.recentItemsPerSecond),
            cursor: event.cursorTime ?? '-',
          })
          return
        case 'retry':
          bar.update({ status: `${event.reason} (retry ${event.retry})` })
          return
        case 'stream-done':
          bar.update({ status: 'done    ', items: event.items })
          return
      }
    },
    log(message) {
      // MultiBar.log prints above the bars and redraws them; a bare write would be drawn over.
      multibar.log(`${message}\n`)
      // Drawn now, not at the next tick: the run may stop (and the bars with it) before that.
      multibar.update()
    },
    stop() {
      multibar.stop()
    },
  }
}
