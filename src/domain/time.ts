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
  const base = isoSecondsText(whole)
  return fraction === 0 ? `${base}Z` : `${base}.${String(fraction).padStart(6, '0')}Z`
}

/** Formats microseconds as ISO-8601 UTC always with six fractional digits (agent timeline style). */
export function formatIsoMicros(micros: Micros): string {
  const whole = Math.floor(micros / MICROS_PER_SECOND)
  const fraction = micros - whole * MICROS_PER_SECOND
  return `${isoSecondsText(whole)}.${String(fraction).padStart(6, '0')}Z`
}

const SECONDS_PER_DAY = 86_400
/** The last second of 9999-12-31: past it, `Date` writes six-digit years. */
const LAST_FOUR_DIGIT_YEAR_SECOND = 253_402_300_799

/**
 * `YYYY-MM-DDTHH:MM:SS` of a whole number of seconds since the epoch, exactly as
 * `new Date(seconds * 1000).toISOString().slice(0, 19)` writes it. Folding and ingest format
 * several timestamps per event, so years 1970–9999 are written by arithmetic; other values (and
 * non-integers) go through `Date`, which also throws for them where it would.
 */
function isoSecondsText(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds > LAST_FOUR_DIGIT_YEAR_SECOND) {
    return new Date(seconds * 1000).toISOString().slice(0, 19)
  }
  const days = Math.floor(seconds / SECONDS_PER_DAY)
  const inDay = seconds - days * SECONDS_PER_DAY
  const hours = Math.floor(inDay / 3600)
  const minutes = Math.floor((inDay - hours * 3600) / 60)
  const secs = inDay - hours * 3600 - minutes * 60
  return `${dateText(days)}T${two(hours)}:${two(minutes)}:${two(secs)}`
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}

/** The last day formatted and its text: consecutive timestamps mostly fall on the same day. */
let lastDay = -1
let lastDayText = ''

/**
 * `YYYY-MM-DD` of a day number (days since 1970-01-01, 0 to 2 932 896), by H. Hinnant's
 * civil-from-days algorithm (proleptic Gregorian, as `Date`).
 */
function dateText(days: number): string {
  if (days === lastDay) return lastDayText
  const z = days + 719_468
  const era = Math.floor(z / 146_097)
  const doe = z - era * 146_097
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  )
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0)
  lastDay = days
  lastDayText = `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}`
  return lastDayText
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days-from-civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yoe = y - era * 400
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
  return era * 146_097 + doe - 719_468
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return DAYS_IN_MONTH[month - 1] ?? 0
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28
}

/** The value of the ASCII digits of `text` from `start` (exclusive `end`), or -1 if one is not. */
function digitsAt(text: string, start: number, end: number): number {
  let value = 0
  for (let i = start; i < end; i++) {
    const d = text.charCodeAt(i) - 48
    if (d < 0 || d > 9) return -1
    value = value * 10 + d
  }
  return value
}

/**
 * Parses an ISO-8601 UTC timestamp (`Z` or `+00:00`, up to nine fractional digits, truncated to
 * microseconds) into microseconds. Returns `undefined` when the text is not such a timestamp.
 * Accepts exactly `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±00:00|±0000)` with a real calendar date;
 * read character by character (every event carries several timestamps).
 */
export function parseIso(text: string): Micros | undefined {
  const length = text.length
  if (
    length < 20 ||
    text.charCodeAt(4) !== 45 || // -
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 84 || // T
    text.charCodeAt(13) !== 58 || // :
    text.charCodeAt(16) !== 58
  ) {
    return undefined
  }
  const year = digitsAt(text, 0, 4)
  const month = digitsAt(text, 5, 7)
  const day = digitsAt(text, 8, 10)
  const hours = digitsAt(text, 11, 13)
  const minutes = digitsAt(text, 14, 16)
  const seconds = digitsAt(text, 17, 19)
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return undefined
  }
  if (hours < 0 || hours > 23 || minutes < 0 || minutes > 59 || seconds < 0 || seconds > 59) {
    return undefined
  }
  let i = 19
  let fraction = 0
  if (text.charCodeAt(i) === 46) {
    // .
    let digits = 0
    for (i = 20; i < length; i++) {
      const d = text.charCodeAt(i) - 48
      if (d < 0 || d > 9) break
      if (digits < 6) fraction = fraction * 10 + d
      digits++
    }
    if (digits === 0 || digits > 9) return undefined
    for (; digits < 6; digits++) fraction *= 10
  }
  const zone = length - i
  const sign = text.charCodeAt(i)
  const utc =
    zone === 1
      ? sign === 90 // Z
      : (sign === 43 || sign === 45) && // + -
        (zone === 5
          ? digitsAt(text, i + 1, i + 5) === 0
          : zone === 6 &&
            text.charCodeAt(i + 3) === 58 &&
            digitsAt(text, i + 1, i + 3) === 0 &&
            digitsAt(text, i + 4, i + 6) === 0)
  if (!utc) return undefined
  const total =
    daysFromCivil(year, month, day) * SECONDS_PER_DAY + hours * 3600 + minutes * 60 + seconds
  return total * MICROS_PER_SECOND + fraction
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
