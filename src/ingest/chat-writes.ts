/**
 * The REST chat writes (`PUT /chats/{id}`, `DELETE /chats/{id}`) as changes like any other: one
 * write transaction of the account, whose position becomes the chat's new `update_timestamp`, so
 * the chats export serves the changed chat (a deleted one with `deleted: true`) to every reader
 * past its previous position. A chat folded from events changes through the fold itself (the same
 * `chat.tags_changed`, `chat.rated`, `chat.commented`, `chat.deleted` events ingest takes, so its
 * history records the change); what has no event (unread, visitor details), and chats that were
 * imported rather than folded, change on the stored object directly.
 * @module
 */
import type { ChatWriter } from '../domain/rest/chat-update.js'
import { applyChatUpdate, chatUpdateEvents } from '../domain/rest/chat-update.js'
import { FOLD_STATE, parseFoldState } from '../domain/fold/index.js'
import { ingestEventSchema } from '../domain/events.js'
import type { IngestEvent } from '../domain/events.js'
import { renderChat, streamSpec } from '../domain/streams.js'
import { formatIso } from '../domain/time.js'
import type { Store, WriteTx } from '../store/store.js'
import { applyEventsInTx } from './ingest-events.js'

type Json = Record<string, unknown>

/** The chat writer over `store`'s write transactions. */
export function chatWriter(store: Store): ChatWriter {
  return {
    updateChat(accountId, chatId, update) {
      return store.write(accountId, async (tx) => {
        const chat = await liveChat(tx, chatId)
        if (chat === undefined) return undefined
        const folded = await foldable(tx, chatId, chat)
        if (folded !== null) {
          await fold(tx, accountId, chatUpdateEvents(chat, update, eventIds(tx, chatId, folded)))
        }
        // Re-read: folding may have written the chat in this transaction.
        const current = (await liveChat(tx, chatId)) ?? chat
        const next = applyChatUpdate(current, update, folded === null)
        if (!sameChat(next, current)) await putChat(tx, next)
        return (await liveChat(tx, chatId)) ?? next
      })
    },
    deleteChat(accountId, chatId) {
      return store.write(accountId, async (tx) => {
        const chat = await liveChat(tx, chatId)
        if (chat === undefined) return false
        const folded = await foldable(tx, chatId, chat, true)
        if (folded !== null) {
          const ids = eventIds(tx, chatId, folded)
          await fold(tx, accountId, [
            {
              id: `${ids.prefix}.deleted`,
              timestamp: ids.timestamp,
              type: 'chat.deleted',
              chat_id: chatId,
            },
          ])
        } else {
          await putChat(tx, { ...chat, deleted: true })
        }
        return true
      })
    },
  }
}

/** The stored chat, unless it is missing or deleted (both answer 404). */
async function liveChat(tx: WriteTx, chatId: string): Promise<Json | undefined> {
  const text = await tx.getItem('chats', chatId)
  if (text === undefined) return undefined
  const chat = JSON.parse(text) as Json
  return chat['deleted'] === true ? undefined : chat
}

/**
 * The time of the chat's last folded event, when the fold can take the change: the chat has fold
 * state, and is a live chat (offline messages take only chat.deleted). Null: change it directly.
 */
async function foldable(
  tx: WriteTx,
  chatId: string,
  chat: Json,
  deleting = false,
): Promise<number | null> {
  const text = await tx.getState(FOLD_STATE.chat, chatId)
  if (text === undefined) return null
  if (!deleting && chat['type'] !== 'chat') return null
  return parseFoldState(FOLD_STATE.chat, text).lastAt ?? 0
}

/**
 * Ids and time of the events a write folds: the transaction's position names them (unique per
 * write); the time is never before the chat's last event, which the fold would refuse.
 */
function eventIds(tx: WriteTx, chatId: string, lastAt: number) {
  return {
    chatId,
    prefix: `rest.${tx.position}.${chatId}`,
    timestamp: formatIso(Math.max(tx.position, lastAt)),
  }
}

async function fold(tx: WriteTx, accountId: number, events: IngestEvent[]): Promise<void> {
  if (events.length === 0) return
  // Parsed as ingest parses them, so defaults and limits are the ingest's own.
  await applyEventsInTx(
    tx,
    accountId,
    events.map((e) => ingestEventSchema.parse(e)),
  )
}

async function putChat(tx: WriteTx, chat: Json): Promise<void> {
  const { update_timestamp: _previous, ...rest } = chat
  await tx.putItem('chats', {
    ...streamSpec('chats').itemIds(rest as { id: string }),
    position: tx.position,
    ...renderChat(rest, tx.position),
  })
}

function sameChat(a: Json, b: Json): boolean {
  const { update_timestamp: _a, ...x } = a
  const { update_timestamp: _b, ...y } = b
  return JSON.stringify(x) === JSON.stringify(y)
}
