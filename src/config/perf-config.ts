/**
 * `serve`'s performance settings, declared like every other setting (flag > environment >
 * default, see settings.ts) and kept in their own file: `--compression off|gzip|br`
 * (CHAT_EXPORT_COMPRESSION, default `br`: brotli when the client offers it, else gzip).
 * @module
 */
import type { Environment } from './environment.js'
import type { FlagValues, Setting } from './settings.js'
import { oneOf, SettingsReader } from './settings.js'

/** The values of `--compression`. */
export const COMPRESSION_MODES = ['off', 'gzip', 'br'] as const

export type CompressionSetting = (typeof COMPRESSION_MODES)[number]

/** The environment variables of these settings. */
export interface PerfEnvironment {
  CHAT_EXPORT_COMPRESSION?: string | undefined
}

/** Flags of these settings (as commander hands them over; undefined when not given). */
export interface PerfFlags {
  compression?: string | undefined
}

/** The parsed settings. */
export interface PerfConfig {
  compression: CompressionSetting
}

/** The settings, in --help order. */
export const PERF_SETTINGS = {
  compression: {
    flag: '--compression <mode>',
    help: "compress export pages the client's Accept-Encoding allows: br (brotli quality 1, else gzip level 1), gzip (never brotli) or off",
    env: ['CHAT_EXPORT_COMPRESSION'],
    default: 'br',
    parse: oneOf(...COMPRESSION_MODES),
  },
} as const satisfies Record<string, Setting<unknown>>

/** Resolves the settings; throws a ConfigError naming the flag or variable of a bad value. */
export function loadPerfConfig(flags: PerfFlags, env: Environment): PerfConfig {
  const read = new SettingsReader(flags as FlagValues, env)
  const compression = read.value(PERF_SETTINGS.compression)
  read.finish()
  return { compression: compression as CompressionSetting }
}
