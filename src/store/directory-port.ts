/**
 * The directory port: what the REST routes (`src/http/rest-routes.ts`) need from storage for the
 * directory resources (account, agents, bans, departments, goals, roles, skills, shortcuts,
 * triggers, routing settings, visitors). Both stores implement it; every method is scoped to one
 * account, like the rest of the store.
 *
 * Records are stored as their validated wire JSON (the domain checks them with
 * `src/domain/rest/schemas.ts` before a write), so the store never interprets a body: it keeps the
 * three columns it must query on beside it (id, numeric id, look-up key).
 *
 * Suggested table (phase 2): `directory(account_id, kind, id text, numeric_id bigint null,
 * lookup text null, body text, primary key (account_id, kind, id))`, an index on
 * `(account_id, kind, numeric_id)` for the id windows and a unique index on
 * `(account_id, kind, lookup)` where the resource wants unique look-ups; on PostgreSQL with the
 * same row-level security policy as the other per-account tables.
 * @module
 */
import type { ChatSearchQuery } from '../domain/rest/chat-search.js'
import type { IdWindow } from '../domain/rest/id-window.js'
import type { DirectoryKind } from '../domain/rest/resources.js'
import type { WriteTx } from './store.js'

export type { DirectoryKind } from '../domain/rest/resources.js'
export type { IdWindow } from '../domain/rest/id-window.js'

/** One stored directory record. */
export interface DirectoryEntry {
  /** The resource id as text: `"360786799676"`, a shortcut's name, `"2314815.gCgO…"`; singletons: `"singleton"`. */
  id: string
  /** The integer id for ordering and id windows; null for string-id resources (ordered by `id`). */
  numericId: number | null
  /** The normalised look-up key (`ResourceSpec.lookup`: a name, or a lower-cased email), if any. */
  lookup: string | null
  /** The record's wire JSON. */
  body: string
}

/** The directory writes one account transaction may do; see {@link DirectoryStore.writeDirectory}. */
export interface DirectoryWriteTx extends WriteTx {
  /**
   * A fresh integer id for a new record of `kind`: above every id the account has for that kind
   * (so ids ascend in creation order, which the id windows page by) and never reused after a
   * delete. Needed because POST creates records whose id the client does not choose.
   */
  allocateId(kind: DirectoryKind): Promise<number>
  /** The record, reading this transaction's own writes: updates merge over the stored record. */
  getEntry(kind: DirectoryKind, id: string): Promise<DirectoryEntry | undefined>
  /**
   * The record with this look-up key, reading this transaction's own writes: a write checks
   * that a new name or email is not taken (409) and PUT/DELETE `/triggers/{name}` resolve names.
   */
  findEntry(kind: DirectoryKind, lookup: string): Promise<DirectoryEntry | undefined>
  /** Inserts or replaces (by `kind` and `id`) a record: POST, PUT and PATCH. */
  putEntry(kind: DirectoryKind, entry: DirectoryEntry): Promise<void>
  /** Removes a record; false when it did not exist (the route answers 404). DELETE. */
  deleteEntry(kind: DirectoryKind, id: string): Promise<boolean>
}

export interface DirectoryStore {
  /**
   * The records of `kind`, ascending by numeric id (string-id kinds by id text), optionally
   * limited to an id window: every collection GET (`/agents`, `/bans`, `/departments`, …, a bare
   * array). The window is applied by the store so `/agents?since_id=…&limit=100` reads 100 rows,
   * not the whole directory; its meaning is `applyIdWindow` in `src/domain/rest/id-window.ts`
   * (a backward window, max_id without since_id, returns the last `limit` ids, still ascending).
   */
  listEntries(
    accountId: number,
    kind: DirectoryKind,
    window: IdWindow | null,
  ): Promise<DirectoryEntry[]>
  /** One record by id: `GET /{resource}/{id}` and the singletons (`/account`, routing settings). */
  getEntry(accountId: number, kind: DirectoryKind, id: string): Promise<DirectoryEntry | undefined>
  /** One record by look-up key: `/agents/email/{email}`, `/departments/name/{name}`, `/skills/name/{name}`, `/triggers/{name}`. */
  findEntry(
    accountId: number,
    kind: DirectoryKind,
    lookup: string,
  ): Promise<DirectoryEntry | undefined>
  /**
   * Runs `fn` in the account's one write transaction (the same serialisation point and position
   * as `Store.write`), so a directory write is a change like any other: what it writes to the
   * exports in the same transaction (a renamed agent seen by later engagements, a deleted chat)
   * commits or rolls back with it.
   */
  writeDirectory<T>(accountId: number, fn: (tx: DirectoryWriteTx) => Promise<T>): Promise<T>
}

/**
 * What the chat routes outside the export need (`/chats`, `/chats/{id}`, `/chats?ids=`,
 * `/chats/search`): reads of the chats the export already stores (the `chats` stream's current
 * item per chat id), in chat-id order rather than position order. Deleted chats are returned as
 * stored; the routes leave them out.
 */
export interface ChatReader {
  /** The stored JSON of each of `ids` that exists in the account: `/chats/{id}`, `/chats?ids=`. */
  getChats(accountId: number, ids: readonly string[]): Promise<Map<string, string>>
  /**
   * Up to `limit` stored chats with id above `afterId` (all when null), ascending by id: the
   * pages of `GET /chats`, whose `next_url` cursor is the last id served.
   */
  listChats(accountId: number, afterId: string | null, limit: number): Promise<string[]>
  /**
   * The chats matching a search, ascending by id, skipping `offset` and at most `limit`, with the
   * total number of matches (`count` of the search body): `/chats/search`. The meaning of a match
   * is `matchesChatSearch` in `src/domain/rest/chats.ts`; a store may scan or use indexes.
   */
  searchChats(
    accountId: number,
    query: ChatSearchQuery,
    offset: number,
    limit: number,
  ): Promise<{ total: number; chats: string[] }>
}
