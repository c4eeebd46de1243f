/**
 * `serve`'s performance settings, declared like every other setting (flag > environment >
 * default, see settings.ts) and kept in their own file: `--compression off|gzip|br`
 * (CHAT_EXPORT_COMPRESSION, default `br`: brotli when the client offers it, else gzip) and
 * `--read-workers N` (CHAT_EXPORT_READ_WORKERS, default 0: the SQLite store's page readers,
 * docs/scaling.md) and `--stall-warn-ms N` (CHAT_EXPORT_STALL_WARN_MS, default 100: event-loop
 * stalls logged with the requests in flight, src/observability/loop-stalls.ts).
 * @module
 */
import type { Environment } from './environment.js'
import type { FlagValues, Setting } from './settings.js'
import { integer, oneOf, SettingsReader } from './settings.js'

/** The values of `--compression`. */
export const COMPRESSION_MODES = ['off', 'gzip', 'br'] as const

export type CompressionSetting = (typeof COMPRESSION_MODES)[number]

/** The environment variables of these settings. */
export interface PerfEnvironment {
  CHAT_EXPORT_COMPRESSION?: string | undefined
  CHAT_EXPORT_READ_WORKERS?: string | undefined
  CHAT_EXPORT_STALL_WARN_MS?: string | undefined
}

/** Flags of these settings (as commander hands them over; undefined when not given). */
export interface PerfFlags {
  compression?: string | undefined
  readWorkers?: string | undefined
  stallWarnMs?: string | undefined
}

/** The parsed settings. */
export interface PerfConfig {
  compression: CompressionSetting
  /** Worker threads reading export pages on the SQLite store; 0 = in the main thread. */
  readWorkers: number
  /** Log event-loop stalls of at least this many ms with the requests in flight; 0 = off. */
  stallWarnMs: number
}

/** The most read workers accepted: far beyond any machine's useful number, a typo guard. */
export const MAX_READ_WORKERS = 256

/** The settings, in --help order. */
export const PERF_SETTINGS = {
  compression: {
    flag: '--compression <mode>',
    help: "compress export pages the client's Accept-Encoding allows: br (brotli quality 1, else gzip level 1), gzip (never brotli) or off",
    env: ['CHAT_EXPORT_COMPRESSION'],
    default: 'br',
    parse: oneOf(...COMPRESSION_MODES),
  },
  readWorkers: {
    flag: '--read-workers <n>',
    help: 'SQLite store: worker threads that read export pages, each on its own read-only connection; 0 = read them in the main thread (PostgreSQL ignores it)',
    env: ['CHAT_EXPORT_READ_WORKERS'],
    // 0 until a run shows workers ahead: on this project's shared 2-core machine they were not
    // (docs/scaling.md, "Cost").
    default: '0',
    parse: integer(0, MAX_READ_WORKERS),
  },
  stallWarnMs: {
    flag: '--stall-warn-ms <ms>',
    help: 'log a warning, naming the requests in flight, when the event loop is held this long (every account waits meanwhile); 0 = off',
    env: ['CHAT_EXPORT_STALL_WARN_MS'],
    default: '100',
    parse: integer(0, 3_600_000),
  },
} as const satisfies Record<string, Setting<unknown>>

/** Resolves the settings; throws a ConfigError naming the flag or variable of a bad value. */
export function loadPerfConfig(flags: PerfFlags, env: Environment): PerfConfig {
  const read = new SettingsReader(flags as FlagValues, env)
  const compression = read.value(PERF_SETTINGS.compression)
  const readWorkers = read.value(PERF_SETTINGS.readWorkers)
  const stallWarnMs = read.value(PERF_SETTINGS.stallWarnMs)
  read.finish()
  return {
    compression: compression as CompressionSetting,
    readWorkers: readWorkers as number,
    stallWarnMs: stallWarnMs as number,
  }
}
