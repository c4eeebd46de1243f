/**
 * The PostgreSQL implementation of the chat reader (src/store/directory-port.ts `ChatReader`):
 * reads of the `chats` export items through `chat_index` (migration 5), the per-chat row the
 * write transaction keeps beside each item, under the same row-level security as the items (each
 * statement also names the account). `GET /chats` walks the index's primary key in id order,
 * `/chats?ids=` reads items by key, and a search filters the index rows of its time window (one of
 * the two time indexes) and reads the bodies of one page only.
 * @module
 */
import type pg from 'pg'
import type { ChatIndexFilter, ChatIndexRow } from '../../domain/rest/chat-index.js'
import {
  chatIndexFilter,
  chatIndexRowOf,
  MAX_TEXT_SEARCH_CHATS,
  readsText,
  textSearchTooBroad,
  withoutText,
} from '../../domain/rest/chat-index.js'
import type { ChatReader } from '../directory-port.js'
import type { PostgresConnection } from './postgres-connection.js'
import { CHAT_INDEX_SQL } from './postgres-statements.js'

/**
 * The unnest arrays of chat_index rows for `$2…$13` of CHAT_INDEX_SQL.put / .backfill; an item's
 * row is derived from its body unless the writer passed it (`chatIndex`).
 */
export function chatIndexColumns(
  items: readonly { key: string; body: string; chatIndex?: ChatIndexRow | undefined }[],
): unknown[] {
  const rows = items.map((item) => ({
    key: item.key,
    row: item.chatIndex ?? chatIndexRowOf(item.body),
  }))
  return [
    rows.map((r) => r.key),
    rows.map((r) => r.row.type),
    rows.map((r) => r.row.timestamp),
    rows.map((r) => r.row.endTimestamp),
    rows.map((r) => r.row.deleted),
    rows.map((r) => r.row.visitorEmail),
    rows.map((r) => r.row.visitorName),
    rows.map((r) => r.row.rating),
    rows.map((r) => r.row.departmentName),
    rows.map((r) => r.row.agentNames),
    rows.map((r) => r.row.tags),
    rows.map((r) => r.row.searchText),
  ]
}

const BACKFILL_BATCH = 500

/**
 * Fills chat_index for the chats stored before migration 5, one account (and row-level security
 * scope) at a time. Rows a server wrote meanwhile are newer and are kept.
 */
export async function backfillPostgresChatIndex(
  db: PostgresConnection,
  accountIds: readonly number[],
): Promise<void> {
  for (const accountId of accountIds) {
    let after = ''
    for (;;) {
      const batch = await db.inAccount(accountId, 'write', async (client) => {
        const { rows } = await client.query<{ item_key: string; body: string }>({
          ...CHAT_INDEX_SQL.storedChats,
          values: [accountId, after, BACKFILL_BATCH],
        })
        if (rows.length > 0) {
          await client.query({
            ...CHAT_INDEX_SQL.backfill,
            values: [
              accountId,
              ...chatIndexColumns(rows.map((r) => ({ key: r.item_key, body: r.body }))),
            ],
          })
        }
        return rows
      })
      const last = batch[batch.length - 1]
      if (last === undefined || batch.length < BACKFILL_BATCH) break
      after = last.item_key
    }
  }
}

const JOIN = `FROM chat_index c JOIN items i
  ON i.account_id = c.account_id AND i.stream = 'chats' AND i.item_key = c.chat_id`

/** The conditions of a search after `c.account_id = $1 AND NOT c.deleted`, from `$2` on. */
function whereOf(filter: ChatIndexFilter): { sql: string; params: unknown[] } {
  const parts: string[] = []
  const params: unknown[] = []
  const next = (value: unknown) => {
    params.push(value)
    return `$${params.length + 1}`
  }
  const col = (column: string) => (column === 'timestamp' ? 'c."timestamp"' : `c.${column}`)
  for (const range of filter.ranges) {
    parts.push(`${col(range.column)} IS NOT NULL`)
    if (range.from !== null) parts.push(`${col(range.column)} >= ${next(range.from)}`)
    if (range.to !== null) parts.push(`${col(range.column)} <= ${next(range.to)}`)
  }
  for (const { column, value } of filter.equals) parts.push(`${col(column)} = ${next(value)}`)
  for (const { column, text } of filter.contains) {
    parts.push(`strpos(${col(column)}, ${next(text)}) > 0`)
  }
  return { sql: parts.map((p) => ` AND ${p}`).join(''), params }
}

async function count(
  client: pg.PoolClient,
  accountId: number,
  filter: ChatIndexFilter,
): Promise<number> {
  const where = whereOf(filter)
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*)::int8 AS n FROM chat_index c WHERE c.account_id = $1 AND NOT c.deleted${where.sql}`,
    [accountId, ...where.params],
  )
  return rows[0]?.n ?? 0
}

/** The chat reader of a PostgreSQL store. */
export function postgresChats(db: PostgresConnection): ChatReader {
  return {
    getChats(accountId, ids) {
      return db.inAccount(accountId, 'read', async (client) => {
        const { rows } = await client.query<{ item_key: string; body: string }>({
          ...CHAT_INDEX_SQL.get,
          values: [accountId, [...new Set(ids)]],
        })
        return new Map(rows.map((r) => [r.item_key, r.body]))
      })
    },
    listChats(accountId, afterId, limit) {
      return db.inAccount(accountId, 'read', async (client) => {
        // Chat ids are never empty, so '' is below every id.
        const { rows } = await client.query<{ body: string }>({
          ...CHAT_INDEX_SQL.list,
          values: [accountId, afterId ?? '', limit],
        })
        return rows.map((r) => r.body)
      })
    },
    searchChats(accountId, query, offset, limit) {
      const filter = chatIndexFilter(query)
      // One read transaction (READ COMMITTED: a chat committed between the two may move the count).
      return db.inAccount(accountId, 'read', async (client) => {
        if (readsText(filter)) {
          const candidates = await count(client, accountId, withoutText(filter))
          if (candidates > MAX_TEXT_SEARCH_CHATS) throw textSearchTooBroad(candidates)
        }
        const total = await count(client, accountId, filter)
        const where = whereOf(filter)
        const n = where.params.length
        const { rows } = await client.query<{ body: string }>(
          `SELECT i.body ${JOIN} WHERE c.account_id = $1 AND NOT c.deleted${where.sql}
             ORDER BY c.chat_id LIMIT $${n + 2} OFFSET $${n + 3}`,
          [accountId, ...where.params, limit, offset],
        )
        return { total, chats: rows.map((r) => r.body) }
      })
    },
  }
}
