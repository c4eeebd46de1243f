/**
 * Exact time handling. Every position and timestamp is an integer number of microseconds since the
 * Unix epoch, held in a JS number (safe up to 2^53 µs, i.e. the year 2255). Decimal strings are parsed
 * digit by digit and written digit by digit, so a binary float never rounds a cursor.
 * @module
 */

/** Integer microseconds since the Unix epoch. */
export type Micros = number

export const MICROS_PER_SECOND = 1_000_000

const DECIMAL = /^(\d+)(?:\.(\d+))?$/

/**
 * Parses a non-negative decimal number of seconds (`"1608615725"`, `"1512172860.657078"`) into
 * integer microseconds without going through a float. Returns `undefined` for anything else,
 * including more than six fractional digits that are not zeros.
 */
export function parseDecimalSecondsToMicros(text: string): Micros | undefined {
  const match = DECIMAL.exec(text)
  if (!match) return undefined
  const whole = match[1] ?? '0'
  let fraction = match[2] ?? ''
  if (fraction.length > 6) {
    // Digits beyond the microsecond are only acceptable when they are zeros (e.g. "…657078000").
    if (!/^0*$/.test(fraction.slice(6))) return undefined
    fraction = fraction.slice(0, 6)
  }
  const micros = Number(whole) * MICROS_PER_SECOND + Number(fraction.padEnd(6, '0'))
  return Number.isSafeInteger(micros) ? micros : undefined
}

/** Parses a non-negative integer string of microseconds; `undefined` if it is not one. */
export function parseIntegerMicros(text: string): Micros | undefined {
  if (!/^\d+$/.test(text)) return undefined
  const micros = Number(text)
  return Number.isSafeInteger(micros) ? micros : undefined
}

/**
 * Writes microseconds as a decimal number of seconds, exactly: `1608615725.123456`, `1608615725.5`,
 * or `1608615725` when the fraction is zero. The result is valid JSON number text.
 */
export function formatMicrosAsDecimalSeconds(micros: Micros): string {
  const whole = Math.floor(micros / MICROS_PER_SECOND)
  const fraction = micros - whole * MICROS_PER_SECOND
  if (fraction === 0) return String(whole)
  return `${whole}.${String(fraction).padStart(6, '0').replace(/0+$/, '')}`
}

/**
 * Formats microseconds as ISO-8601 UTC with a literal `Z`: seconds precision when the fraction is
 * zero (`2020-12-22T05:05:36Z`), otherwise six fractional digits (`2020-12-22T05:05:36.000120Z`).
 */
export function formatIso(micros: Micros): string {
  const whole = Math.floor(micros / MICROS_PER_SECOND)
  const fraction = micros - whole * MICROS_PER_SECOND
  const base = new Date(whole * 1000).toISOString().slice(0, 19)
  return fraction === 0 ? `${base}Z` : `${base}.${String(fraction).padStart(6, '0')}Z`
}

/** Formats microseconds as ISO-8601 UTC always with six fractional digits (agent timeline style). */
export function formatIsoMicros(micros: Micros): string {
  const whole = Math.floor(micros / MICROS_PER_SECOND)
  const fraction = micros - whole * MICROS_PER_SECOND
  const base = new Date(whole * 1000).toISOString().slice(0, 19)
  return `${base}.${String(fraction).padStart(6, '0')}Z`
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]00:?00)$/

/**
 * Parses an ISO-8601 UTC timestamp (`Z` or `+00:00`, up to nine fractional digits, truncated to
 * microseconds) into microseconds. Returns `undefined` when the text is not such a timestamp.
 */
export function parseIso(text: string): Micros | undefined {
  const m = ISO.exec(text)
  if (!m) return undefined
  const [, y, mo, d, h, mi, s, frac] = m
  const date = new Date(0)
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d))
  date.setUTCHours(Number(h), Number(mi), Number(s), 0)
  const ms = date.getTime()
  if (Number.isNaN(ms)) return undefined
  if (
    date.getUTCFullYear() !== Number(y) ||
    date.getUTCDate() !== Number(d) ||
    date.getUTCMonth() !== Number(mo) - 1 ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  ) {
    return undefined
  }
  const micros = (frac ?? '').slice(0, 6).padEnd(6, '0')
  return (ms / 1000) * MICROS_PER_SECOND + Number(micros)
}

/**
 * Float seconds (as JSON numbers such as `10654.117251`) to integer microseconds, rounding to the
 * nearest microsecond. Durations in the agent timeline are written with six decimals at most.
 */
export function secondsToMicros(seconds: number): Micros {
  return Math.round(seconds * MICROS_PER_SECOND)
}

/** Integer microseconds to float seconds, for durations (`duration` fields). */
export function microsToSeconds(micros: Micros): number {
  return Number(formatMicrosAsDecimalSeconds(micros))
}

/**
 * The latest supported time: 2^53 − 1 µs after the epoch (2255-06-05T23:47:34.740991Z), the
 * largest position a JS number holds exactly. Times before the epoch are not supported either: a
 * position is a positive number of µs.
 */
export const MAX_TIME_MICROS: Micros = Number.MAX_SAFE_INTEGER

/**
 * The longest supported duration in seconds (about 285 years): a round bound whose value in µs
 * is still a safe integer.
 */
export const MAX_DURATION_SECONDS = 9_000_000_000

/** The supported range of times, in words for error messages. */
export const SUPPORTED_TIME_RANGE = '1970-01-01T00:00:00Z to 2255-06-05T23:47:34.740991Z'

/** Whether `micros` is a time in the supported range (the epoch to {@link MAX_TIME_MICROS}). */
export function isSupportedTime(micros: number | undefined): micros is Micros {
  return micros !== undefined && Number.isSafeInteger(micros) && micros >= 0
}

/**
 * A time for a message: ISO when it is in the supported range, otherwise the number of µs. Unlike
 * {@link formatIso} it never throws, so an error message about an absurd time can always be written.
 */
export function describeTime(micros: number): string {
  return isSupportedTime(micros) ? formatIso(micros) : `${String(micros)} µs`
}
