/**
 * `PUT /chats/{id}` and `DELETE /chats/{id}` (chat-rest-api.md §1 row 36, §3.12), the pure part:
 * the body read and checked, the ingest events a change of a folded chat is (so its history
 * records the change as a live tag, rating or comment would), and the change applied to the
 * chat object directly where no event exists (unread, visitor details) or the chat was imported.
 * The write itself is src/ingest/chat-writes.ts, in the account's one write transaction.
 * @module
 */
import { AppError } from '../errors.js'
import type { IngestEvent } from '../events.js'
import { nextTags } from '../fold/chat-rules.js'
import { clip } from './id-window.js'
import type { ChatUpdate } from './schemas.js'
import { chatUpdateSchema } from './schemas.js'
import { expandDottedKeys } from './write-body.js'

type Json = Record<string, unknown>

/** Chat fields a client may echo back unchanged (zenpy sends the object's attributes): ignored. */
const ECHOED = new Set(['id'])

/** What the chat write routes need; `src/ingest/chat-writes.ts` implements it over a store. */
export interface ChatWriter {
  /** Applies the change; the updated chat as stored (export JSON), or undefined: no such live chat. */
  updateChat(accountId: number, chatId: string, update: ChatUpdate): Promise<Json | undefined>
  /** Marks the chat deleted; false: no such live chat. */
  deleteChat(accountId: number, chatId: string): Promise<boolean>
}

/**
 * The body of `PUT /chats/{id}`: the fields, wrapped in `{"chat": {...}}` or not, nested or as
 * zenpy's dotted keys (`{"visitor.name": "Ann"}`). INVALID_RESOURCE names a field that is not
 * writable or a value of the wrong type.
 */
export function parseChatUpdate(raw: unknown): ChatUpdate {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalid(
      'The body must be a JSON object of chat fields: tags, rating, comment, unread, visitor.',
    )
  }
  let body = expandDottedKeys(raw as Json)
  const inner = body['chat']
  if (Object.keys(body).length === 1 && typeof inner === 'object' && inner !== null) {
    body = inner as Json
  }
  const fields: Json = {}
  for (const [key, value] of Object.entries(body)) if (!ECHOED.has(key)) fields[key] = value
  const result = chatUpdateSchema.safeParse(fields)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const path = ['chat', ...(issue?.path ?? []).map(String)].join('.')
  if (issue?.code === 'unrecognized_keys') {
    throw invalid(
      `${issue.keys.map((k) => `${path}.${clip(k)}`).join(', ')} cannot be written. Writable: tags, rating (good, bad or null), comment, unread, visitor.{name,email,phone,notes}.`,
    )
  }
  throw invalid(`${path} is not valid: ${issue?.message ?? 'wrong value'}.`)
}

/**
 * The ingest events that make a folded live chat's tags, rating and comment what `update` asks
 * (none for what is already so), all at `timestamp`.
 */
export function chatUpdateEvents(
  chat: Json,
  update: ChatUpdate,
  ids: { chatId: string; prefix: string; timestamp: string },
): IngestEvent[] {
  const events: IngestEvent[] = []
  const base = (kind: string) => ({
    id: `${ids.prefix}.${kind}`,
    timestamp: ids.timestamp,
    chat_id: ids.chatId,
  })
  if (update.tags !== undefined && !sameTags(chat['tags'], update.tags)) {
    events.push({ ...base('tags'), type: 'chat.tags_changed', tags: update.tags })
  }
  if (update.rating !== undefined && update.rating !== (chat['rating'] ?? null)) {
    events.push({ ...base('rating'), type: 'chat.rated', rating: update.rating })
  }
  if (update.comment !== undefined && update.comment !== (chat['comment'] ?? null)) {
    events.push({ ...base('comment'), type: 'chat.commented', comment: update.comment })
  }
  return events
}

/** The chat with `update` applied directly: what has no event, or the whole change for an imported chat. */
export function applyChatUpdate(chat: Json, update: ChatUpdate, withEventFields: boolean): Json {
  const out: Json = { ...chat }
  if (withEventFields) {
    if (update.tags !== undefined && !sameTags(chat['tags'], update.tags)) {
      const current = Array.isArray(chat['tags']) ? (chat['tags'] as string[]) : []
      out['tags'] = nextTags(current, update.tags)
    }
    if (update.rating !== undefined) out['rating'] = update.rating
    if (update.comment !== undefined) out['comment'] = update.comment
  }
  if (update.unread !== undefined) out['unread'] = update.unread
  if (update.visitor !== undefined) {
    const visitor =
      typeof chat['visitor'] === 'object' && chat['visitor'] !== null ? chat['visitor'] : {}
    out['visitor'] = { ...(visitor as Json), ...update.visitor }
  }
  return out
}

function sameTags(current: unknown, next: readonly string[]): boolean {
  const a = Array.isArray(current) ? [...new Set(current as string[])].sort() : []
  const b = [...new Set(next)].sort()
  return a.length === b.length && a.every((t, i) => t === b[i])
}

function invalid(description: string): AppError {
  return new AppError('INVALID_RESOURCE', description)
}
