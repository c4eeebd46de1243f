/**
 * Id pagination of `/agents` and `/bans` (chat-rest-api.md §2.3): `since_id` (inclusive, forward),
 * `max_id` (inclusive, backward) and `limit`, records ascending by id. No parameter at all means
 * the whole list (zenpy, amp and singer's probe rely on it); any parameter means a window of at
 * most `limit` records (default 10, capped at 1000). The body carries no page fields: Airbyte and
 * singer ask for `since_id = last id + 1` and stop on the first empty page.
 * @module
 */
import { AppError } from '../errors.js'

/** A page of an id-ordered collection. */
export interface IdWindow {
  /** Smallest id served (inclusive); null: from the start. */
  sinceId: number | null
  /** Largest id served (inclusive); null: to the end. */
  maxId: number | null
  /** At most this many records: 1…{@link MAX_ID_WINDOW_LIMIT}. */
  limit: number
}

/** `limit` when a window is asked for without one (the bans page says "Default to 10"). */
export const DEFAULT_ID_WINDOW_LIMIT = 10
/** The most records one window serves ("Returns up to 1000 results per page"). */
export const MAX_ID_WINDOW_LIMIT = 1000

const DIGITS = /^\d+$/

/**
 * Reads the window from a request's query. Returns `null` when none of `since_id`, `max_id`,
 * `limit` is present (empty values count as absent): the caller serves the whole list. A
 * `limit` above 1000 is served as 1000, as the exports do; a zero, negative or non-integer
 * `limit` and a non-integer id are refused with 400.
 */
export function parseIdWindow(params: URLSearchParams): IdWindow | null {
  const since = nonEmpty(params.get('since_id'))
  const max = nonEmpty(params.get('max_id'))
  const limit = nonEmpty(params.get('limit'))
  if (since === null && max === null && limit === null) return null
  return {
    sinceId: since === null ? null : parseId('since_id', since),
    maxId: max === null ? null : parseId('max_id', max),
    limit: limit === null ? DEFAULT_ID_WINDOW_LIMIT : parseLimit(limit),
  }
}

/**
 * The records of `window` out of `items`, which must be sorted ascending by id: the reference
 * every store's windowed query must agree with.
 * - With `since_id` (or with no `max_id`): the first `limit` ids ≥ since_id and ≤ max_id.
 * - With only `max_id`: the last `limit` ids ≤ max_id ("the previous N records, ending with and
 *   including the max_id record"), still returned ascending.
 */
export function applyIdWindow<T extends { id: number }>(
  items: readonly T[],
  window: IdWindow | null,
): T[] {
  if (window === null) return [...items]
  const inRange = items.filter(
    (item) =>
      (window.sinceId === null || item.id >= window.sinceId) &&
      (window.maxId === null || item.id <= window.maxId),
  )
  if (window.sinceId === null && window.maxId !== null) {
    return inRange.slice(Math.max(0, inRange.length - window.limit))
  }
  return inRange.slice(0, window.limit)
}

/** Whether a window reads backward from `max_id` (stores order descending and reverse). */
export function isBackwardWindow(window: IdWindow): boolean {
  return window.sinceId === null && window.maxId !== null
}

function nonEmpty(value: string | null): string | null {
  return value === null || value === '' ? null : value
}

function parseId(name: 'since_id' | 'max_id', text: string): number {
  const value = Number(text)
  if (!DIGITS.test(text) || !Number.isSafeInteger(value)) {
    throw new AppError(
      'INVALID_ID_WINDOW',
      `${name} must be a non-negative integer id, not "${clip(text)}". Send ${name}=<id>; the next page starts at the last id + 1.`,
    )
  }
  return value
}

function parseLimit(text: string): number {
  const value = Number(text)
  if (!DIGITS.test(text) || !Number.isSafeInteger(value) || value === 0) {
    throw new AppError(
      'INVALID_LIMIT',
      `limit must be a positive integer, not "${clip(text)}". Use 1 to ${MAX_ID_WINDOW_LIMIT} (default ${DEFAULT_ID_WINDOW_LIMIT}).`,
    )
  }
  return Math.min(value, MAX_ID_WINDOW_LIMIT)
}

/** Echoed values are cut short: an error description is not a place for a megabyte of query. */
export function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text
}
