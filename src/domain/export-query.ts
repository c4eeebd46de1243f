/**
 * The query of an export request: `start_time`, `start_id`, `limit` and `fields`, parsed and
 * checked against the rules of semantics.md §2–§5. Runs on every request, so it does no more
 * than a few regex tests and string slices.
 * @module
 */
import { AppError } from './errors.js'
import type { FieldSelection } from './fields.js'
import { parseFields } from './fields.js'
import type { StreamSpec } from './streams.js'
import type { Micros } from './time.js'
import { formatMicrosAsDecimalSeconds, parseDecimalSecondsToMicros } from './time.js'

export type { FieldSelection } from './fields.js'

/** A validated export request. The `*Raw` members are what the request sent, for `next_page`. */
export interface ExportQuery {
  /** Cursor time in microseconds; 0 when the request had none. */
  startTime: Micros
  /** The stored sort id the cursor starts after; `null` makes `startTime` inclusive. */
  startSortId: string | null
  startIdRaw: string | null
  /** Items to serve: 1…1000. */
  limit: number
  /** The `limit` as sent (echoed by `next_page` even when it was above 1000). */
  limitRaw: string | null
  /** The `fields` value as sent, URL-decoded. */
  fieldsRaw: string | null
  fields: FieldSelection
}

/** What the parser needs to know about the server's state. */
export interface ExportQueryContext {
  /** The server clock. */
  now: Micros
  /** The stream's last assigned position; cursors the server issued may be a few µs past `now`. */
  lastPosition: Micros
  /** `--min-start-age` in µs (0: no minimum age, the default). */
  minStartAgeMicros: Micros
}

export const DEFAULT_LIMIT = 1000
export const MAX_LIMIT = 1000

const DECIMAL = /^(\d+)(?:\.(\d+))?$/
const DIGITS = /^\d+$/
const EXPONENT = /^[+-]?(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+$/
const LEADING_ZEROS = /^0+(?=\d)/
const NONZERO = /[1-9]/

/** A seconds value with this many whole digits (≥ 1e11 s, after the year 5000) is not seconds. */
const SECONDS_MAX_DIGITS = 11
/** On agent_timeline, anything below 1e14 µs (before 1973) is taken for seconds or milliseconds. */
const MICROS_MIN_DIGITS = 15

/**
 * Parses and validates the query parameters of an export request. Empty parameters count as
 * absent (the API document's Go and Java samples send `fields=&limit=&start_id=&start_time=`);
 * unknown parameters are ignored.
 *
 * @throws AppError INVALID_START_TIME, START_TIME_WRONG_UNIT, START_TIME_IN_FUTURE,
 *   START_TIME_TOO_RECENT, INVALID_START_ID, INVALID_LIMIT or INVALID_FIELDS, each with a
 *   description of what was wrong and how to fix it.
 * @example
 * parseExportQuery(streamSpec('chats'), new URLSearchParams('start_time=1608615725.5&limit=50'), ctx)
 * // { startTime: 1608615725500000, startSortId: null, limit: 50, limitRaw: '50', … }
 */
export function parseExportQuery(
  stream: StreamSpec,
  params: URLSearchParams,
  ctx: ExportQueryContext,
): ExportQuery {
  const startTimeRaw = param(params, 'start_time')
  const startTime = startTimeRaw === null ? 0 : parseStartTime(stream, startTimeRaw, ctx)

  const startIdRaw = param(params, 'start_id')
  let startSortId: string | null = null
  if (startIdRaw !== null) {
    const sortId = stream.sortIdFromStartId(startIdRaw)
    if (sortId === undefined) throw invalidStartId(stream, startIdRaw)
    startSortId = sortId
  }

  const limitRaw = param(params, 'limit')
  const limit = limitRaw === null ? DEFAULT_LIMIT : parseLimit(limitRaw)

  const fieldsRaw = param(params, 'fields')
  const fields = parseFields(fieldsRaw, stream)

  return { startTime, startSortId, startIdRaw, limit, limitRaw, fieldsRaw, fields }
}

function param(params: URLSearchParams, name: string): string | null {
  const value = params.get(name)
  return value === '' ? null : value
}

function parseLimit(raw: string): number {
  // Number() of a very long digit string is a huge float or Infinity; both clamp to MAX_LIMIT.
  const value = DIGITS.test(raw) ? Number(raw) : 0
  if (value < 1) {
    throw new AppError(
      'INVALID_LIMIT',
      `limit ${quote(raw)} is not valid: use a whole number from 1 to ${MAX_LIMIT} ` +
        `(larger values are served as ${MAX_LIMIT}), or leave limit out to get ${DEFAULT_LIMIT}.`,
    )
  }
  return Math.min(value, MAX_LIMIT)
}

function parseStartTime(stream: StreamSpec, raw: string, ctx: ExportQueryContext): Micros {
  const match = DECIMAL.exec(raw)
  if (!match) throw invalidStartTime(stream, raw, notANumberReason(raw))
  const whole = (match[1] ?? '0').replace(LEADING_ZEROS, '')
  const fraction = match[2] ?? ''
  const startTime =
    stream.unit === 'seconds'
      ? parseSeconds(stream, raw, whole, fraction)
      : parseMicros(stream, raw, whole, fraction)
  checkRecentEnough(stream, raw, startTime, ctx)
  return startTime
}

function parseSeconds(stream: StreamSpec, raw: string, whole: string, fraction: string): Micros {
  if (whole.length > SECONDS_MAX_DIGITS) {
    const [unit, shift] =
      whole.length <= 14
        ? (['milliseconds', 3] as const)
        : whole.length <= 17
          ? (['microseconds', 6] as const)
          : (['nanoseconds', 9] as const)
    const corrected = decimalString(whole + fraction, fraction.length + shift, 6)
    throw wrongUnit(stream, raw, unit, corrected)
  }
  if (fraction.length > 6 && NONZERO.test(fraction.slice(6))) {
    throw invalidStartTime(
      stream,
      raw,
      'it has more than six decimals, and microseconds are the finest precision',
    )
  }
  const micros = parseDecimalSecondsToMicros(raw)
  // Only reachable past 2^53 µs (the year 2255): a decimal the regex accepted cannot fail otherwise.
  if (micros === undefined) throw inFuture(stream, raw)
  return micros
}

function parseMicros(stream: StreamSpec, raw: string, whole: string, fraction: string): Micros {
  const positive = whole !== '0' || NONZERO.test(fraction)
  if (positive && whole.length < MICROS_MIN_DIGITS) {
    const [unit, shift] =
      whole.length <= SECONDS_MAX_DIGITS
        ? (['seconds', 6] as const)
        : (['milliseconds', 3] as const)
    const corrected = decimalString(whole + fraction, fraction.length - shift, 0)
    throw wrongUnit(stream, raw, unit, corrected)
  }
  if (whole.length >= 18) {
    const corrected = decimalString(whole + fraction, fraction.length + 3, 0)
    throw wrongUnit(stream, raw, 'nanoseconds', corrected)
  }
  if (fraction !== '') {
    throw invalidStartTime(stream, raw, 'it has a fraction, and microseconds are whole numbers')
  }
  const micros = Number(whole)
  if (!Number.isSafeInteger(micros)) throw inFuture(stream, raw)
  return micros
}

function checkRecentEnough(
  stream: StreamSpec,
  raw: string,
  startTime: Micros,
  ctx: ExportQueryContext,
): void {
  // A cursor the server issued may sit a few µs past the wall clock; it must stay usable.
  if (startTime > Math.max(ctx.now, ctx.lastPosition)) throw inFuture(stream, raw, ctx.now)
  if (ctx.minStartAgeMicros > 0) {
    const newest = ctx.now - ctx.minStartAgeMicros
    if (startTime > newest) {
      throw new AppError(
        'START_TIME_TOO_RECENT',
        `Too recent start_time. Use a start_time older than ` +
          `${formatMicrosAsDecimalSeconds(ctx.minStartAgeMicros)} seconds: at most ` +
          `start_time=${formatInUnit(stream, Math.max(0, newest))} right now.`,
      )
    }
  }
}

/**
 * Writes `digits / 10^fractionDigits` as a plain decimal, keeping at most `maxFraction` decimals
 * (truncated, trailing zeros dropped). A negative `fractionDigits` multiplies. Exact: no floats.
 */
function decimalString(digits: string, fractionDigits: number, maxFraction: number): string {
  let text = digits
  let scale = fractionDigits
  if (scale < 0) {
    text += '0'.repeat(-scale)
    scale = 0
  }
  text = text.padStart(scale + 1, '0')
  const integer = text.slice(0, text.length - scale).replace(LEADING_ZEROS, '')
  const decimals = text
    .slice(text.length - scale)
    .slice(0, maxFraction)
    .replace(/0+$/, '')
  return decimals === '' ? integer : `${integer}.${decimals}`
}

function formatInUnit(stream: StreamSpec, micros: Micros): string {
  return stream.unit === 'seconds' ? formatMicrosAsDecimalSeconds(micros) : String(micros)
}

function unitHelp(stream: StreamSpec): string {
  return stream.unit === 'seconds'
    ? `On ${stream.name}, start_time is seconds since the Unix epoch with up to six decimals ` +
        `(for example start_time=1608615725 or start_time=1608615725.123456); ` +
        `0 exports from the beginning.`
    : `On ${stream.name}, start_time is a whole number of microseconds since the Unix epoch ` +
        `(for example start_time=1608615725123456); 0 exports from the beginning.`
}

function notANumberReason(raw: string): string {
  if (raw.startsWith('-')) return 'it is negative'
  if (EXPONENT.test(raw)) return 'exponent notation is not accepted; write the digits out'
  return 'it is not a number'
}

function invalidStartTime(stream: StreamSpec, raw: string, reason: string): AppError {
  return new AppError(
    'INVALID_START_TIME',
    `start_time ${quote(raw)} is not valid: ${reason}. ${unitHelp(stream)}`,
  )
}

function wrongUnit(stream: StreamSpec, raw: string, unit: string, corrected: string): AppError {
  const expected =
    stream.unit === 'seconds'
      ? 'seconds (with up to six decimals)'
      : 'whole microseconds (seconds × 1000000)'
  // A corrected value that would itself be refused (a timeline moment before 1973) helps nobody.
  const fix =
    stream.unit === 'microseconds' && corrected.length < MICROS_MIN_DIGITS
      ? 'Use start_time=0 to export from the beginning.'
      : `Use start_time=${corrected} for the same moment.`
  return new AppError(
    'START_TIME_WRONG_UNIT',
    `start_time ${quote(raw)} looks like ${unit} since the Unix epoch, but ${stream.name} takes ` +
      `start_time in ${expected}. ${fix}`,
  )
}

function inFuture(stream: StreamSpec, raw: string, now?: Micros): AppError {
  const clock = now === undefined ? '' : ` (the server time is ${formatInUnit(stream, now)})`
  return new AppError(
    'START_TIME_IN_FUTURE',
    `start_time ${quote(raw)} lies in the future${clock}. Follow the next_page URL of the ` +
      `previous response, or use a start_time in the past (0 exports from the beginning).`,
  )
}

function invalidStartId(stream: StreamSpec, raw: string): AppError {
  const rule =
    stream.name === 'agent_timeline'
      ? 'on agent_timeline it is an agent id (digits only, at most 20)'
      : `on ${stream.name} it is an item id of at most 200 characters`
  return new AppError(
    'INVALID_START_ID',
    `start_id ${quote(raw)} is not valid: ${rule}. Pass the end_id of the previous page together ` +
      `with its end_time (following next_page does this), or leave start_id out.`,
  )
}

/** Quotes user text for an error description: bounded length, control characters escaped. */
function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text)
}
