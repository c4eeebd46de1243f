/**
 * Splits an import body, as it arrives in pieces, into the JSON text of each item and the line it
 * starts on: JSON Lines (one object per line), or one JSON array (pretty-printed or not), told
 * apart by the first character that is not white space. A UTF-8 byte order mark is skipped. The
 * splitter holds at most one unfinished item, so a large body is never held as a whole; an item
 * longer than {@link MAX_RECORD_CHARS} is reported instead of being parsed (parsing a huge line
 * would stall the event loop for everyone).
 * @module
 */

/** The longest item accepted, in characters (a large real chat is well under 100 KB). */
export const MAX_RECORD_CHARS = 1024 * 1024

/** One item's JSON text and the line of the body it starts on (1-based). */
export interface ImportRecord {
  line: number
  text: string
}

/** Something wrong with the body's framing, found before any item is parsed. */
export interface FramingError {
  line: number
  message: string
}

export type SplitOutput = { record: ImportRecord } | { error: FramingError }

const NEWLINE = 10
const CARRIAGE_RETURN = 13
const QUOTE = 34
const COMMA = 44
const BACKSLASH = 92
const OPEN_BRACKET = 91
const CLOSE_BRACKET = 93
const OPEN_BRACE = 123
const CLOSE_BRACE = 125
const BOM = '\uFEFF'

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === NEWLINE || code === CARRIAGE_RETURN
}

const tooLong = (line: number): FramingError => ({
  line,
  message: `the item is longer than ${MAX_RECORD_CHARS / 1024 / 1024} MiB; it was not read`,
})

/**
 * Incremental splitter. `push` each decoded piece of text in order, then `end`; each returns what
 * the text completed. Pure: no I/O.
 */
export class RecordSplitter {
  private mode: 'start' | 'lines' | 'array' = 'start'
  private started = false
  // Lines mode: the unfinished line, its number, and whether it is being skipped (too long).
  private pending = ''
  private line = 1
  private skipping = false
  // Array mode: nesting depth, string state, the unfinished element and where it started.
  private depth = 0
  private inString = false
  private escaped = false
  private inElement = false
  /** The element's text so far; undefined while a too-long element is being skipped. */
  private element: string | undefined
  private elementLine = 0
  private closed = false
  private trailingReported = false

  push(text: string): SplitOutput[] {
    if (!this.started) {
      if (text.startsWith(BOM)) text = text.slice(1)
      if (text.length > 0) this.started = true
    }
    const out: SplitOutput[] = []
    if (this.mode === 'start') {
      const first = text.search(/\S/)
      if (first < 0) {
        this.line += countNewlines(text, 0, text.length)
        return out
      }
      this.line += countNewlines(text, 0, first)
      if (text.charCodeAt(first) === OPEN_BRACKET) {
        this.mode = 'array'
        this.depth = 1
        this.scanArray(text, first + 1, out)
        return out
      }
      this.mode = 'lines'
      this.pending = text.slice(first)
      this.drainLines(out)
      return out
    }
    if (this.mode === 'lines') {
      if (this.skipping) {
        const newline = text.indexOf('\n')
        if (newline < 0) return out
        this.skipping = false
        this.line++
        text = text.slice(newline + 1)
      }
      this.pending += text
      this.drainLines(out)
    } else {
      this.scanArray(text, 0, out)
    }
    return out
  }

  end(): SplitOutput[] {
    const out: SplitOutput[] = []
    if (this.mode === 'lines' && !this.skipping) this.emitLine(this.pending, out)
    if (this.mode === 'array' && !this.closed) {
      out.push({
        error: {
          line: this.line,
          message: 'the JSON array is not closed: the body ended before its final "]"',
        },
      })
    }
    this.pending = ''
    return out
  }

  private drainLines(out: SplitOutput[]): void {
    let from = 0
    for (;;) {
      const newline = this.pending.indexOf('\n', from)
      if (newline < 0) break
      this.emitLine(this.pending.slice(from, newline), out)
      this.line++
      from = newline + 1
    }
    this.pending = from === 0 ? this.pending : this.pending.slice(from)
    if (this.pending.length > MAX_RECORD_CHARS) {
      out.push({ error: tooLong(this.line) })
      this.pending = ''
      this.skipping = true
    }
  }

  private emitLine(text: string, out: SplitOutput[]): void {
    if (text.length > MAX_RECORD_CHARS) {
      out.push({ error: tooLong(this.line) })
      return
    }
    const trimmed = text.charCodeAt(text.length - 1) === CARRIAGE_RETURN ? text.slice(0, -1) : text
    if (trimmed.trim() !== '') out.push({ record: { line: this.line, text: trimmed } })
  }

  /** Scans array text from `from`, emitting each top-level element as it completes. */
  private scanArray(text: string, from: number, out: SplitOutput[]): void {
    let segment = this.inElement && this.element !== undefined ? from : -1
    for (let i = from; i < text.length; i++) {
      const code = text.charCodeAt(i)
      if (code === NEWLINE) this.line++
      if (this.closed) {
        if (!isSpace(code) && !this.trailingReported) {
          this.trailingReported = true
          out.push({
            error: { line: this.line, message: 'text after the closing "]" of the array' },
          })
        }
        continue
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false
        else if (code === BACKSLASH) this.escaped = true
        else if (code === QUOTE) this.inString = false
        continue
      }
      if (this.depth === 1 && (code === COMMA || code === CLOSE_BRACKET)) {
        if (this.inElement) this.finishElement(segment >= 0 ? text.slice(segment, i) : '', out)
        segment = -1
        if (code === CLOSE_BRACKET) {
          this.closed = true
          this.depth = 0
        }
        continue
      }
      if (!this.inElement) {
        if (isSpace(code)) continue
        this.inElement = true
        this.element = ''
        this.elementLine = this.line
        segment = i
      }
      if (code === QUOTE) this.inString = true
      else if (code === OPEN_BRACE || code === OPEN_BRACKET) this.depth++
      else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) this.depth--
    }
    if (segment >= 0 && this.inElement && this.element !== undefined) {
      this.element += text.slice(segment)
      if (this.element.length > MAX_RECORD_CHARS) {
        // Keep scanning (for the nesting) but stop keeping the text.
        out.push({ error: tooLong(this.elementLine) })
        this.element = undefined
      }
    }
  }

  private finishElement(tail: string, out: SplitOutput[]): void {
    const kept = this.element
    this.inElement = false
    this.element = undefined
    if (kept === undefined) return // too long, already reported
    const text = kept + tail
    if (text.length > MAX_RECORD_CHARS) out.push({ error: tooLong(this.elementLine) })
    else out.push({ record: { line: this.elementLine, text } })
  }
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === NEWLINE) n++
  return n
}
