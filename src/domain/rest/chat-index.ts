/**
 * The per-chat index the stores keep beside the `chats` export item (one row per chat, written in
 * the same transaction as the item), so `GET /chats`, `/chats?ids=` and `/chats/search` read the
 * chats in id order or within a time window instead of scanning every stored chat. This module is
 * the one place that derives the row from a stored chat and turns a search into conditions on it;
 * the stores only render those conditions as SQL. Matching means exactly `matchesChatSearch`
 * (src/domain/rest/chats.ts): case-insensitive, list fields match any element, ranges inclusive.
 * @module
 */
import { AppError } from '../errors.js'
import type { Micros } from '../time.js'
import { parseIso } from '../time.js'
import type { ChatSearchQuery, SearchRangeField, SearchValueField } from './chat-search.js'
import { searchableText, valuesOf } from './chats.js'

type Json = Record<string, unknown>

/** Separates the elements of a list column; a value is matched as `\n<value>\n`. */
const LIST_SEPARATOR = '\n'

/** The index row of one stored chat. Text columns are lower-cased: search is case-insensitive. */
export interface ChatIndexRow {
  chatId: string
  type: string
  /** µs; null when the chat has none (a range on it then never matches, as in the scan). */
  timestamp: Micros | null
  endTimestamp: Micros | null
  deleted: boolean
  visitorEmail: string | null
  visitorName: string | null
  rating: string | null
  departmentName: string | null
  /** `\n`-joined and `\n`-framed lower-cased names: `\nann\nbob\n` (empty list: `\n`). */
  agentNames: string
  tags: string
  /** What free-text terms are matched in: {@link searchableText}. */
  searchText: string
}

/** The columns of the index table, as the stores name them. */
export type ChatIndexColumn =
  | 'type'
  | 'timestamp'
  | 'end_timestamp'
  | 'visitor_email'
  | 'visitor_name'
  | 'rating'
  | 'department_name'
  | 'agent_names'
  | 'tags'
  | 'search_text'

/** A search as conditions on index columns, all of which must hold (besides `deleted = false`). */
export interface ChatIndexFilter {
  /** Inclusive bounds in µs; the column must be non-null. */
  ranges: { column: 'timestamp' | 'end_timestamp'; from: Micros | null; to: Micros | null }[]
  /** The column equals the value (both lower-cased). */
  equals: { column: ChatIndexColumn; value: string }[]
  /** The column contains the text (lower-cased; list columns: `\n<value>\n`). */
  contains: { column: ChatIndexColumn; text: string }[]
}

/**
 * Most chats a free-text search reads the text of: the chats that match the query's other terms
 * (a time window, `type:`, …). A broader query is refused, asking for a narrower window, so one
 * request never reads an account's whole history.
 */
export const MAX_TEXT_SEARCH_CHATS = 20_000

const RANGE_COLUMN: Record<SearchRangeField, 'timestamp' | 'end_timestamp'> = {
  timestamp: 'timestamp',
  end_timestamp: 'end_timestamp',
}

const VALUE_COLUMN: Record<SearchValueField, { column: ChatIndexColumn; list: boolean }> = {
  type: { column: 'type', list: false },
  visitor_email: { column: 'visitor_email', list: false },
  visitor_name: { column: 'visitor_name', list: false },
  rating: { column: 'rating', list: false },
  department_name: { column: 'department_name', list: false },
  agent_names: { column: 'agent_names', list: true },
  tags: { column: 'tags', list: true },
}

/** The index row of a stored chat (the export item's JSON). */
export function chatIndexRow(chat: Json): ChatIndexRow {
  const one = (field: SearchValueField) => valuesOf(chat, field)[0]?.toLowerCase() ?? null
  const list = (field: SearchValueField) =>
    LIST_SEPARATOR +
    valuesOf(chat, field)
      .map((v) => v.toLowerCase() + LIST_SEPARATOR)
      .join('')
  return {
    chatId: String(chat['id']),
    type: typeof chat['type'] === 'string' ? chat['type'].toLowerCase() : 'chat',
    timestamp: timeOf(chat['timestamp']),
    endTimestamp: timeOf(chat['end_timestamp']),
    deleted: chat['deleted'] === true,
    visitorEmail: one('visitor_email'),
    visitorName: one('visitor_name'),
    rating: one('rating'),
    departmentName: one('department_name'),
    agentNames: list('agent_names'),
    tags: list('tags'),
    searchText: searchableText(chat),
  }
}

/** The index row of a stored chat's JSON text. */
export function chatIndexRowOf(body: string): ChatIndexRow {
  return chatIndexRow(JSON.parse(body) as Json)
}

/** A parsed search as conditions on the index. */
export function chatIndexFilter(query: ChatSearchQuery): ChatIndexFilter {
  const filter: ChatIndexFilter = { ranges: [], equals: [], contains: [] }
  for (const range of query.ranges) {
    filter.ranges.push({ column: RANGE_COLUMN[range.field], from: range.from, to: range.to })
  }
  for (const { field, value } of query.values) {
    const { column, list } = VALUE_COLUMN[field]
    const wanted = value.toLowerCase()
    if (list) filter.contains.push({ column, text: LIST_SEPARATOR + wanted + LIST_SEPARATOR })
    else filter.equals.push({ column, value: wanted })
  }
  for (const term of query.text) {
    filter.contains.push({ column: 'search_text', text: term.toLowerCase() })
  }
  return filter
}

/** Whether a filter reads chats' text (free-text terms), which is bounded by {@link MAX_TEXT_SEARCH_CHATS}. */
export function readsText(filter: ChatIndexFilter): boolean {
  return filter.contains.some((c) => c.column === 'search_text')
}

/** The filter without its free-text terms: what bounds the text a search must read. */
export function withoutText(filter: ChatIndexFilter): ChatIndexFilter {
  return { ...filter, contains: filter.contains.filter((c) => c.column !== 'search_text') }
}

function timeOf(value: unknown): Micros | null {
  return typeof value === 'string' ? (parseIso(value) ?? null) : null
}

/** The refusal of a free-text search over more than {@link MAX_TEXT_SEARCH_CHATS} chats. */
export function textSearchTooBroad(candidates: number): AppError {
  return new AppError(
    'INVALID_SEARCH_QUERY',
    `Free-text search reads at most ${MAX_TEXT_SEARCH_CHATS} chats, and ${candidates} match the rest of this query. Add a shorter timestamp:[… TO …] or end_timestamp:[… TO …] range, or search by a field (visitor_email:, tags:, …).`,
  )
}
