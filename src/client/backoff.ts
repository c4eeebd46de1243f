/**
 * How long to wait before retrying: capped exponential backoff with full jitter, floored by the
 * server's `Retry-After`. Pure functions; randomness and the current time are passed in.
 * @module
 */

/** Exponential backoff settings. */
export interface BackoffOptions {
  /** Ceiling of the first retry's wait (before jitter). */
  initialMs: number
  /** No computed wait exceeds this (a server's Retry-After may). */
  maxMs: number
  /** Growth of the ceiling per further retry. */
  multiplier: number
}

/** 0.5 s, doubling, at most 30 s between retries. */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000, multiplier: 2 }

/**
 * The wait before retry number `retry` (1 for the first retry).
 *
 * Full jitter (`random() * ceiling`) spreads out clients that failed together, so they do not come
 * back in lockstep; the server's `Retry-After` is a floor because the server knows when it will
 * accept us again and coming back earlier only earns another 429.
 */
export function backoffDelayMs(
  retry: number,
  options: BackoffOptions,
  random: () => number,
  retryAfterMs?: number,
): number {
  const ceiling = Math.min(
    options.maxMs,
    options.initialMs * Math.pow(options.multiplier, Math.max(0, retry - 1)),
  )
  const jittered = Math.floor(random() * ceiling)
  return Math.max(retryAfterMs ?? 0, jittered)
}

/**
 * Parses a `Retry-After` header: an integer number of seconds (RFC 9110 delay-seconds) or an
 * HTTP-date. Returns milliseconds from `nowMs`, never negative, or `undefined` when the header is
 * absent or unusable (then plain backoff applies).
 */
export function parseRetryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined
  const text = header.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  // Some servers send fractions although the RFC does not allow them; accepting them costs nothing.
  if (/^\d+\.\d+$/.test(text)) return Math.ceil(Number(text) * 1000)
  // HTTP-date (IMF-fixdate, RFC 850 or asctime): all of them name a weekday or month in letters.
  if (!/[A-Za-z]/.test(text)) return undefined
  const date = Date.parse(text)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - nowMs)
}
