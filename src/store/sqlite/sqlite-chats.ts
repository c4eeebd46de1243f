/**
 * The SQLite implementation of the chat reader (src/store/directory-port.ts `ChatReader`): reads
 * of the `chats` export items through `chat_index` (migration 5), the per-chat row the write
 * transaction keeps beside each item. `GET /chats` walks the index's primary key in id order,
 * `/chats?ids=` reads items by key, and a search filters the index rows of its time window (one
 * of the two time indexes) and reads the bodies of one page only.
 * @module
 */
import type Database from 'better-sqlite3'
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
import { assertAccountId } from '../store-rules.js'
import type { SqliteConnection } from './sqlite-connection.js'
import type { ChatIndexArgs } from './sqlite-statements.js'
import { lazyStatement, PUT_CHAT_INDEX_SQL } from './sqlite-statements.js'

/** The chat_index row of a chats item, as the statement's parameters (`row`: the body's, if known). */
export function chatIndexArgs(
  accountId: number,
  key: string,
  body: string,
  row: ChatIndexRow = chatIndexRowOf(body),
): ChatIndexArgs {
  return [
    accountId,
    key,
    row.type,
    row.timestamp,
    row.endTimestamp,
    row.deleted ? 1 : 0,
    row.visitorEmail,
    row.visitorName,
    row.rating,
    row.departmentName,
    row.agentNames,
    row.tags,
    row.searchText,
  ]
}

/**
 * Fills chat_index for the chats stored before migration 5, inside the migrating transaction
 * (the caller holds the write lock, so no chat changes meanwhile).
 */
export function backfillSqliteChatIndex(db: Database.Database): void {
  const put = db.prepare<ChatIndexArgs>(PUT_CHAT_INDEX_SQL)
  const accounts = db.prepare<[], number>('SELECT id FROM accounts ORDER BY id').pluck().all()
  // Batches by key (a statement cannot write while another still iterates on the connection).
  const batch = db.prepare<[number, string], { key: string; body: Buffer }>(
    `SELECT item_key AS key, body FROM items WHERE account_id = ? AND stream = 'chats'
       AND item_key > ? ORDER BY item_key LIMIT 500`,
  )
  for (const accountId of accounts) {
    let after = ''
    for (;;) {
      const rows = batch.all(accountId, after)
      for (const row of rows)
        put.run(...chatIndexArgs(accountId, row.key, row.body.toString('utf8')))
      const last = rows[rows.length - 1]
      if (last === undefined) break
      after = last.key
    }
  }
}

const JOIN = `FROM chat_index c JOIN items i
  ON i.account_id = c.account_id AND i.stream = 'chats' AND i.item_key = c.chat_id`

/** The WHERE clause and parameters of a search (after `c.account_id = ? AND c.deleted = 0`). */
function whereOf(filter: ChatIndexFilter): { sql: string; params: (string | number)[] } {
  const parts: string[] = []
  const params: (string | number)[] = []
  for (const range of filter.ranges) {
    parts.push(`c.${range.column} IS NOT NULL`)
    if (range.from !== null) {
      parts.push(`c.${range.column} >= ?`)
      params.push(range.from)
    }
    if (range.to !== null) {
      parts.push(`c.${range.column} <= ?`)
      params.push(range.to)
    }
  }
  for (const { column, value } of filter.equals) {
    parts.push(`c.${column} = ?`)
    params.push(value)
  }
  for (const { column, text } of filter.contains) {
    parts.push(`instr(c.${column}, ?) > 0`)
    params.push(text)
  }
  return { sql: parts.map((p) => ` AND ${p}`).join(''), params }
}

/** The statements of a search: the count of its matches and one page of their bodies. */
export function searchSql(filter: ChatIndexFilter): {
  count: string
  page: string
  params: (string | number)[]
} {
  const where = whereOf(filter)
  return {
    count: `SELECT count(*) FROM chat_index c WHERE c.account_id = ? AND c.deleted = 0${where.sql}`,
    page: `SELECT i.body ${JOIN} WHERE c.account_id = ? AND c.deleted = 0${where.sql}
             ORDER BY c.chat_id LIMIT ? OFFSET ?`,
    params: where.params,
  }
}

/** The chat reader of a SQLite store (reads on the reader connection). */
export function sqliteChats(db: SqliteConnection): ChatReader {
  const reader = db.reader
  const sql = {
    get: lazyStatement<[number, string], Buffer>(
      reader,
      "SELECT body FROM items WHERE account_id = ? AND stream = 'chats' AND item_key = ?",
      { pluck: true },
    ),
    list: lazyStatement<[number, string, number], Buffer>(
      reader,
      `SELECT i.body ${JOIN} WHERE c.account_id = ? AND c.deleted = 0 AND c.chat_id > ?
         ORDER BY c.chat_id LIMIT ?`,
      { pluck: true },
    ),
  }
  // Search statements differ only by which terms a query has: prepared once per shape.
  const prepared = new Map<string, Database.Statement<unknown[], unknown>>()
  const statement = (text: string, pluck: boolean) => {
    let found = prepared.get(text)
    if (found === undefined) {
      found = reader.prepare<unknown[], unknown>(text)
      if (pluck) found.pluck()
      // Shapes are few in practice; a query with many free-text terms is not worth keeping.
      if (prepared.size < 64) prepared.set(text, found)
    }
    return found
  }
  const count = (accountId: number, filter: ChatIndexFilter): number => {
    const sql = searchSql(filter)
    return statement(sql.count, true).get(accountId, ...sql.params) as number
  }
  return {
    getChats(accountId, ids) {
      return db.read(() => {
        assertAccountId(accountId)
        const found = new Map<string, string>()
        for (const id of new Set(ids)) {
          const body = sql.get().get(accountId, id)
          if (body !== undefined) found.set(id, body.toString('utf8'))
        }
        return found
      })
    },
    listChats(accountId, afterId, limit) {
      return db.read(() => {
        assertAccountId(accountId)
        // Chat ids are never empty, so '' is below every id.
        return sql
          .list()
          .all(accountId, afterId ?? '', limit)
          .map((b) => b.toString('utf8'))
      })
    },
    searchChats(accountId, query, offset, limit) {
      return db.read(() => {
        assertAccountId(accountId)
        const filter = chatIndexFilter(query)
        if (readsText(filter)) {
          const candidates = count(accountId, withoutText(filter))
          if (candidates > MAX_TEXT_SEARCH_CHATS) throw textSearchTooBroad(candidates)
        }
        const total = count(accountId, filter)
        const sql = searchSql(filter)
        const bodies = statement(sql.page, true).all(
          accountId,
          ...sql.params,
          limit,
          offset,
        ) as Buffer[]
        return { total, chats: bodies.map((b) => b.toString('utf8')) }
      })
    },
  }
}
