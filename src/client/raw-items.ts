/**
 * Finds the items of an export page in the response text without parsing them. A chat-export
 * server splices stored bytes into its pages; a sync that stores items as JSON can splice them
 * out again the same way, instead of `JSON.parse` and `JSON.stringify` for every item (the two
 * cost more than the server's whole page).
 *
 * The scanner only tracks what decides where an item ends: strings (with their escapes, found with
 * `indexOf`), and the depth of objects and arrays. On the way it keeps the raw text of a few named
 * top-level attributes (`id`, `deleted`, ...), which is all a destination needs to key an item.
 * It does not validate the JSON inside an item; it answers `undefined` when the structure is not a
 * comma-separated sequence of objects, and the caller then parses the page the ordinary way.
 * @module
 */

/** One item of a page, as the server sent it. */
export interface RawItem {
  /** The item's JSON text, exactly the bytes the server wrote (no whitespace around it). */
  json: string
  /**
   * The raw JSON text of the requested top-level attributes that the item has, e.g.
   * `{ id: '"2412.1.abc"', deleted: 'false' }`. Names are compared as written (unescaped).
   */
  attributes: Record<string, string>
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const COMMA = 0x2c
const COLON = 0x3a

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
    items.push({ json: text.slice(itemStart, i), attributes: found })
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
