/**
 * The SQLite store's SQL: every statement it runs, each prepared once (on first use) and reused.
 * Only text and preparation here; running them is the store's and the write transaction's job.
 * @module
 */
import type Database from 'better-sqlite3'
import type { AccountRow, TokenRow } from '../rows.js'
import type { PageBody, PageQuery, Role, StoredRow } from '../store.js'
import { assertPageQuery } from '../store-rules.js'

/**
 * A statement prepared on first use and reused afterwards. First use, not open time, because the
 * tables only exist once `migrate()` has run. `pluck`: rows are the first column's value.
 */
export function lazyStatement<P extends unknown[], R = unknown>(
  db: Database.Database,
  sql: string,
  options: { pluck?: boolean } = {},
): () => Database.Statement<P, R> {
  let statement: Database.Statement<P, R> | undefined
  return () => {
    if (statement === undefined) {
      statement = db.prepare<P, R>(sql)
      if (options.pluck) statement.pluck()
    }
    return statement
  }
}

/** Transaction control on the write connection. IMMEDIATE: take the write lock at BEGIN. */
export function controlStatements(writer: Database.Database) {
  return {
    begin: lazyStatement<[]>(writer, 'BEGIN IMMEDIATE'),
    commit: lazyStatement<[]>(writer, 'COMMIT'),
    rollback: lazyStatement<[]>(writer, 'ROLLBACK'),
  }
}

export type ControlStatements = ReturnType<typeof controlStatements>

const ACCOUNT_COLUMNS = 'id, name, created_at'
const TOKEN_COLUMNS =
  'id, account_id, prefix, hash, role, scopes, label, created_at, expires_at, revoked_at'

/**
 * The page queries. Both are a range scan of the items_by_cursor index: equality on
 * (account_id, stream), then a lower bound on (position, sort_id) and an upper bound on position.
 * The exclusive form uses a row-value comparison because SQLite turns that into one index range,
 * where the equivalent `position > ? OR (position = ? AND sort_id > ?)` may not. With no upper
 * bound the store passes Number.MAX_SAFE_INTEGER, so each kind of body has two statements, not
 * four.
 */
const pageAfterCursorSql = (columns: string) => `SELECT ${columns}
  FROM items
  WHERE account_id = ? AND stream = ? AND (position, sort_id) > (?, ?) AND position <= ?
  ORDER BY position, sort_id LIMIT ?`
const pageFromPositionSql = (columns: string) => `SELECT ${columns}
  FROM items
  WHERE account_id = ? AND stream = ? AND position >= ? AND position <= ?
  ORDER BY position, sort_id LIMIT ?`

/** The `body` column of a page, per {@link PageBody}. */
const BODY_COLUMN: Record<PageBody, string> = {
  full: 'body',
  // No JSON at all: the scan is answered from the index alone (id-only pages).
  none: "X''",
  // Rows without a summary (written before summaries existed, or given none) serve their body.
  summary: 'COALESCE(summary, body)',
}

export type AfterCursorArgs = [number, string, number, string, number, number]
export type FromPositionArgs = [number, string, number, number, number]

/** A page row's cursor columns. */
export type PageCursor = Omit<StoredRow, 'body'>

/** The two forms of page query, by the arguments they take. */
export type PageForm = 'afterCursor' | 'fromPosition'

/** One page query as a statement to run: its form, its body column and its arguments. */
export type PageCall =
  | { form: 'afterCursor'; body: PageBody; args: AfterCursorArgs }
  | { form: 'fromPosition'; body: PageBody; args: FromPositionArgs }

/**
 * The statement and arguments of a page query, the same for the reader in this thread and a read
 * worker. Throws the store's input errors for a query no store accepts.
 */
export function pageCall(query: PageQuery): PageCall {
  assertPageQuery(query)
  const { accountId, stream, afterPosition, afterSortId, limit } = query
  const maxPosition = query.maxPosition ?? Number.MAX_SAFE_INTEGER
  const body = query.body ?? 'full'
  return afterSortId === null
    ? { form: 'fromPosition', body, args: [accountId, stream, afterPosition, maxPosition, limit] }
    : {
        form: 'afterCursor',
        body,
        args: [accountId, stream, afterPosition, afterSortId, maxPosition, limit],
      }
}

/**
 * The SQL of every page statement, by form and body. Shared by the read connection in this thread
 * and the read workers (sqlite-read-pool.ts), so both run exactly the same queries.
 */
export const PAGE_SQL: Record<PageForm, Record<PageBody, string>> = {
  afterCursor: pageSqlByBody(pageAfterCursorSql),
  fromPosition: pageSqlByBody(pageFromPositionSql),
}

function pageSqlByBody(sql: (columns: string) => string): Record<PageBody, string> {
  const row = (body: PageBody) => `position, sort_id AS sortId, ${BODY_COLUMN[body]} AS body`
  return { full: sql(row('full')), none: sql(row('none')), summary: sql(row('summary')) }
}

/**
 * A page's bodies alone (plucked: a Buffer per row), and the cursor of its row at `OFFSET ?`
 * (the last one's): better-sqlite3 builds a row object a row, and for a page of 1000 chats those
 * cost some 2 ms of the 5.3 a full page took to read (measured with process.cpuUsage, 200 pages).
 */
const PAGE_BODIES_SQL: Record<PageForm, Record<PageBody, string>> = {
  afterCursor: bodiesSqlByBody(pageAfterCursorSql),
  fromPosition: bodiesSqlByBody(pageFromPositionSql),
}
const PAGE_CURSOR_SQL: Record<PageForm, string> = {
  afterCursor: `${pageAfterCursorSql('position, sort_id AS sortId')} OFFSET ?`,
  fromPosition: `${pageFromPositionSql('position, sort_id AS sortId')} OFFSET ?`,
}

function bodiesSqlByBody(sql: (columns: string) => string): Record<PageBody, string> {
  return {
    full: sql(BODY_COLUMN.full),
    none: sql(BODY_COLUMN.none),
    summary: sql(BODY_COLUMN.summary),
  }
}

/**
 * The store's own statements: on the write connection the account clock, accounts and tokens; on
 * the read connection everything read outside a write transaction.
 */
export function storeStatements(reader: Database.Database, writer: Database.Database) {
  const pages = <P extends unknown[]>(form: PageForm) => ({
    full: lazyStatement<P, StoredRow>(reader, PAGE_SQL[form].full),
    none: lazyStatement<P, StoredRow>(reader, PAGE_SQL[form].none),
    summary: lazyStatement<P, StoredRow>(reader, PAGE_SQL[form].summary),
  })
  const bodies = <P extends unknown[]>(form: PageForm) => ({
    full: lazyStatement<P, Buffer>(reader, PAGE_BODIES_SQL[form].full, { pluck: true }),
    none: lazyStatement<P, Buffer>(reader, PAGE_BODIES_SQL[form].none, { pluck: true }),
    summary: lazyStatement<P, Buffer>(reader, PAGE_BODIES_SQL[form].summary, { pluck: true }),
  })
  return {
    readClock: lazyStatement<[number], number>(
      writer,
      'SELECT last_position FROM account_clock WHERE account_id = ?',
      { pluck: true },
    ),
    // A reset: the account's rows of every stream-data table (its clock is saved as 0 after).
    // The account's data (the directory and the chat index too); OAuth clients are configuration.
    clearAccount: ['items', 'state', 'seen_events', 'directory', 'directory_ids', 'chat_index'].map(
      (table) => lazyStatement<[number]>(writer, `DELETE FROM ${table} WHERE account_id = ?`),
    ),
    saveClock: lazyStatement<[number, number]>(
      writer,
      `INSERT INTO account_clock (account_id, last_position) VALUES (?, ?)
       ON CONFLICT (account_id) DO UPDATE SET last_position = excluded.last_position`,
    ),
    insertAccount: lazyStatement<[string, number], AccountRow>(
      writer,
      `INSERT INTO accounts (name, created_at) VALUES (?, ?) RETURNING ${ACCOUNT_COLUMNS}`,
    ),
    insertToken: lazyStatement<
      [number, string, Buffer, Role, string, string | null, number, number | null],
      TokenRow
    >(
      writer,
      `INSERT INTO tokens (account_id, prefix, hash, role, scopes, label, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${TOKEN_COLUMNS}`,
    ),
    // COALESCE: revoking again keeps the first revocation time (when access really ended).
    revokeToken: lazyStatement<[number, number, number]>(
      writer,
      'UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND account_id = ?',
    ),

    pageAfterCursor: pages<AfterCursorArgs>('afterCursor'),
    pageFromPosition: pages<FromPositionArgs>('fromPosition'),
    bodiesAfterCursor: bodies<AfterCursorArgs>('afterCursor'),
    bodiesFromPosition: bodies<FromPositionArgs>('fromPosition'),
    cursorAfterCursor: lazyStatement<[...AfterCursorArgs, number], PageCursor>(
      reader,
      PAGE_CURSOR_SQL.afterCursor,
    ),
    cursorFromPosition: lazyStatement<[...FromPositionArgs, number], PageCursor>(
      reader,
      PAGE_CURSOR_SQL.fromPosition,
    ),
    lastPosition: lazyStatement<[number], number>(
      reader,
      'SELECT last_position FROM account_clock WHERE account_id = ?',
      { pluck: true },
    ),
    accountByName: lazyStatement<[string], AccountRow>(
      reader,
      `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE name = ?`,
    ),
    accountById: lazyStatement<[number], AccountRow>(
      reader,
      `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = ?`,
    ),
    allAccounts: lazyStatement<[], AccountRow>(
      reader,
      `SELECT ${ACCOUNT_COLUMNS} FROM accounts ORDER BY id`,
    ),
    tokenByPrefix: lazyStatement<[string], TokenRow>(
      reader,
      `SELECT ${TOKEN_COLUMNS} FROM tokens WHERE prefix = ?`,
    ),
    tokensOfAccount: lazyStatement<[number], TokenRow>(
      reader,
      `SELECT ${TOKEN_COLUMNS} FROM tokens WHERE account_id = ? ORDER BY id`,
    ),
  }
}

export type StoreStatements = ReturnType<typeof storeStatements>

/** The write connection's statements, prepared once per store and reused by every transaction. */
export function writeTxStatements(db: Database.Database) {
  return {
    inTransaction: () => db.inTransaction,
    highWaterMark: lazyStatement<[number, string], number>(
      db,
      'SELECT position FROM items WHERE account_id = ? AND stream = ? ORDER BY position DESC LIMIT 1',
      { pluck: true },
    ),
    getItem: lazyStatement<[number, string, string], Buffer>(
      db,
      'SELECT body FROM items WHERE account_id = ? AND stream = ? AND item_key = ?',
      { pluck: true },
    ),
    // Every column is replaced: a replaced item keeps nothing of the old one (not its summary).
    putItem: lazyStatement<[number, string, string, string, number, Buffer, Buffer | null]>(
      db,
      `INSERT INTO items (account_id, stream, item_key, sort_id, position, body, summary)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (account_id, stream, item_key) DO UPDATE SET
         sort_id = excluded.sort_id, position = excluded.position, body = excluded.body,
         summary = excluded.summary`,
    ),
    getState: lazyStatement<[number, string, string], string>(
      db,
      'SELECT value FROM state WHERE account_id = ? AND kind = ? AND key = ?',
      { pluck: true },
    ),
    putState: lazyStatement<[number, string, string, string]>(
      db,
      `INSERT INTO state (account_id, kind, key, value) VALUES (?, ?, ?, ?)
       ON CONFLICT (account_id, kind, key) DO UPDATE SET value = excluded.value`,
    ),
    deleteState: lazyStatement<[number, string, string]>(
      db,
      'DELETE FROM state WHERE account_id = ? AND kind = ? AND key = ?',
    ),
    markEvent: lazyStatement<[number, string, number]>(
      db,
      `INSERT INTO seen_events (account_id, event_id, position) VALUES (?, ?, ?)
       ON CONFLICT (account_id, event_id) DO NOTHING`,
    ),
    putChatIndex: lazyStatement<ChatIndexArgs>(db, PUT_CHAT_INDEX_SQL),
  }
}

/** The columns of a chat_index row, in {@link PUT_CHAT_INDEX_SQL}'s order. */
export type ChatIndexArgs = [
  accountId: number,
  chatId: string,
  type: string,
  timestamp: number | null,
  endTimestamp: number | null,
  deleted: number,
  visitorEmail: string | null,
  visitorName: string | null,
  rating: string | null,
  departmentName: string | null,
  agentNames: string,
  tags: string,
  searchText: string,
]

/** The index row of a chats item (src/domain/rest/chat-index.ts), replaced with the item. */
export const PUT_CHAT_INDEX_SQL = `INSERT INTO chat_index (account_id, chat_id, type, timestamp,
    end_timestamp, deleted, visitor_email, visitor_name, rating, department_name, agent_names,
    tags, search_text)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (account_id, chat_id) DO UPDATE SET
    type = excluded.type, timestamp = excluded.timestamp, end_timestamp = excluded.end_timestamp,
    deleted = excluded.deleted, visitor_email = excluded.visitor_email,
    visitor_name = excluded.visitor_name, rating = excluded.rating,
    department_name = excluded.department_name, agent_names = excluded.agent_names,
    tags = excluded.tags, search_text = excluded.search_text`

export type WriteTxStatements = ReturnType<typeof writeTxStatements>
