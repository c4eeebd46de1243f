/**
 * Reads the text of a top-level JSON number exactly as the server wrote it. `JSON.parse` turns
 * `1608615725.123457` into a binary float; converting that back to microseconds can land one off,
 * and a cursor one microsecond early repeats an item while one late can lose one. The digits are
 * therefore taken from the body itself.
 * @module
 */

/**
 * The raw text of the value of `key` in the top-level object of a JSON document (`"1608615725.5"`,
 * `"null"`), or `undefined` when the key is absent or its value is not a number or null. Keys of
 * nested objects (an item may well have its own `end_time`) are skipped. Assumes `json` is valid
 * JSON (call it after `JSON.parse` succeeded).
 */
export function topLevelRawNumber(json: string, key: string): string | undefined {
  let depth = 0
  let expectKey = false
  let i = 0
  const n = json.length
  while (i < n) {
    const c = json.charCodeAt(i)
    if (c === QUOTE) {
      const end = endOfString(json, i)
      if (depth === 1 && expectKey) {
        const name = json.slice(i + 1, end)
        i = skipWhitespace(json, end + 1) + 1 // past the ':'
        expectKey = false
        if (name === key) {
          const start = skipWhitespace(json, i)
          let stop = start
          while (stop < n && NUMBER_CHARS.test(json.charAt(stop))) stop++
          const text = json.slice(start, stop)
          return text === '' ? undefined : text
        }
        continue
      }
      i = end + 1
      continue
    }
    if (c === OPEN_BRACE) {
      depth++
      if (depth === 1) expectKey = true
    } else if (c === OPEN_BRACKET) {
      depth++
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--
    } else if (c === COMMA && depth === 1) {
      expectKey = true
    }
    i++
  }
  return undefined
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const COMMA = 0x2c
// Number characters plus the letters of `null`, so a null value reads as "null".
const NUMBER_CHARS = /[-+.0-9eEnul]/

/** Index of the closing quote of the string that opens at `start`. */
function endOfString(json: string, start: number): number {
  let i = start + 1
  while (i < json.length) {
    const c = json.charCodeAt(i)
    if (c === BACKSLASH) i += 2
    else if (c === QUOTE) return i
    else i++
  }
  return json.length
}

function skipWhitespace(json: string, start: number): number {
  let i = start
  while (i < json.length && /\s/.test(json.charAt(i))) i++
  return i
}
