/**
 * `GET /chats/search?q=…&page=N` (chat-rest-api.md §3.12): the query forms the studied clients
 * send, and the page limits.
 *
 * Grammar (terms joined by `AND` or by white space, both meaning "and"):
 * - `field:[<from> TO <to>]` on `timestamp` / `end_timestamp`, bounds inclusive [INF], `*` open;
 *   a bound is ISO-8601 with `Z`, naive (singer: `2024-01-01T00:00:00`, read as UTC) or a date;
 * - `field:value` or `field:"quoted value"` on `type` (`chat` | `offline_msg`), `visitor_email`,
 *   `visitor_name`, `rating`, `agent_names`, `department_name`, `tags`;
 * - anything else is free text: a word or a `"quoted phrase"` (bare quoted agent names).
 * `OR` and `NOT` are refused rather than silently read as "and".
 * @module
 */
import { AppError } from '../errors.js'
import type { Micros } from '../time.js'
import { parseIso } from '../time.js'
import { clip } from './id-window.js'

export const SEARCH_RANGE_FIELDS = ['timestamp', 'end_timestamp'] as const
export const SEARCH_VALUE_FIELDS = [
  'type',
  'visitor_email',
  'visitor_name',
  'rating',
  'agent_names',
  'department_name',
  'tags',
] as const

export type SearchRangeField = (typeof SEARCH_RANGE_FIELDS)[number]
export type SearchValueField = (typeof SEARCH_VALUE_FIELDS)[number]

export interface SearchRange {
  field: SearchRangeField
  /** Inclusive bounds in µs; null: open (`*`). */
  from: Micros | null
  to: Micros | null
}

export interface ChatSearchQuery {
  ranges: SearchRange[]
  values: { field: SearchValueField; value: string }[]
  /** Free-text words and phrases, all of which must match. */
  text: string[]
}

/** Results per page (the real API serves 40). */
export const SEARCH_PAGE_SIZE = 40
/** Pages a query can reach: 250 × 40 = 10,000 results (embulk's constants; singer's 400 at 251). */
export const SEARCH_MAX_PAGES = 250

const TOKEN =
  /\s*(?:("(?:[^"\\]|\\.)*")|([a-z_]+):\[([^\]]*)\]|([a-z_]+):("(?:[^"\\]|\\.)*")|(\S+))/gy
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/
const NAIVE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?$/

/** Parses `q`. Throws INVALID_SEARCH_QUERY naming the part that is not understood. */
export function parseChatSearchQuery(q: string | null): ChatSearchQuery {
  if (q === null || q.trim() === '') {
    throw invalid('q is required: for example q=type:chat AND timestamp:[2024-01-01 TO *].')
  }
  const query: ChatSearchQuery = { ranges: [], values: [], text: [] }
  TOKEN.lastIndex = 0
  let match: RegExpExecArray | null
  while (TOKEN.lastIndex < q.length && (match = TOKEN.exec(q)) !== null) {
    const [, phrase, rangeField, range, quotedField, quotedValue, word] = match
    if (phrase !== undefined) query.text.push(unquote(phrase))
    else if (rangeField !== undefined) query.ranges.push(parseRange(rangeField, range ?? ''))
    else if (quotedField !== undefined) addValue(query, quotedField, unquote(quotedValue ?? '""'))
    else if (word !== undefined) addWord(query, word)
    if (q.slice(TOKEN.lastIndex).trim() === '') break
  }
  if (query.ranges.length + query.values.length + query.text.length === 0) {
    throw invalid(`q "${clip(q)}" has no search term.`)
  }
  return query
}

/** The page of a search: `page` is 1-based; beyond {@link SEARCH_MAX_PAGES} is a 400. */
export function parseSearchPage(params: URLSearchParams): { page: number; offset: number } {
  const raw = params.get('page')
  if (raw === null || raw === '') return { page: 1, offset: 0 }
  const page = Number(raw)
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(page) || page === 0) {
    throw invalid(`page must be a positive integer, not "${clip(raw)}".`)
  }
  if (page > SEARCH_MAX_PAGES) {
    throw new AppError(
      'SEARCH_PAGE_LIMIT',
      `The api has a pagination limit of ${SEARCH_MAX_PAGES + 1} pages: page ${page} is beyond it (at most ${SEARCH_MAX_PAGES * SEARCH_PAGE_SIZE} results a query). Narrow the query, e.g. with a shorter timestamp range.`,
    )
  }
  return { page, offset: (page - 1) * SEARCH_PAGE_SIZE }
}

function addWord(query: ChatSearchQuery, word: string): void {
  if (word === 'AND') return
  if (word === 'OR' || word === 'NOT') {
    throw invalid(`${word} is not supported; terms are combined with AND.`)
  }
  const colon = word.indexOf(':')
  if (colon > 0 && /^[a-z_]+$/.test(word.slice(0, colon))) {
    addValue(query, word.slice(0, colon), word.slice(colon + 1))
    return
  }
  query.text.push(word)
}

function addValue(query: ChatSearchQuery, field: string, value: string): void {
  if ((SEARCH_RANGE_FIELDS as readonly string[]).includes(field)) {
    throw invalid(`${field} takes a range: ${field}:[<from> TO <to>] (use * for an open end).`)
  }
  if (!(SEARCH_VALUE_FIELDS as readonly string[]).includes(field)) {
    throw invalid(
      `"${clip(field)}" is not a search field. Use one of: ${[...SEARCH_RANGE_FIELDS, ...SEARCH_VALUE_FIELDS].join(', ')}, or free text.`,
    )
  }
  if (value === '') throw invalid(`${field}: needs a value.`)
  if (field === 'type' && value !== 'chat' && value !== 'offline_msg') {
    throw invalid(`type must be chat or offline_msg, not "${clip(value)}".`)
  }
  query.values.push({ field: field as SearchValueField, value })
}

function parseRange(field: string, body: string): SearchRange {
  if (!(SEARCH_RANGE_FIELDS as readonly string[]).includes(field)) {
    throw invalid(
      `"${clip(field)}" does not take a range; ranges work on ${SEARCH_RANGE_FIELDS.join(' and ')}.`,
    )
  }
  const parts = body.trim().split(/\s+TO\s+/)
  if (parts.length !== 2) {
    throw invalid(`${field}:[${clip(body)}] must read ${field}:[<from> TO <to>].`)
  }
  const from = parseBound(field, parts[0] ?? '')
  const to = parseBound(field, parts[1] ?? '')
  if (from !== null && to !== null && from > to) {
    throw invalid(`${field}:[${clip(body)}] starts after it ends.`)
  }
  return { field: field as SearchRangeField, from, to }
}

function parseBound(field: string, text: string): Micros | null {
  if (text === '*') return null
  const iso = DATE_ONLY.test(text) ? `${text}T00:00:00Z` : NAIVE.test(text) ? `${text}Z` : text
  const micros = parseIso(iso)
  if (micros === undefined) {
    throw invalid(
      `${field}: "${clip(text)}" is not a time. Use 2024-01-01T00:00:00Z, 2024-01-01T00:00:00 (UTC), 2024-01-01 or *.`,
    )
  }
  return micros
}

function unquote(quoted: string): string {
  return quoted.slice(1, -1).replace(/\\(.)/g, '$1')
}

function invalid(description: string): AppError {
  return new AppError('INVALID_SEARCH_QUERY', description)
}
