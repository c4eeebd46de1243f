/**
 * Import: export-shaped objects (JSON Lines, or one JSON array) loaded into an account,
 * atomically. Each item is checked against its stream's schema (`validateImportItem`) as the body
 * arrives, a slice of a few milliseconds at a time, and reading stops at the error limit: a large
 * bad body costs little and never stalls other requests. Nothing is written unless every item is
 * valid.
 *
 * By default an imported item gets a fresh position (it changed here, now): one per item, in the
 * order of the file. With `preserveTimestamps` each item keeps its own time as its position, which
 * is only allowed strictly above the stream's current high-water mark and not in the future: no
 * cursor the server ever issued can have passed it.
 * @module
 */
import { timeSlicer } from './time-slicer.js'
import { AppError } from '../domain/errors.js'
import type { UnknownAttributes } from '../domain/schemas/index.js'
import { unknownAttributesOf, validateImportItem } from '../domain/schemas/index.js'
import type { PreparedItem, StreamName } from '../domain/streams.js'
import { streamSpec } from '../domain/streams.js'
import { describeTime, isSupportedTime, SUPPORTED_TIME_RANGE } from '../domain/time.js'
import type { Store } from '../store/store.js'
import type { SplitOutput } from './import-records.js'
import { RecordSplitter } from './import-records.js'

/** Most problems reported at once; more would drown the useful ones, so reading stops there. */
export const MAX_REPORTED_ERRORS = 50

/** Most distinct unknown attribute paths listed in a summary. */
const MAX_UNKNOWN_PATHS = 50

export interface LineError {
  line: number
  message: string
  /** The attribute path (`engagements[0].rating`) when the problem is one attribute's. */
  path?: string
}

/** A prepared item and the line it came from (for error messages). */
export interface NumberedItem {
  line: number
  item: PreparedItem
}

export interface ImportOptions {
  /**
   * What to do with attributes the stream's schema does not describe: `keep` stores them as they
   * are (and the summary lists them), `refuse` makes them errors.
   */
  unknownAttributes: UnknownAttributes
}

/** The default: unknown attributes are kept, and every import's answer lists them. */
export const DEFAULT_IMPORT_OPTIONS: ImportOptions = { unknownAttributes: 'keep' }

/** Unknown attributes seen (kept): each path, array indices as `[]`, with the items carrying it. */
export interface UnknownAttributeSummary {
  /** Items with at least one unknown attribute. */
  items: number
  /** Path → number of items; at most {@link MAX_UNKNOWN_PATHS} paths. */
  paths: Record<string, number>
}

/** A validated import, ready to write. */
export interface PreparedImport {
  items: NumberedItem[]
  unknownAttributes: UnknownAttributeSummary
}

export interface ImportResult {
  stream: StreamName
  imported: number
  /** The highest position written (the transaction's own when nothing was). */
  position: number
}

/**
 * Checks items one by one and keeps the valid ones; after {@link MAX_REPORTED_ERRORS} problems it
 * is `full` and the caller stops reading.
 */
export class ImportValidator {
  private readonly items: NumberedItem[] = []
  private readonly errors: LineError[] = []
  private readonly unknown: UnknownAttributeSummary = { items: 0, paths: {} }
  private badLines = 0
  private lastLine = 0

  constructor(
    private readonly stream: StreamName,
    private readonly options: ImportOptions,
  ) {}

  /** Whether the error limit is reached: nothing more would be reported. */
  get full(): boolean {
    return this.errors.length >= MAX_REPORTED_ERRORS
  }

  /** Takes what the splitter produced: an item's text, or a framing error. */
  accept(output: SplitOutput): void {
    if ('error' in output) {
      this.fail(output.error.line, [{ line: output.error.line, message: output.error.message }])
      return
    }
    const { line, text } = output.record
    this.lastLine = line
    let raw: unknown
    try {
      raw = JSON.parse(text)
    } catch {
      this.fail(line, [{ line, message: notJson(text) }])
      return
    }
    const problems = validateImportItem(this.stream, raw, this.options)
    if (problems.length > 0) {
      this.fail(
        line,
        problems.map((p) => ({ line, path: p.path, message: p.message })),
      )
      return
    }
    const item = streamSpec(this.stream).prepare(raw)
    if (!isSupportedTime(item.ownTime)) {
      // Each time is in range (the schema checks that); their sum, a span's end, may not be.
      this.fail(line, [{ line, path: 'duration', message: spanEndOutOfRange(raw, item.ownTime) }])
      return
    }
    if (this.options.unknownAttributes === 'keep') this.noteUnknown(raw)
    // Once a line is bad, nothing will be written: stop keeping items.
    if (this.errors.length === 0) this.items.push({ line, item })
  }

  /** The import, or the error listing what is wrong (nothing is written then). */
  finish(stoppedEarly = false): PreparedImport {
    if (this.errors.length > 0) {
      const first = this.errors[0] as LineError
      const count = stoppedEarly
        ? `At least ${this.badLines} line(s) are not valid ${this.stream} items (reading stopped at line ${this.lastLine}, after ${this.errors.length} problems)`
        : `${this.badLines} line(s) are not valid ${this.stream} items`
      throw new AppError(
        'INVALID_IMPORT',
        `${count}; nothing was imported. First: line ${first.line}: ${first.message}. Fix the lines and import the file again.`,
        { details: this.errors.slice(0, MAX_REPORTED_ERRORS) },
      )
    }
    return { items: this.items, unknownAttributes: this.unknown }
  }

  private fail(line: number, errors: LineError[]): void {
    this.lastLine = Math.max(this.lastLine, line)
    this.badLines++
    this.items.length = 0
    for (const error of errors) {
      if (this.full) return
      this.errors.push(error)
    }
  }

  private noteUnknown(raw: unknown): void {
    const paths = unknownAttributesOf(this.stream, raw)
    if (paths.length === 0) return
    this.unknown.items++
    for (const path of new Set(paths.map((p) => p.replace(/\[\d+\]/g, '[]')))) {
      const seen = this.unknown.paths[path]
      if (seen !== undefined) this.unknown.paths[path] = seen + 1
      else if (Object.keys(this.unknown.paths).length < MAX_UNKNOWN_PATHS) {
        this.unknown.paths[path] = 1
      }
    }
  }
}

function notJson(text: string): string {
  const start = text.trimStart()
  if (start === '{' || (start.startsWith('{') && !start.trimEnd().endsWith('}'))) {
    return 'not valid JSON: each item must be on one line (JSON Lines), or send the items as one JSON array'
  }
  return 'not valid JSON'
}

function spanEndOutOfRange(raw: unknown, end: number): string {
  const { duration } = raw as { duration?: unknown }
  return `duration: ${String(duration)} seconds after start_time ends at ${describeTime(end)}, beyond the supported range (${SUPPORTED_TIME_RANGE})`
}

/**
 * Validates a whole body held in memory (tests, tools); the same checks as {@link readImport},
 * without yielding.
 * @throws AppError INVALID_IMPORT listing the problems.
 */
export function prepareLines(
  stream: StreamName,
  lines: Iterable<string>,
  options: ImportOptions = DEFAULT_IMPORT_OPTIONS,
): NumberedItem[] {
  const validator = new ImportValidator(stream, options)
  const splitter = new RecordSplitter()
  for (const line of lines) {
    for (const output of splitter.push(`${line}\n`)) validator.accept(output)
  }
  for (const output of splitter.end()) validator.accept(output)
  return validator.finish().items
}

/**
 * Reads and validates an import body as it arrives (bytes of UTF-8, or text), giving other work
 * the event loop every few milliseconds, and stops reading at the error limit.
 * @throws AppError INVALID_IMPORT (bad items, listed with their lines) or INVALID_BODY (not UTF-8).
 */
export async function readImport(
  stream: StreamName,
  body: AsyncIterable<Uint8Array | string>,
  options: ImportOptions,
): Promise<PreparedImport> {
  const validator = new ImportValidator(stream, options)
  const splitter = new RecordSplitter()
  const decoder = new TextDecoder('utf-8', { fatal: true })
  const pause = timeSlicer()
  let bytes = 0
  const feed = async (outputs: SplitOutput[]): Promise<boolean> => {
    for (const output of outputs) {
      validator.accept(output)
      if (validator.full) return false
      await pause()
    }
    return true
  }
  for await (const chunk of body) {
    let text: string
    try {
      text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })
    } catch {
      throw notUtf8(bytes)
    }
    bytes += chunk.length
    // Breaking out of the loop ends the body's iterator: nothing more is read.
    if (!(await feed(splitter.push(text)))) return validator.finish(true)
  }
  try {
    const rest = decoder.decode()
    if (!(await feed(splitter.push(rest)))) return validator.finish(true)
  } catch {
    throw notUtf8(bytes)
  }
  await feed(splitter.end())
  return validator.finish(validator.full)
}

function notUtf8(offset: number): AppError {
  return new AppError(
    'INVALID_BODY',
    `The import body is not valid UTF-8 (near byte ${offset}). Save the file as UTF-8 and import it again.`,
  )
}

/** Writes prepared items atomically, yielding between slices so other requests go on. */
export async function importItems(
  store: Store,
  accountId: number,
  stream: StreamName,
  items: NumberedItem[],
  options: { preserveTimestamps: boolean; now: number },
): Promise<ImportResult> {
  const pause = timeSlicer()
  return store.write(accountId, async (tx) => {
    let highest = tx.position
    if (options.preserveTimestamps) {
      const hwm = await tx.highWaterMark(stream)
      const behind: LineError[] = []
      for (const { line, item } of items) {
        if (item.ownTime <= hwm) {
          behind.push({
            line,
            message: `time ${describeTime(item.ownTime)} is not after the ${stream} high-water mark ${describeTime(hwm)}`,
          })
        } else if (item.ownTime > options.now) {
          behind.push({ line, message: `time ${describeTime(item.ownTime)} is in the future` })
        }
      }
      if (behind.length > 0) {
        throw new AppError(
          'IMPORT_BEHIND_HIGH_WATER_MARK',
          `${behind.length} item(s) cannot keep their timestamps: exported cursors may already have passed them (or they lie in the future). Nothing was imported. Import without --preserve-timestamps to give them fresh positions.`,
          { details: behind.slice(0, MAX_REPORTED_ERRORS) },
        )
      }
      highest = 0
      rejectTies(stream, items)
    }
    // Fresh positions: one per item (P, P + 1, …; the store raises the clock over them), so a
    // client that restarts from an item's position alone sees at most that item again.
    let next = tx.position
    for (const { item } of items) {
      const position = options.preserveTimestamps ? item.ownTime : next++
      if (position > highest) highest = position
      // The body, and on chats the summary that projections read instead.
      await tx.putItem(stream, {
        key: item.key,
        sortId: item.sortId,
        position,
        ...item.render(position),
      })
      await pause()
    }
    return { stream, imported: items.length, position: highest }
  })
}

/** With preserved timestamps, two items of one cursor point (position and tie-breaker) are ambiguous. */
function rejectTies(stream: StreamName, items: NumberedItem[]): void {
  const seen = new Map<string, { line: number; key: string }>()
  const ties: LineError[] = []
  for (const { line, item } of items) {
    const point = `${item.ownTime}\u0000${item.sortId}`
    const first = seen.get(point)
    if (first !== undefined && first.key !== item.key) {
      ties.push({
        line,
        message: `same position and id as line ${first.line}; the cursor could not tell them apart`,
      })
    } else {
      seen.set(point, { line, key: item.key })
    }
  }
  if (ties.length > 0) {
    throw new AppError(
      'INVALID_IMPORT',
      `${ties.length} ${stream} item(s) share their time and id with another item; nothing was imported. Import without --preserve-timestamps, or fix the times.`,
      { details: ties.slice(0, MAX_REPORTED_ERRORS) },
    )
  }
}
