/**
 * Chats outside the export (chat-rest-api.md §3.12): the chat object of `/chats/{id}`, `/chats`
 * and `/chats?ids=` (the export's chat without its export-only fields), what a search matches,
 * and the search result items. Pure: the routes and stores bring the data.
 * @module
 */
import type { Micros } from '../time.js'
import { parseIso } from '../time.js'
import type { ChatSearchQuery } from './chat-search.js'

type Json = Record<string, unknown>

/** Fields only the incremental export carries [DOC chats vs incremental_export]. */
export const EXPORT_ONLY_CHAT_FIELDS = ['engagements', 'update_timestamp', 'deleted'] as const

/** `GET /chats` page size when no `limit` is sent (the real API serves 40 a page). */
export const DEFAULT_CHAT_LIST_LIMIT = 40
/** Largest `limit` served on `GET /chats` [INF]: old Airbyte sent 100. */
export const MAX_CHAT_LIST_LIMIT = 100

/** The Chat API object of a stored export chat: the export's JSON minus the export-only fields. */
export function renderChat(exported: Json): Json {
  const out: Json = {}
  for (const [key, value] of Object.entries(exported)) {
    if (!(EXPORT_ONLY_CHAT_FIELDS as readonly string[]).includes(key)) out[key] = value
  }
  return out
}

/** Whether a stored chat is served outside the export (a deleted chat is not). */
export function isLiveChat(exported: Json): boolean {
  return exported['deleted'] !== true
}

/**
 * Whether a chat matches a search: every range (inclusive), every field value (case-insensitive;
 * list fields such as `tags` match any element) and every free-text term (a case-insensitive
 * substring of the messages, names, emails, tags or comment).
 */
export function matchesChatSearch(query: ChatSearchQuery, chat: Json): boolean {
  for (const range of query.ranges) {
    const at = timeOf(chat[range.field])
    if (at === undefined) return false
    if (range.from !== null && at < range.from) return false
    if (range.to !== null && at > range.to) return false
  }
  for (const { field, value } of query.values) {
    const wanted = value.toLowerCase()
    if (!valuesOf(chat, field).some((v) => v.toLowerCase() === wanted)) return false
  }
  if (query.text.length > 0) {
    const haystack = searchableText(chat)
    for (const term of query.text) if (!haystack.includes(term.toLowerCase())) return false
  }
  return true
}

/**
 * One search result (`{"id","type","timestamp","preview","url"}`); `url` is the chat's own API
 * URL, built by the caller on the request's scheme, host and path shape.
 */
export function searchResult(chat: Json, url: string): Json {
  return {
    id: chat['id'],
    type: chat['type'] ?? 'chat',
    timestamp: chat['timestamp'] ?? null,
    preview: preview(chat),
    url,
  }
}

function timeOf(value: unknown): Micros | undefined {
  return typeof value === 'string' ? parseIso(value) : undefined
}

function valuesOf(chat: Json, field: string): string[] {
  const visitor = (chat['visitor'] ?? {}) as Json
  const raw =
    field === 'visitor_email'
      ? visitor['email']
      : field === 'visitor_name'
        ? visitor['name']
        : chat[field]
  const list = Array.isArray(raw) ? raw : [raw]
  return list.filter((v): v is string => typeof v === 'string')
}

function searchableText(chat: Json): string {
  const visitor = (chat['visitor'] ?? {}) as Json
  const history = Array.isArray(chat['history']) ? (chat['history'] as Json[]) : []
  const parts: unknown[] = [
    visitor['name'],
    visitor['email'],
    chat['comment'],
    chat['department_name'],
    ...listOf(chat['agent_names']),
    ...listOf(chat['tags']),
    ...history.map((h) => h['msg']),
  ]
  return parts
    .filter((p): p is string => typeof p === 'string')
    .join('\n')
    .toLowerCase()
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : []
}

/** The first message of the chat, cut to 100 characters (the real previews are short). */
function preview(chat: Json): string {
  const history = Array.isArray(chat['history']) ? (chat['history'] as Json[]) : []
  const first = history.find((h) => typeof h['msg'] === 'string')
  const text = typeof first?.['msg'] === 'string' ? first['msg'] : ''
  return text.length > 100 ? text.slice(0, 100) : text
}
