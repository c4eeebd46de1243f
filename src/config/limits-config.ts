/**
 * Resource limits of the HTTP server: how long a reader may stall and how many response bytes may
 * wait to be sent. Declared as `serve` settings (flag > environment > default, like the others).
 * @module
 */
import type { Setting, SettingsReader } from './settings.js'
import { integer, invalid } from './settings.js'

export interface LimitsConfig {
  /**
   * A response whose socket makes no progress for this long is dropped (a reader that stopped
   * reading would otherwise pin its page in memory for as long as it keeps the connection).
   */
  sendTimeoutSeconds: number
  /**
   * Bytes of export pages built but not yet handed to the kernel, over all connections. A page
   * that would push the total over it is refused with 503 OVERLOADED and Retry-After (a page is
   * always served when nothing else is in flight, so one large page cannot starve).
   */
  maxBytesInFlight: number
  /** The Retry-After of such a 503, in whole seconds. */
  overloadRetryAfterSeconds: number
}

export const DEFAULT_LIMITS: LimitsConfig = {
  sendTimeoutSeconds: 60,
  maxBytesInFlight: 64 * 1024 * 1024,
  overloadRetryAfterSeconds: 1,
}

/** A number of seconds above 0, at most a day. */
function seconds(text: string): number {
  const value = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN
  if (!(value > 0 && value <= 86_400))
    invalid('expected a number of seconds above 0, at most 86400')
  return value
}

/** `serve`'s limit settings. */
export const LIMITS_SETTINGS = {
  sendTimeout: {
    flag: '--send-timeout <seconds>',
    help: 'drop a reader whose connection takes no data for this long',
    env: ['CHAT_EXPORT_SEND_TIMEOUT'],
    default: String(DEFAULT_LIMITS.sendTimeoutSeconds),
    parse: seconds,
  },
  maxBytesInFlight: {
    flag: '--max-bytes-in-flight <bytes>',
    help: 'bytes of export pages built but not yet sent, beyond which pages get 503 with Retry-After',
    env: ['CHAT_EXPORT_MAX_BYTES_IN_FLIGHT'],
    default: String(DEFAULT_LIMITS.maxBytesInFlight),
    parse: integer(1),
  },
} as const satisfies Record<string, Setting<unknown>>

/** The limits, read with the command's reader (problems are collected there). */
export function readLimits(read: SettingsReader): LimitsConfig {
  return {
    sendTimeoutSeconds:
      read.value(LIMITS_SETTINGS.sendTimeout) ?? DEFAULT_LIMITS.sendTimeoutSeconds,
    maxBytesInFlight:
      read.value(LIMITS_SETTINGS.maxBytesInFlight) ?? DEFAULT_LIMITS.maxBytesInFlight,
    overloadRetryAfterSeconds: DEFAULT_LIMITS.overloadRetryAfterSeconds,
  }
}
