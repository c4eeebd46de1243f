/**
 * Finds the items of an export page in the response without parsing them. A chat-export server
 * splices stored bytes into its pages; a sync that stores items as JSON can splice them out again
 * the same way, instead of `JSON.parse` and `JSON.stringify` for every item (the two cost more
 * than the server's whole page).
 *
 * The scanners only track what decides where an item ends: strings (with their escapes), and the
 * depth of objects and arrays. On the way they keep the raw text of a few named top-level
 * attributes (`id`, `deleted`, ...), which is all a destination needs to key an item. They do not
 * validate the JSON inside an item; they answer `undefined` when the structure is not a
 * comma-separated sequence of objects, and the caller then parses the page the ordinary way.
 *
 * `scanRawItemBytes` works on the body's UTF-8 bytes, so a page is never decoded into one large
 * string: each item is a view into the body, decoded only if someone reads its `json`. Every byte
 * of a multi-byte UTF-8 sequence is 0x80 or above, so none can be taken for a quote, a backslash
 * or a bracket. `scanRawItems` is the same scanner over a string. `scanItemLines` reads a page a
 * chat-export server laid out one item per line (`Prefer: item-lines`): it finds each item by its
 * newline and reads no further into it than the attributes asked for.
 * @module
 */

/** One item of a page, as the server sent it. */
export interface RawItem {
  /** The item's JSON text, exactly what the server wrote (no whitespace around it). */
  readonly json: string
  /** The same text as UTF-8 bytes (a view into the page's body when the page was read as bytes). */
  readonly bytes: Uint8Array
  /**
   * The raw JSON text of the requested top-level attributes that the item has, e.g.
   * `{ id: '"2412.1.abc"', deleted: 'false' }`. Names are compared as written (unescaped).
   */
  readonly attributes: Record<string, string>
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const COMMA = 0x2c
const COLON = 0x3a
const NEWLINE = 0x0a

const utf8Decoder = new TextDecoder()
const utf8Encoder = new TextEncoder()

/** A raw item that holds its text or its bytes and makes the other on first use. */
class PageRawItem implements RawItem {
  private text: string | undefined
  private utf8: Uint8Array | undefined
  constructor(
    text: string | undefined,
    utf8: Uint8Array | undefined,
    readonly attributes: Record<string, string>,
  ) {
    this.text = text
    this.utf8 = utf8
  }

  get json(): string {
    return (this.text ??= utf8Decoder.decode(this.utf8))
  }

  get bytes(): Uint8Array {
    return (this.utf8 ??= utf8Encoder.encode(this.text))
  }
}

/** A raw item for JSON text that was written, not found (an item that had to be parsed). */
export function rawItemOfText(json: string, attributes: Record<string, string>): RawItem {
  return new PageRawItem(json, undefined, attributes)
}

/**
 * The objects in `bytes[start, end)`, which must hold `{…}, {…}, …` (JSON whitespace allowed
 * between tokens), the inside of a JSON array of objects, as UTF-8. `attributes` names the
 * top-level attributes whose raw value text to keep. `undefined` when the region is not such a
 * sequence. Each item's `bytes` is a view into `bytes` (no copy): keep `bytes` unchanged.
 *
 * An item is read member by member (`"name": value`); a nested value is skipped by depth alone.
 * This is as fast as the string scanner on a string and needs no decoded page.
 */
export function scanRawItemBytes(
  bytes: Uint8Array,
  start: number,
  end: number,
  attributes: readonly string[],
): RawItem[] | undefined {
  const names = attributes.map((name) => utf8Encoder.encode(name))
  const items: RawItem[] = []
  let i = skipWhitespaceBytes(bytes, start, end)
  if (i === end) return items
  for (;;) {
    if (i >= end || bytes[i] !== OPEN_BRACE) return undefined
    const itemStart = i
    const found: Record<string, string> = {}
    i = scanMembers(bytes, i, end, attributes, names, found, false)
    if (i < 0) return undefined
    items.push(new PageRawItem(undefined, bytes.subarray(itemStart, i), found))
    i = skipWhitespaceBytes(bytes, i, end)
    if (i === end) return items
    if (bytes[i] !== COMMA) return undefined
    i = skipWhitespaceBytes(bytes, i + 1, end)
  }
}

/**
 * The items of `bytes[start, end)` laid out one per line, as a chat-export server writes them
 * when asked (`Prefer: item-lines`): `\n{…},\n{…}\n`. Each line is found with a byte search and
 * only its first members are read, until every named attribute has been seen (a chat's `deleted`
 * and `id` come before its history); the rest of the line is not looked at. That relies on what
 * the server vouches for with that layout: compact items, without a raw newline or a repeated
 * name. `undefined` when the region is not laid out so; the caller then scans it with
 * `scanRawItemBytes`, which reads every byte.
 */
export function scanItemLines(
  bytes: Uint8Array,
  start: number,
  end: number,
  attributes: readonly string[],
): RawItem[] | undefined {
  if (start === end) return []
  if (bytes[start] !== NEWLINE || bytes[end - 1] !== NEWLINE) return undefined
  const names = attributes.map((name) => utf8Encoder.encode(name))
  const items: RawItem[] = []
  const find = byteSearch(bytes)
  let i = start + 1
  while (i < end) {
    const newline = find(NEWLINE, i)
    if (newline < 0 || newline >= end) return undefined
    // Every line but the last ends with the comma that separates it from the next.
    const last = newline === end - 1
    const itemEnd = last ? newline : newline - 1
    if (!last && bytes[itemEnd] !== COMMA) return undefined
    if (bytes[i] !== OPEN_BRACE || bytes[itemEnd - 1] !== CLOSE_BRACE) return undefined
    const found: Record<string, string> = {}
    // Either stopped at the last wanted attribute (it answers itemEnd) or read the whole line:
    // an object that ends before the line does is not this layout.
    if (scanMembers(bytes, i, itemEnd, attributes, names, found, true) !== itemEnd) return undefined
    items.push(new PageRawItem(undefined, bytes.subarray(i, itemEnd), found))
    i = newline + 1
  }
  return items
}

/**
 * Reads the members of the object that opens at `bytes[open]`, keeping the raw value text of the
 * named ones in `found`. Returns the index just after its closing brace, or -1 when it is not an
 * object. With `untilFound`, stops as soon as every name has been seen and returns `end`.
 */
function scanMembers(
  bytes: Uint8Array,
  open: number,
  end: number,
  attributes: readonly string[],
  names: Uint8Array[],
  found: Record<string, string>,
  untilFound: boolean,
): number {
  let seen = 0
  let i = skipWhitespaceBytes(bytes, open + 1, end)
  if (bytes[i] === CLOSE_BRACE) return i + 1
  for (;;) {
    if (i >= end || bytes[i] !== QUOTE) return -1
    const nameStart = i + 1
    i = endOfStringBytes(bytes, nameStart, end)
    if (i < 0) return -1
    const nameEnd = i - 1
    i = skipWhitespaceBytes(bytes, i, end)
    if (i >= end || bytes[i] !== COLON) return -1
    i = skipWhitespaceBytes(bytes, i + 1, end)
    if (i >= end) return -1
    const valueStart = i
    const first = bytes[i++]
    if (first === QUOTE) i = endOfStringBytes(bytes, i, end)
    else if (first === OPEN_BRACE || first === OPEN_BRACKET) i = endOfNested(bytes, i, end)
    else while (i < end && !endsScalar(bytes[i] ?? 0)) i++
    if (i < 0) return -1
    const name = matchName(bytes, nameStart, nameEnd, names)
    if (name >= 0) {
      found[attributes[name] ?? ''] = decodeSmall(bytes, valueStart, i)
      if (untilFound && ++seen === names.length) return end
    }
    i = skipWhitespaceBytes(bytes, i, end)
    if (i >= end) return -1
    const next = bytes[i++]
    if (next === CLOSE_BRACE) return i
    if (next !== COMMA) return -1
    i = skipWhitespaceBytes(bytes, i, end)
  }
}

/**
 * `indexOf` of one byte in `bytes`: Buffer's where the runtime has it (a memchr, about 10× the
 * speed of Uint8Array's on a 4 MB page), else the typed array's own.
 */
function byteSearch(bytes: Uint8Array): (byte: number, from: number) => number {
  const NodeBuffer = (
    globalThis as {
      Buffer?: { from(buffer: ArrayBufferLike, offset: number, length: number): Uint8Array }
    }
  ).Buffer
  const view =
    NodeBuffer === undefined ? bytes : NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
  return (byte, from) => view.indexOf(byte, from)
}

/** Index just after the quote that closes a string whose text starts at `from`, or -1. */
function endOfStringBytes(bytes: Uint8Array, from: number, end: number): number {
  let i = from
  while (i < end) {
    const c = bytes[i++]
    if (c === QUOTE) return i
    if (c === BACKSLASH) i++
  }
  return -1
}

/**
 * Index just after the bracket that closes the object or array opened just before `from`, or
 * -1. Only depth is tracked here: the content of a nested value is not looked at.
 */
function endOfNested(bytes: Uint8Array, from: number, end: number): number {
  let depth = 1
  let i = from
  while (i < end) {
    const c = bytes[i++]
    if (c === QUOTE) {
      i = endOfStringBytes(bytes, i, end)
      if (i < 0) return -1
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (--depth === 0) return i
    }
  }
  return -1
}

/** Index in `names` of the name spelled by `bytes[start, end)`, or -1. */
function matchName(bytes: Uint8Array, start: number, end: number, names: Uint8Array[]): number {
  const length = end - start
  outer: for (let n = 0; n < names.length; n++) {
    const name = names[n]
    if (name === undefined || name.length !== length) continue
    for (let k = 0; k < length; k++) if (bytes[start + k] !== name[k]) continue outer
    return n
  }
  return -1
}

/** Whether `c` ends a number or literal: a separator, a closing bracket or whitespace. */
function endsScalar(c: number): boolean {
  return (
    c === COMMA ||
    c === CLOSE_BRACE ||
    c === CLOSE_BRACKET ||
    c === 0x20 ||
    c === 0x0a ||
    c === 0x0d ||
    c === 0x09
  )
}

/** The text of a short span: attribute values are mostly ASCII, decoded without TextDecoder. */
function decodeSmall(bytes: Uint8Array, start: number, end: number): string {
  if (end - start > 64) return utf8Decoder.decode(bytes.subarray(start, end))
  let text = ''
  for (let k = start; k < end; k++) {
    const c = bytes[k] ?? 0
    if (c >= 0x80) return utf8Decoder.decode(bytes.subarray(start, end))
    text += String.fromCharCode(c)
  }
  return text
}

function skipWhitespaceBytes(bytes: Uint8Array, start: number, end: number): number {
  let i = start
  while (i < end) {
    const c = bytes[i]
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break
    i++
  }
  return i
}

/**
 * The objects in `text[start, end)`, which must hold `{…}, {…}, …` (JSON whitespace allowed
 * between them), the inside of a JSON array of objects. `attributes` names the top-level
 * attributes whose raw value text to keep. `undefined` when the region is not such a sequence.
 */
export function scanRawItems(
  text: string,
  start: number,
  end: number,
  attributes: readonly string[],
): RawItem[] | undefined {
  const items: RawItem[] = []
  let i = skipWhitespace(text, start, end)
  if (i === end) return items
  for (;;) {
    if (text.charCodeAt(i) !== OPEN_BRACE) return undefined
    const itemStart = i
    const found: Record<string, string> = {}
    let depth = 0
    let expectKey = false
    let pending: string | undefined
    let valueStart = -1
    for (;;) {
      if (i >= end) return undefined
      const c = text.charCodeAt(i)
      if (c === QUOTE) {
        const close = endOfString(text, i, end)
        if (close < 0) return undefined
        if (depth === 1 && expectKey) {
          expectKey = false
          const name = text.slice(i + 1, close)
          if (attributes.includes(name)) {
            pending = name
            valueStart = -1
          }
        }
        i = close + 1
        continue
      }
      if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        depth++
        if (depth === 1) expectKey = true
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (depth === 1 && pending !== undefined && valueStart >= 0) {
          found[pending] = text.slice(valueStart, i).trim()
          pending = undefined
        }
        depth--
        if (depth === 0) {
          if (c !== CLOSE_BRACE) return undefined
          i++
          break
        }
        if (depth < 0) return undefined
      } else if (depth === 1) {
        if (c === COLON) {
          if (pending !== undefined && valueStart < 0) valueStart = i + 1
        } else if (c === COMMA) {
          if (pending !== undefined && valueStart >= 0)
            found[pending] = text.slice(valueStart, i).trim()
          pending = undefined
          expectKey = true
        }
      }
      i++
    }
    items.push(new PageRawItem(text.slice(itemStart, i), undefined, found))
    i = skipWhitespace(text, i, end)
    if (i === end) return items
    if (text.charCodeAt(i) !== COMMA) return undefined
    i = skipWhitespace(text, i + 1, end)
  }
}

/** Index of the quote that closes the string opening at `open`, or -1 before `end`. */
function endOfString(text: string, open: number, end: number): number {
  let from = open + 1
  for (;;) {
    const quote = text.indexOf('"', from)
    if (quote < 0 || quote >= end) return -1
    // Escaped when preceded by an odd number of backslashes.
    let backslashes = 0
    for (let b = quote - 1; text.charCodeAt(b) === BACKSLASH; b--) backslashes++
    if (backslashes % 2 === 0) return quote
    from = quote + 1
  }
}

function skipWhitespace(text: string, start: number, end: number): number {
  let i = start
  while (i < end) {
    const c = text.charCodeAt(i)
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break
    i++
  }
  return i
}
