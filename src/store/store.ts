/**
 * The store port: the narrow interface every backend (SQLite, PostgreSQL) implements, with the same
 * behaviour, checked by one contract suite (`test/contract/store.contract.test.ts`).
 *
 * Positions: every write transaction of an account gets a position P,
 * `max(clock.now(), last position of the account + 1)`, assigned while the transaction holds the
 * account's write serialisation point (SQLite: the database write lock; PostgreSQL: the account's
 * sequencer row); writers give its items P, P + 1, … and the store raises the account clock over
 * them. Position order is therefore commit order, and a reader that has seen position p can never
 * later see a newly committed item at or below p. See docs/positions.md.
 *
 * Errors, the same on every store (rules in `store-rules.ts`, pinned by the contract suite):
 * - an input the port refuses (an item position that is not a positive safe integer, a page limit
 *   that is not an integer >= 1, an account id that is not a positive integer, ...) throws a
 *   `RangeError` before any statement runs: a bug in the caller;
 * - a unique key already taken (account name, token prefix) throws a `DuplicateKeyError`;
 * - a database that cannot serve now (locked, unreachable, out of connections) throws the
 *   catalogue's `AppError` `STORE_UNAVAILABLE`, with a retry delay and no SQL in its description.
 * @module
 */
import type { ChatIndexRow } from '../domain/rest/chat-index.js'
import type { Micros } from '../domain/time.js'
import type { StreamName } from '../domain/streams.js'
import type { ChatReader, DirectoryStore, DirectoryWriteTx } from './directory-port.js'
import type { OAuthStore } from './oauth-port.js'

export type Role = 'owner' | 'administrator' | 'agent'
export type Scope = 'read' | 'write'

export interface Account {
  id: number
  name: string
  createdAt: Micros
}

export interface TokenRecord {
  id: number
  accountId: number
  /** Public, non-secret part of the token, used to find the record. */
  prefix: string
  /** SHA-256 of the whole token; the token itself is never stored. */
  hash: Buffer
  role: Role
  scopes: Scope[]
  label: string | null
  createdAt: Micros
  expiresAt: Micros | null
  revokedAt: Micros | null
}

export type NewToken = Omit<TokenRecord, 'id' | 'revokedAt'>

/** One stored export item, as read for a page. */
export interface StoredRow {
  position: Micros
  sortId: string
  /** The item's JSON text as UTF-8 bytes, spliced into pages without parsing. */
  body: Buffer
}

/** A page as its rows' bodies and the last row's cursor: all a page of spliced bodies needs. */
export interface PageBodies {
  /** Each row's `body` (per {@link PageQuery.body}), in (position, sortId) order. */
  bodies: Buffer[]
  /** The last row's position and sort id; undefined when the page is empty. */
  last: { position: Micros; sortId: string } | undefined
}

export interface PageQuery {
  accountId: number
  stream: StreamName
  /** Items with position > afterPosition, or position = afterPosition and sortId > afterSortId. */
  afterPosition: Micros
  /** `null`: inclusive of afterPosition (no start_id was given). */
  afterSortId: string | null
  /** Most rows to return: an integer >= 1. */
  limit: number
  /** Only items at or below this position (for --min-start-age); undefined = no bound. */
  maxPosition?: Micros
  /** What each row's `body` holds (default `'full'`); see {@link PageBody}. */
  body?: PageBody
}

/**
 * What `readPage` puts in each row's `body`:
 * - `'full'`: the item's JSON.
 * - `'none'`: nothing (id-only pages need just the cursor columns, which the page index covers, so
 *   the store never reads the JSON).
 * - `'summary'`: the item's summary where one was stored ({@link ItemWrite.summary}), else its full
 *   JSON (rows written without one, such as those stored before summaries existed). A projection
 *   that names no attribute the summary leaves out gives the same result over either.
 */
export type PageBody = 'full' | 'none' | 'summary'

export interface ItemWrite {
  key: string
  sortId: string
  position: Micros
  body: string
  /**
   * A smaller JSON text of the same item: its top-level attributes minus the large ones (a chat's
   * history, engagements, conversions, webpath), in the body's order, with the body's values.
   * Served instead of the body to projections that need none of the omitted attributes. Absent:
   * the item has none, and such projections read the body. Replacing an item replaces (or
   * removes) its summary too.
   */
  summary?: string | undefined
  /**
   * On the chats stream, the item's chat_index row as `chatIndexRow` derives it from the very
   * object whose JSON is `body` (`renderChat` gives both). Absent: the store derives it from the
   * body, parsing it. Writers that already hold the object pass it, saving a parse per chat.
   */
  chatIndex?: ChatIndexRow | undefined
}

/** What a write transaction may do. Every method is scoped to the transaction's account. */
export interface WriteTx {
  readonly accountId: number
  /** This transaction's position: strictly above every position the account had before. */
  readonly position: Micros
  /** Highest position stored in a stream of this account (0 when empty). */
  highWaterMark(stream: StreamName): Promise<Micros>
  /** Current stored JSON of an item, if any. */
  getItem(stream: StreamName, key: string): Promise<string | undefined>
  /**
   * Bulk `getItem`: the current JSON of each of `keys` that has an item (the transaction's own
   * writes included); keys without one are absent from the map. One round trip on PostgreSQL.
   */
  getItems(stream: StreamName, keys: readonly string[]): Promise<Map<string, string>>
  /**
   * Inserts or replaces an item (by key). Its position is a positive safe integer: `position`
   * plus the item's index in the transaction (one position per item), or on imports that preserve
   * timestamps the item's own time; the store raises the account clock to cover the highest.
   */
  putItem(stream: StreamName, item: ItemWrite): Promise<void>
  /** Private state used by ingest folding (open spans, queue sizes, ...), as JSON text. */
  getState(kind: string, key: string): Promise<string | undefined>
  /** Bulk `getState` for one kind: the value of each of `keys` that has one (absent: none). */
  getStates(kind: string, keys: readonly string[]): Promise<Map<string, string>>
  putState(kind: string, key: string, value: string): Promise<void>
  deleteState(kind: string, key: string): Promise<void>
  /** Records an ingest event id; false when it was already recorded (a retry). */
  markEvent(eventId: string): Promise<boolean>
  /**
   * Bulk `markEvent`: one answer per id, in order, exactly as if `markEvent` were called on each in
   * turn (an id repeated within `eventIds` is a retry after its first occurrence).
   */
  markEvents(eventIds: readonly string[]): Promise<boolean[]>
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres'
  /** The REST directory resources (src/store/directory-port.ts); absent on stores without them. */
  readonly directory?: DirectoryStore
  /** The chats outside the export (`/chats…`, src/store/directory-port.ts); absent on stores without them. */
  readonly chats?: ChatReader
  /** OAuth clients, codes and grants (src/store/oauth-port.ts); absent on stores without them. */
  readonly oauth?: OAuthStore
  /** Creates or upgrades the schema. Safe to run on every start. */
  migrate(): Promise<void>
  close(): Promise<void>

  /** Creates an account; a `DuplicateKeyError` (key `'account-name'`) when the name is taken. */
  createAccount(name: string): Promise<Account>
  getAccountByName(name: string): Promise<Account | undefined>
  getAccountById(id: number): Promise<Account | undefined>
  listAccounts(): Promise<Account[]>

  /** Stores a token; a `DuplicateKeyError` (key `'token-prefix'`) when its prefix is taken. */
  insertToken(token: NewToken): Promise<TokenRecord>
  getTokenByPrefix(prefix: string): Promise<TokenRecord | undefined>
  listTokens(accountId: number): Promise<TokenRecord[]>
  /** Marks a token revoked; false when no such token exists in the account. */
  revokeToken(accountId: number, tokenId: number, at: Micros): Promise<boolean>

  /** One page in (position, sortId) order, from one consistent snapshot. */
  readPage(query: PageQuery): Promise<StoredRow[]>
  /**
   * The same page as `readPage` (same snapshot rule), without the cursor of every row but the last:
   * the export's full and projected pages need no other.
   */
  readPageBodies(query: PageQuery): Promise<PageBodies>
  /** The last position handed out to the account (0 when none). */
  lastPosition(accountId: number): Promise<Micros>

  /**
   * Runs `fn` in one atomic, durable write transaction for the account. Either everything `fn`
   * wrote commits, or (if it throws) nothing does. Transactions of one account are serialised.
   */
  write<T>(accountId: number, fn: (tx: WriteTx) => Promise<T>): Promise<T>

  /**
   * Empties the account's streams in one write transaction: deletes its items, fold state,
   * recorded event ids, REST directory and chat index and resets its clock to 0, so exports start
   * again from position 0 (the account, its tokens, its OAuth clients and every other account are
   * untouched). With `refill`, the callback runs in
   * the same transaction after the delete (a seeded reset): readers see the old data or the new,
   * never an empty account in between. Items `refill` writes may carry positions of their own (at or
   * below the transaction's); the clock is raised to cover them, as for `write`.
   */
  resetAccount(accountId: number, refill?: (tx: DirectoryWriteTx) => Promise<void>): Promise<void>

  /**
   * Shared rate-limit state (PostgreSQL: a table every server instance sees). A sliding window of
   * `windowMicros`; refused requests are not counted. Absent on stores that serve one process
   * (SQLite), where the server keeps the window in memory.
   */
  consumeRateLimit?(
    key: string,
    limit: number,
    windowMicros: number,
    now: Micros,
  ): Promise<{ allowed: boolean; retryAfterSeconds: number }>
}
