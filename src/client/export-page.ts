/**
 * One export page as the client hands it out, the resumable cursor, and the parsing of a response
 * body into a page (semantics.md §2).
 * @module
 */
import { parseDecimalSecondsToMicros, parseIntegerMicros } from '../domain/time.js'
import { ExportProtocolError, InvalidCursorError } from './errors.js'
import type { ExportStream } from './export-streams.js'
import { STREAM_TIME_UNIT, isExportStream } from './export-streams.js'
import { topLevelRawNumber } from './raw-json-number.js'
import type { RawItem } from './raw-items.js'
import { rawItemOfText, scanItemLines, scanRawItemBytes, scanRawItems } from './raw-items.js'

/**
 * Where to resume a stream: plain JSON, safe to store anywhere (it holds no credentials; the token
 * travels in a header). `nextPage` is the server's `next_page`, used verbatim.
 */
export interface ExportCursor {
  stream: ExportStream
  nextPage: string
}

/** An exported item: a JSON object (chat, conversion, department event, span or agent event). */
export type ExportItem = Record<string, unknown>

/** One page of a stream. */
export interface ExportPage<T = ExportItem> {
  stream: ExportStream
  items: T[]
  /** Items on this page, as the server counted them. */
  count: number
  /**
   * The page's `end_time` in integer microseconds, for every stream (seconds streams are converted
   * exactly from the digits on the wire). On an empty page it is the request's cursor. `null` when
   * the server sent none.
   */
  endTime: number | null
  /** The page's `end_id` (absent on agent_timeline from some servers), as a string. */
  endId: string | null
  /** The server's `next_page`, verbatim. */
  nextPage: string
  /** The cursor to resume after this page. */
  cursor: ExportCursor
  /** `count < limit`: the export has nothing more right now; `nextPage` is the polling URL. */
  caughtUp: boolean
  /**
   * With the `rawItems` option: each item's JSON text as the server sent it, in page order. `items`
   * is then parsed from these only when first read.
   */
  rawItems?: RawItem[]
}

/** How `parsePageBody` should hand out the items. */
export interface ParsePageOptions {
  /**
   * Keep each item's raw JSON text (and the raw text of these top-level attributes) and parse
   * `items` only on demand. Undefined: parse every item at once.
   */
  rawAttributes?: readonly string[]
  /**
   * The server said (`Preference-Applied: item-lines`) that it put each item on a line of its
   * own: with `rawAttributes`, the items are then found by a byte search, not by a scan of every
   * byte. A page that turns out not to be so laid out is scanned as usual.
   */
  itemLines?: boolean
}

/**
 * Checks a cursor that came back from storage. Accepts the object or its JSON text; throws an
 * InvalidCursorError that says what is wrong.
 */
export function parseExportCursor(value: unknown): ExportCursor {
  let data = value
  if (typeof value === 'string') {
    try {
      data = JSON.parse(value) as unknown
    } catch {
      throw new InvalidCursorError(
        'The cursor is not valid JSON; expected {"stream": ..., "nextPage": ...}.',
      )
    }
  }
  if (typeof data !== 'object' || data === null) {
    throw new InvalidCursorError('The cursor must be an object {"stream": ..., "nextPage": ...}.')
  }
  const { stream, nextPage } = data as { stream?: unknown; nextPage?: unknown }
  if (!isExportStream(stream)) {
    throw new InvalidCursorError(`The cursor names an unknown stream: ${JSON.stringify(stream)}.`)
  }
  if (typeof nextPage !== 'string' || !isHttpUrl(nextPage)) {
    throw new InvalidCursorError('The cursor has no nextPage http(s) URL.')
  }
  return { stream, nextPage }
}

/** Whether `text` is an absolute http: or https: URL. */
export function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}

/**
 * The page a 200 body describes. Throws SyntaxError when the body is not JSON (typically a
 * connection cut mid-body: the caller retries) and ExportProtocolError when it is JSON but not an
 * export page (the caller does not retry).
 *
 * A chat-export server writes `{"<stream>":[items…],"count":…,"end_id":…,"end_time":…,
 * "next_page":…}`. That shape is read from the tail first: only the small object after the items
 * is parsed, and with `rawAttributes` the items are found by the scanner in raw-items.ts instead
 * of being parsed. A body given as bytes is then never decoded as a whole: each raw item is a
 * view into it. Any other shape (another server's key order, whitespace) is parsed whole.
 */
export function parsePageBody(
  stream: ExportStream,
  body: string | Uint8Array,
  limit: number,
  redactedUrl: string,
  options: ParsePageOptions = {},
): ExportPage {
  if (typeof body !== 'string') {
    const raw =
      options.rawAttributes === undefined
        ? undefined
        : rawPageOfBytes(stream, body, options.rawAttributes, options.itemLines === true)
    if (raw !== undefined) return pageOf(stream, raw.tail, raw.items, undefined, limit, redactedUrl)
    return parsePageBody(stream, utf8Decoder.decode(body), limit, redactedUrl, options)
  }
  const fail = (what: string) =>
    new ExportProtocolError(
      `The response from ${redactedUrl} is not an export page: ${what}.`,
      redactedUrl,
    )
  const tail = pageTail(stream, body)
  const raw =
    tail !== undefined && options.rawAttributes !== undefined
      ? scanRawItems(body, stream.length + 5, tail.itemsEnd, options.rawAttributes)
      : undefined
  if (raw !== undefined && tail !== undefined)
    return pageOf(stream, tail, raw, undefined, limit, redactedUrl)
  const data = JSON.parse(body) as unknown
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw fail('not a JSON object')
  const page = data as Record<string, unknown>
  const all = page[stream]
  if (!Array.isArray(all)) throw fail(`no "${stream}" array`)
  for (const item of all) {
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw fail('an item is not an object')
  }
  const items = all as ExportItem[]
  const rawItems =
    options.rawAttributes === undefined
      ? undefined
      : items.map((item) => rawOf(item, options.rawAttributes ?? []))
  // The tail, when there is one, holds end_time's digits: no need to look through the whole body.
  const text = tail?.text ?? body
  return pageOf(stream, { fields: page, text }, rawItems, items, limit, redactedUrl)
}

const utf8Decoder = new TextDecoder()

/** The page's fields (the tail object, or the whole page) and the text to read `end_time` from. */
interface PageFields {
  fields: Record<string, unknown>
  text: string
}

/** The checked page, from its fields and its items (raw, parsed, or both). */
function pageOf(
  stream: ExportStream,
  { fields: page, text }: PageFields,
  rawItems: RawItem[] | undefined,
  items: ExportItem[] | undefined,
  limit: number,
  redactedUrl: string,
): ExportPage {
  const fail = (what: string) =>
    new ExportProtocolError(
      `The response from ${redactedUrl} is not an export page: ${what}.`,
      redactedUrl,
    )
  const count = page.count
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0)
    throw fail('no integer "count"')
  // A page whose count disagrees with its items was damaged on the way (a proxy, a fault):
  // retried like a cut-off body, never taken, so the cursor does not move past unseen items.
  const held = rawItems?.length ?? items?.length ?? 0
  if (count !== held)
    throw new DamagedPageError(
      `The response from ${redactedUrl} says count ${count} but holds ${held} items.`,
    )
  const nextPage = page.next_page
  if (typeof nextPage !== 'string' || !isHttpUrl(nextPage))
    throw fail('no absolute "next_page" URL')
  const endId = page.end_id
  const result: ExportPage = {
    stream,
    items: items ?? [],
    count,
    endTime: exactEndTime(stream, text, page.end_time),
    endId: typeof endId === 'string' || typeof endId === 'number' ? String(endId) : null,
    nextPage,
    cursor: { stream, nextPage },
    caughtUp: count < limit,
  }
  if (rawItems === undefined) return result
  result.rawItems = rawItems
  if (items === undefined) {
    // Parsed only if someone reads them: a sync that stores the raw text never does.
    const texts = rawItems
    let parsed: ExportItem[] | undefined
    Object.defineProperty(result, 'items', {
      enumerable: true,
      get: () => (parsed ??= texts.map((r) => JSON.parse(r.json) as ExportItem)),
    })
  }
  return result
}

/**
 * A body in the chat-export layout, as bytes: its tail (decoded and parsed on its own) and its
 * items found by the byte scanner. `undefined` for any other layout. As in `pageTail`, the last
 * `],"` is where the items end.
 */
function rawPageOfBytes(
  stream: ExportStream,
  body: Uint8Array,
  attributes: readonly string[],
  itemLines: boolean,
): { tail: PageFields; items: RawItem[] } | undefined {
  const tail = bytesTail(stream, body)
  if (tail === undefined) return undefined
  if (itemLines) {
    // Taken only when the lines agree with the count; otherwise every byte is scanned, and that
    // scan decides whether the page is damaged.
    const lines = scanItemLines(body, tail.itemsStart, tail.itemsEnd, attributes)
    if (lines !== undefined && lines.length === tail.fields.fields.count)
      return { tail: tail.fields, items: lines }
  }
  const items = scanRawItemBytes(body, tail.itemsStart, tail.itemsEnd, attributes)
  return items === undefined ? undefined : { tail: tail.fields, items }
}

/** The tail of a body in the chat-export layout, as bytes (see rawPageOfBytes), or undefined. */
function bytesTail(
  stream: ExportStream,
  body: Uint8Array,
): { fields: PageFields; itemsStart: number; itemsEnd: number } | undefined {
  const head = `{"${stream}":[`
  if (body.length < head.length) return undefined
  for (let k = 0; k < head.length; k++) if (body[k] !== head.charCodeAt(k)) return undefined
  let close = body.length - 3
  while (
    close >= head.length &&
    !(body[close] === 0x5d && body[close + 1] === 0x2c && body[close + 2] === 0x22)
  )
    close--
  if (close < head.length) return undefined
  const fields = tailFields(stream, `{${utf8Decoder.decode(body.subarray(close + 2))}`)
  return fields === undefined ? undefined : { fields, itemsStart: head.length, itemsEnd: close }
}

/**
 * The `next_page` of a full page (`count` equal to `limit`) in the chat-export layout, read from
 * the tail alone, before the items are looked at: the URL a client will fetch next unless this
 * page turns out damaged, so it can ask for it while it scans this one. `undefined` for a page
 * that is not full, for another layout, or when the tail says nothing usable.
 */
export function peekNextPage(
  stream: ExportStream,
  body: Uint8Array,
  limit: number,
): string | undefined {
  const fields = bytesTail(stream, body)?.fields.fields
  if (fields === undefined || fields.count !== limit) return undefined
  const next = fields.next_page
  return typeof next === 'string' && isHttpUrl(next) ? next : undefined
}

/**
 * The object after the items of a page in the chat-export layout, parsed on its own, and where
 * the items end. `undefined` for any other layout. The last `],"` of the body is where the items
 * array ends: outside strings the tail holds only scalars, and inside a JSON string a quote is
 * always escaped, so `],"` cannot occur there.
 */
function pageTail(
  stream: ExportStream,
  body: string,
): (PageFields & { itemsEnd: number }) | undefined {
  const head = `{"${stream}":[`
  if (!body.startsWith(head)) return undefined
  const close = body.lastIndexOf('],"')
  if (close < head.length) return undefined
  const fields = tailFields(stream, `{${body.slice(close + 2)}`)
  return fields === undefined ? undefined : { ...fields, itemsEnd: close }
}

/** The tail object `{"count":…,…}` parsed, or `undefined` when it is not one (another layout). */
function tailFields(stream: ExportStream, text: string): PageFields | undefined {
  let fields: unknown
  try {
    fields = JSON.parse(text)
  } catch {
    return undefined
  }
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return undefined
  if (Object.hasOwn(fields, stream)) return undefined
  return { fields: fields as Record<string, unknown>, text }
}

/** The raw form of an item that had to be parsed (a page in another layout). */
function rawOf(item: ExportItem, attributes: readonly string[]): RawItem {
  const found: Record<string, string> = {}
  for (const name of attributes) {
    if (Object.hasOwn(item, name) && item[name] !== undefined)
      found[name] = JSON.stringify(item[name])
  }
  return rawItemOfText(JSON.stringify(item), found)
}

/** A page that parses but contradicts itself (count ≠ items): retryable, like a cut-off body. */
export class DamagedPageError extends Error {
  override readonly name = 'DamagedPageError'
}

/** `end_time` in integer µs, from the raw digits when possible (see raw-json-number.ts). */
function exactEndTime(stream: ExportStream, body: string, parsed: unknown): number | null {
  if (typeof parsed !== 'number') return null
  const raw = topLevelRawNumber(body, 'end_time')
  const seconds = STREAM_TIME_UNIT[stream] === 'seconds'
  const exact =
    raw === undefined
      ? undefined
      : seconds
        ? parseDecimalSecondsToMicros(raw)
        : parseIntegerMicros(raw)
  if (exact !== undefined) return exact
  // Exponent notation or a negative value: not what our server writes; the float is the best we have.
  return Math.round(seconds ? parsed * 1_000_000 : parsed)
}
