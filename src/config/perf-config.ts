/**
 * The server's performance settings (flags > environment > defaults, like every setting):
 * `--compression off|gzip|br` (CHAT_EXPORT_COMPRESSION, default `br`: brotli when the client
 * offers it, else gzip). Kept apart from config.ts so it can be read on its own.
 * @module
 */
import { z } from 'zod'

/** The values of `--compression`. */
export const COMPRESSION_MODES = ['off', 'gzip', 'br'] as const

const perfConfigSchema = z.object({
  compression: z.enum(COMPRESSION_MODES, {
    message: `expected one of ${COMPRESSION_MODES.join(', ')}`,
  }),
})

export type PerfConfig = z.infer<typeof perfConfigSchema>

/** Flags given to `serve` for these settings (undefined when not given). */
export interface PerfFlags {
  compression?: string | undefined
}

/** The environment variables for these settings. */
export interface PerfEnvironment {
  CHAT_EXPORT_COMPRESSION?: string | undefined
}

export const DEFAULT_PERF_CONFIG: PerfConfig = { compression: 'br' }

/**
 * Resolves the performance settings.
 * @returns the settings, or the problems (one line each, naming the flag) when a value is invalid.
 */
export function loadPerfConfig(
  flags: PerfFlags,
  env: PerfEnvironment,
): { config: PerfConfig; problems: [] } | { config?: undefined; problems: string[] } {
  const parsed = perfConfigSchema.safeParse({
    compression:
      flags.compression ?? env.CHAT_EXPORT_COMPRESSION ?? DEFAULT_PERF_CONFIG.compression,
  })
  if (parsed.success) return { config: parsed.data, problems: [] }
  return { problems: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) }
}
