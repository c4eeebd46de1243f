/**
 * The environment variables the CLI understands (documented in README), and the single place that
 * reads `process.env`.
 * @module
 */
import type { PerfEnvironment } from './perf-config.js'
import type { TlsEnvironment } from './tls-config.js'

/** The environment variables the CLI understands. */
export interface Environment extends TlsEnvironment, PerfEnvironment {
  CHAT_EXPORT_STORE?: string | undefined
  CHAT_EXPORT_HOST?: string | undefined
  CHAT_EXPORT_PORT?: string | undefined
  CHAT_EXPORT_PUBLIC_URL?: string | undefined
  CHAT_EXPORT_MIN_START_AGE?: string | undefined
  CHAT_EXPORT_RATE_LIMIT?: string | undefined
  CHAT_EXPORT_LOG_LEVEL?: string | undefined
  CHAT_EXPORT_TOKEN?: string | undefined
  /** The source's token for `mirror` (a Zendesk token, not one of this server's). */
  CHAT_EXPORT_MIRROR_TOKEN?: string | undefined
  CHAT_EXPORT_FAULTS?: string | undefined
  CHAT_EXPORT_SEND_TIMEOUT?: string | undefined
  CHAT_EXPORT_MAX_BYTES_IN_FLIGHT?: string | undefined
  CHAT_EXPORT_OAUTH_AUTO_APPROVE?: string | undefined
  CHAT_EXPORT_OAUTH_TOKEN_TTL?: string | undefined
  CHAT_EXPORT_CLOCK?: string | undefined
  CHAT_EXPORT_JOURNAL_SIZE?: string | undefined
  /** PostgreSQL server for benchmarks and tests (tests start an embedded one when unset). */
  DATABASE_URL?: string | undefined
  PORT?: string | undefined
}

/** Reads the process environment; the single place that touches process.env. */
export function processEnvironment(): Environment {
  return process.env
}
