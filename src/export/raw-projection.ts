/**
 * Projection of an item's stored JSON bytes onto a `fields` selection without parsing it: the
 * scanner walks the text, skips what the selection does not name and copies the spans it does
 * (as Buffer slices, without a copy until the page is concatenated). Parsing each summary into
 * objects and serialising the projection cost more than splicing a whole page; this costs a scan.
 *
 * The bytes are exactly `JSON.stringify(projectItem(JSON.parse(text), selection))` whenever the
 * stored text is what JSON.stringify writes (compact, its number and string forms), as every body
 * and summary the stores write is. Anything else (whitespace between tokens, a number or escape
 * JSON.stringify would write differently, a repeated key, malformed JSON) makes the scanner give
 * up on that item, and the caller projects it the slow way: the output never depends on which.
 * @module
 */
import type { SelectionTree } from '../domain/fields.js'

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a
const COMMA_CODE = 0x2c
const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d

const OPEN_OBJECT_BYTES = Buffer.from('{')
const CLOSE_OBJECT_BYTES = Buffer.from('}')
const OPEN_ARRAY_BYTES = Buffer.from('[')
const CLOSE_ARRAY_BYTES = Buffer.from(']')
const COMMA_BYTES = Buffer.from(',')
const COLON_BYTES = Buffer.from(':')

/** Thrown inside the scanner when the text is not in JSON.stringify's form; never escapes. */
class NotCanonical extends Error {}
const NOT_CANONICAL = new NotCanonical()

/**
 * Appends the projection of `text` (one JSON value) onto `tree` to `parts` and returns true, or
 * leaves `parts` as it was and returns false when the text is not in JSON.stringify's form.
 */
export function projectRawJson(text: Buffer, tree: SelectionTree, parts: Buffer[]): boolean {
  const mark = parts.length
  // Strings without escapes can be skipped with a native search for their closing quote.
  const scanner = new Scanner(text, text.indexOf(BACKSLASH) !== -1)
  try {
    const end = scanner.project(0, tree, parts)
    if (end !== text.length) throw NOT_CANONICAL
    return true
  } catch (error) {
    if (!(error instanceof NotCanonical) && !(error instanceof RangeError)) throw error
    parts.length = mark
    return false
  }
}

/** Whether the selection can be projected from raw text (names JSON.parse treats specially). */
export function rawProjectable(tree: SelectionTree): boolean {
  // A bit per attribute of a level records which ones an object has matched.
  if (tree.size > 30) return false
  for (const [key, node] of tree) {
    if (key === '__proto__') return false
    if (node !== true && !rawProjectable(node)) return false
  }
  return true
}

interface Entry {
  /** The attribute name as UTF-8, compared with the key's bytes as written. */
  bytes: Buffer
  key: string
  node: SelectionTree | true
}

const ENTRIES = new WeakMap<SelectionTree, Entry[]>()

/** A selection level as byte strings, made once per selection. */
function entriesOf(tree: SelectionTree): Entry[] {
  let entries = ENTRIES.get(tree)
  if (entries === undefined) {
    entries = [...tree].map(([key, node]) => ({ bytes: Buffer.from(key, 'utf8'), key, node }))
    ENTRIES.set(tree, entries)
  }
  return entries
}

class Scanner {
  constructor(
    private readonly buf: Buffer,
    private readonly hasEscapes: boolean,
  ) {}

  /** Projects the value at `i` onto `tree`; returns the index after it. */
  project(i: number, tree: SelectionTree, parts: Buffer[]): number {
    const c = this.buf[i]
    if (c === OPEN_OBJECT) return this.projectObject(i, tree, parts)
    if (c === OPEN_ARRAY) {
      // A path through an array applies to each element.
      parts.push(OPEN_ARRAY_BYTES)
      let j = i + 1
      if (this.buf[j] === CLOSE_ARRAY) {
        parts.push(CLOSE_ARRAY_BYTES)
        return j + 1
      }
      for (;;) {
        j = this.project(j, tree, parts)
        const d = this.buf[j]
        if (d === CLOSE_ARRAY) {
          parts.push(CLOSE_ARRAY_BYTES)
          return j + 1
        }
        if (d !== COMMA_CODE) throw NOT_CANONICAL
        parts.push(COMMA_BYTES)
        j++
      }
    }
    // A scalar (or null) is kept as it is.
    const end = this.value(i, true)
    parts.push(this.buf.subarray(i, end))
    return end
  }

  private projectObject(i: number, tree: SelectionTree, parts: Buffer[]): number {
    const buf = this.buf
    parts.push(OPEN_OBJECT_BYTES)
    let j = i + 1
    if (buf[j] === CLOSE_OBJECT) {
      parts.push(CLOSE_OBJECT_BYTES)
      return j + 1
    }
    let emitted = 0
    const entries = entriesOf(tree)
    // Which entries this object has matched: JSON.parse keeps the last of repeated keys, at the
    // first one's place, which copying cannot do.
    let matched = 0
    for (;;) {
      if (buf[j] !== QUOTE) throw NOT_CANONICAL
      const keyEnd = this.string(j, true)
      const keyStart = j + 1
      const keyLength = keyEnd - 1 - keyStart
      let index = -1
      for (let e = 0; e < entries.length; e++) {
        const bytes = (entries[e] as Entry).bytes
        if (bytes.length !== keyLength) continue
        let k = 0
        while (k < keyLength && buf[keyStart + k] === bytes[k]) k++
        if (k === keyLength) {
          index = e
          break
        }
      }
      // A key written with escapes could name a selected attribute in another spelling.
      if (index === -1 && this.hasEscapes && buf.subarray(keyStart, keyEnd).includes(BACKSLASH)) {
        // A key written with escapes is compared by its JSON.parse value.
        const key = JSON.parse(buf.toString('utf8', j, keyEnd)) as string
        index = entries.findIndex((e) => e.key === key)
      }
      const node = index === -1 ? undefined : (entries[index] as Entry).node
      if (buf[keyEnd] !== COLON) throw NOT_CANONICAL
      let next: number
      if (node === undefined) {
        next = this.value(keyEnd + 1, false)
      } else {
        const bit = 1 << index
        if ((matched & bit) !== 0) throw NOT_CANONICAL
        matched |= bit
        if (emitted++ > 0) parts.push(COMMA_BYTES)
        parts.push(buf.subarray(j, keyEnd), COLON_BYTES)
        if (node === true) {
          next = this.value(keyEnd + 1, true)
          parts.push(buf.subarray(keyEnd + 1, next))
        } else {
          next = this.project(keyEnd + 1, node, parts)
        }
      }
      const d = buf[next]
      if (d === CLOSE_OBJECT) {
        parts.push(CLOSE_OBJECT_BYTES)
        return next + 1
      }
      if (d !== COMMA_CODE) throw NOT_CANONICAL
      j = next + 1
    }
  }

  /**
   * The index after the value at `i`. With `verify`, also checks that the value is in
   * JSON.stringify's form (it is about to be copied); without, only finds its end.
   */
  private value(i: number, verify: boolean): number {
    const buf = this.buf
    const c = buf[i]
    if (c === QUOTE) return this.string(i, verify)
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      let depth = 0
      let j = i
      for (;;) {
        const d = buf[j]
        if (d === undefined) throw NOT_CANONICAL
        if (d === QUOTE) {
          j = this.string(j, verify)
          continue
        }
        if (d === OPEN_OBJECT || d === OPEN_ARRAY) depth++
        else if (d === CLOSE_OBJECT || d === CLOSE_ARRAY) {
          if (--depth === 0) return j + 1
        } else if (verify && d !== COLON && d !== COMMA_CODE) {
          j = this.scalar(j)
          continue
        }
        j++
      }
    }
    return this.scalar(i)
  }

  /** A number, true, false or null at `i`, in JSON.stringify's form; the index after it. */
  private scalar(i: number): number {
    const buf = this.buf
    let j = i
    for (;;) {
      const d = buf[j]
      if (
        d === undefined ||
        d === COMMA_CODE ||
        d === CLOSE_OBJECT ||
        d === CLOSE_ARRAY ||
        d === COLON
      )
        break
      j++
    }
    if (j === i) throw NOT_CANONICAL
    if (isLiteralOrSmallInteger(buf, i, j)) return j
    const token = buf.toString('latin1', i, j)
    if (token === 'true' || token === 'false' || token === 'null') return j
    // Canonical numbers only: 1.0, 1e3, -0 or a stray space would come out differently.
    if (String(Number(token)) !== token) throw NOT_CANONICAL
    return j
  }

  /** The index after the string whose opening quote is at `i`. */
  private string(i: number, verify: boolean): number {
    const buf = this.buf
    if (!this.hasEscapes) {
      const end = buf.indexOf(QUOTE, i + 1)
      if (end === -1) throw NOT_CANONICAL
      return end + 1
    }
    let j = i + 1
    for (;;) {
      const d = buf[j]
      if (d === undefined) throw NOT_CANONICAL
      if (d === QUOTE) return j + 1
      if (d === BACKSLASH) {
        const e = buf[j + 1]
        if (e === 0x75 /* u */) {
          // JSON.stringify writes \u only for control characters (and lone surrogates, which
          // are left to the slow path with every other \u escape), in lowercase hex.
          const hex = buf.toString('latin1', j + 2, j + 6)
          if (verify && !/^00[01][0-9a-f]$/.test(hex)) throw NOT_CANONICAL
          if (verify && SHORT_ESCAPED.has(Number.parseInt(hex, 16))) throw NOT_CANONICAL
          j += 6
          continue
        }
        if (verify && !SHORT_ESCAPES.has(e ?? -1)) throw NOT_CANONICAL
        j += 2
        continue
      }
      j++
    }
  }
}

/**
 * Whether bytes i..j are `true`, `false`, `null` or an integer JSON.stringify writes as it is
 * (no leading zero, no `-0`, at most 15 digits so it is exact): the common scalars, checked
 * without making a string.
 */
function isLiteralOrSmallInteger(buf: Buffer, i: number, j: number): boolean {
  const length = j - i
  const c = buf[i]
  if (c === 0x74 /* t */)
    return length === 4 && buf[i + 1] === 0x72 && buf[i + 2] === 0x75 && buf[i + 3] === 0x65
  if (c === 0x6e /* n */)
    return length === 4 && buf[i + 1] === 0x75 && buf[i + 2] === 0x6c && buf[i + 3] === 0x6c
  if (c === 0x66 /* f */) return length === 5 && buf.toString('latin1', i, j) === 'false'
  let k = c === 0x2d /* - */ ? i + 1 : i
  const digits = j - k
  if (digits < 1 || digits > 15) return false
  if (buf[k] === 0x30 /* 0 */) return digits === 1 && k === i
  for (; k < j; k++) {
    const d = buf[k] as number
    if (d < 0x30 || d > 0x39) return false
  }
  return true
}

/** The escapes JSON.stringify writes as a backslash and one letter: " \ b f n r t. */
const SHORT_ESCAPES = new Set([0x22, 0x5c, 0x62, 0x66, 0x6e, 0x72, 0x74])
/** The control characters JSON.stringify writes with a short escape, never as \u00XX. */
const SHORT_ESCAPED = new Set([0x08, 0x0c, 0x0a, 0x0d, 0x09])
