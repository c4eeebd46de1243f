/**
 * Import: export-shaped objects (one per line) loaded into an account, atomically. By default an
 * imported item gets a fresh position (it changed here, now). With `preserveTimestamps` each item
 * keeps its own time as its position, which is only allowed strictly above the stream's current
 * high-water mark and not in the future: no cursor the server ever issued can have passed it.
 * @module
 */
import { ZodError } from 'zod'
import { AppError } from '../domain/errors.js'
import type { PreparedItem, StreamName } from '../domain/streams.js'
import { streamSpec } from '../domain/streams.js'
import { formatIso } from '../domain/time.js'
import type { Store } from '../store/store.js'

/** Most line errors reported at once; more would drown the useful ones. */
const MAX_REPORTED_ERRORS = 50

export interface LineError {
  line: number
  message: string
}

/** A prepared item and the line it came from (for error messages). */
export interface NumberedItem {
  line: number
  item: PreparedItem
}

export interface ImportResult {
  stream: StreamName
  imported: number
  /** The position of fresh items (or the highest preserved one). */
  position: number
}

/**
 * Validates every line first (reporting all bad lines with their numbers), then writes all items
 * in one transaction. Nothing is written when any line is bad.
 */
export function prepareLines(stream: StreamName, lines: Iterable<string>): NumberedItem[] {
  const spec = streamSpec(stream)
  const items: NumberedItem[] = []
  const errors: LineError[] = []
  let lineNumber = 0
  for (const text of lines) {
    lineNumber++
    if (text.trim() === '') continue
    let raw: unknown
    try {
      raw = JSON.parse(text)
    } catch {
      errors.push({ line: lineNumber, message: 'not valid JSON' })
      continue
    }
    try {
      items.push({ line: lineNumber, item: spec.prepare(raw) })
    } catch (err) {
      errors.push({ line: lineNumber, message: describeInvalid(err) })
    }
  }
  if (errors.length > 0) {
    throw new AppError(
      'INVALID_IMPORT',
      `${errors.length} line(s) are not valid ${stream} items; nothing was imported. First: line ${errors[0]?.line}: ${errors[0]?.message}. Fix the lines and import the file again.`,
      { details: errors.slice(0, MAX_REPORTED_ERRORS) },
    )
  }
  return items
}

/** Writes prepared items atomically. */
export async function importItems(
  store: Store,
  accountId: number,
  stream: StreamName,
  items: NumberedItem[],
  options: { preserveTimestamps: boolean; now: number },
): Promise<ImportResult> {
  return store.write(accountId, async (tx) => {
    let highest = tx.position
    if (options.preserveTimestamps) {
      const hwm = await tx.highWaterMark(stream)
      const behind: LineError[] = []
      for (const { line, item } of items) {
        if (item.ownTime <= hwm) {
          behind.push({
            line,
            message: `time ${formatIso(item.ownTime)} is not after the ${stream} high-water mark ${formatIso(hwm)}`,
          })
        } else if (item.ownTime > options.now) {
          behind.push({ line, message: `time ${formatIso(item.ownTime)} is in the future` })
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
    }
    if (options.preserveTimestamps) rejectTies(stream, items)
    const perItem = streamSpec(stream).positionPerItem
    let offset = 0
    for (const { item } of items) {
      const position = options.preserveTimestamps
        ? item.ownTime
        : tx.position + (perItem ? offset++ : 0)
      if (position > highest) highest = position
      // The body, and on chats the summary that projections read instead.
      await tx.putItem(stream, {
        key: item.key,
        sortId: item.sortId,
        position,
        ...item.render(position),
      })
    }
    return { stream, imported: items.length, position: highest }
  })
}

/** With preserved timestamps, two items of one cursor point (position and tie-breaker) are ambiguous. */
function rejectTies(stream: StreamName, items: NumberedItem[]): void {
  const seen = new Map<string, number>()
  const ties: LineError[] = []
  for (const { line, item } of items) {
    const point = `${item.ownTime}\u0000${item.sortId}`
    const first = seen.get(point)
    if (first !== undefined && items.find((i) => i.line === first)?.item.key !== item.key) {
      ties.push({
        line,
        message: `same position and id as line ${first}; the cursor could not tell them apart`,
      })
    } else {
      seen.set(point, line)
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

function describeInvalid(err: unknown): string {
  if (err instanceof ZodError) {
    return err.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.') || '(item)'}: ${issue.message}`)
      .join('; ')
  }
  return err instanceof Error ? err.message : String(err)
}
