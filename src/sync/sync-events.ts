/**
 * What `runSync` reports while it works. It only emits these; the CLI decides how to show them
 * (a progress bar on a terminal, log lines otherwise, nothing with --quiet).
 * @module
 */
import type { ExportStream, RetryInfo } from '../client/index.js'

export type SyncEvent =
  | {
      type: 'stream-start'
      stream: ExportStream
      /** Whether a stored cursor is being resumed (otherwise the sync starts at --start-time). */
      resumed: boolean
      /** ISO time of the stored cursor, when resuming. */
      cursorTime: string | null
    }
  | {
      type: 'page'
      stream: ExportStream
      /** Items on this page. */
      pageItems: number
      /** Items and pages committed by this run so far. */
      items: number
      pages: number
      /** Items committed since the stream's state was created (across runs). */
      totalItems: number
      /** Items per second over the whole run. */
      itemsPerSecond: number
      /** Items per second over the last 30 s: what a long `--follow` run is doing now. */
      recentItemsPerSecond: number
      /** The page's end_time as ISO-8601 UTC (µs precision): how far the stream has got. */
      cursorTime: string | null
      caughtUp: boolean
    }
  | {
      type: 'retry'
      stream: ExportStream
      retry: number
      delayMs: number
      reason: RetryInfo['reason']
      status: number | undefined
    }
  | { type: 'stream-done'; stream: ExportStream; items: number; pages: number }
