/**
 * The PostgreSQL store's SQL: every statement it runs, named so node-postgres prepares each once
 * per connection and reuses it. Only text here; running them is postgres-connection.ts's job.
 * @module
 */
import type { PageBody } from '../store.js'

/** A statement prepared once per connection under `name`. Names must stay unique. */
export interface NamedStatement {
  readonly name: string
  readonly text: string
}

/** Transaction openers. READ COMMITTED on purpose: see `PostgresConnection.transaction`. */
export const BEGIN_READ = 'BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY'
export const BEGIN_WRITE = 'BEGIN ISOLATION LEVEL READ COMMITTED'

/** The largest int8: the page bound when a query has no `maxPosition`. */
export const MAX_INT8 = '9223372036854775807'

/** The named statements. */
export const SQL = {
  lockClock: {
    name: 'ce_lock_clock',
    text: 'SELECT last_position FROM account_clock WHERE account_id = $1 FOR UPDATE',
  },
  createClock: {
    name: 'ce_create_clock',
    text: 'INSERT INTO account_clock (account_id, last_position) VALUES ($1, 0) ON CONFLICT (account_id) DO NOTHING',
  },
  raiseClock: {
    name: 'ce_raise_clock',
    text: 'UPDATE account_clock SET last_position = $2 WHERE account_id = $1',
  },
  // A reset: the account's rows of every stream-data table (its clock is set to 0 after).
  clearItems: { name: 'ce_clear_items', text: 'DELETE FROM items WHERE account_id = $1' },
  clearState: { name: 'ce_clear_state', text: 'DELETE FROM state WHERE account_id = $1' },
  clearEvents: { name: 'ce_clear_events', text: 'DELETE FROM seen_events WHERE account_id = $1' },
  clearDirectory: {
    name: 'ce_clear_directory',
    text: 'DELETE FROM directory WHERE account_id = $1',
  },
  clearDirectoryIds: {
    name: 'ce_clear_directory_ids',
    text: 'DELETE FROM directory_ids WHERE account_id = $1',
  },
  clearChatIndex: {
    name: 'ce_clear_chat_index',
    text: 'DELETE FROM chat_index WHERE account_id = $1',
  },
  lastPosition: {
    name: 'ce_last_position',
    text: 'SELECT last_position FROM account_clock WHERE account_id = $1',
  },
  createAccount: {
    name: 'ce_create_account',
    text: 'INSERT INTO accounts (name, created_at) VALUES ($1, $2) RETURNING id, name, created_at',
  },
  accountByName: {
    name: 'ce_account_by_name',
    text: 'SELECT id, name, created_at FROM accounts WHERE name = $1',
  },
  accountById: {
    name: 'ce_account_by_id',
    text: 'SELECT id, name, created_at FROM accounts WHERE id = $1',
  },
  listAccounts: {
    name: 'ce_list_accounts',
    text: 'SELECT id, name, created_at FROM accounts ORDER BY id',
  },
  insertToken: {
    name: 'ce_insert_token',
    text: `INSERT INTO tokens (account_id, prefix, hash, role, scopes, label, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           RETURNING id, account_id, prefix, hash, role, scopes, label, created_at, expires_at, revoked_at`,
  },
  tokenByPrefix: {
    name: 'ce_token_by_prefix',
    text: `SELECT id, account_id, prefix, hash, role, scopes, label, created_at, expires_at, revoked_at
           FROM tokens WHERE prefix = $1`,
  },
  listTokens: {
    name: 'ce_list_tokens',
    text: `SELECT id, account_id, prefix, hash, role, scopes, label, created_at, expires_at, revoked_at
           FROM tokens WHERE account_id = $1 ORDER BY id`,
  },
  revokeToken: {
    name: 'ce_revoke_token',
    // The first revocation time stands; revoking again only confirms the token exists.
    text: `UPDATE tokens SET revoked_at = COALESCE(revoked_at, $3)
           WHERE account_id = $1 AND id = $2 RETURNING id`,
  },
  pageAfter: {
    name: 'ce_page_after',
    // Row comparison: one index seek on items_page (never the OR form, which filters row by row).
    text: `SELECT position, sort_id, body FROM items
           WHERE account_id = $1 AND stream = $2 AND (position, sort_id) > ($3, $4) AND position <= $5
           ORDER BY position, sort_id LIMIT $6`,
  },
  pageFrom: {
    name: 'ce_page_from',
    text: `SELECT position, sort_id, body FROM items
           WHERE account_id = $1 AND stream = $2 AND position >= $3 AND position <= $4
           ORDER BY position, sort_id LIMIT $5`,
  },
  keysAfter: {
    name: 'ce_keys_after',
    // The cursor columns only (id-only pages): an index-only scan, the body is never read.
    text: `SELECT position, sort_id, '' AS body FROM items
           WHERE account_id = $1 AND stream = $2 AND (position, sort_id) > ($3, $4) AND position <= $5
           ORDER BY position, sort_id LIMIT $6`,
  },
  keysFrom: {
    name: 'ce_keys_from',
    text: `SELECT position, sort_id, '' AS body FROM items
           WHERE account_id = $1 AND stream = $2 AND position >= $3 AND position <= $4
           ORDER BY position, sort_id LIMIT $5`,
  },
  summariesAfter: {
    name: 'ce_summaries_after',
    // The summary sits in the row itself, while the body is compressed out of line (TOAST):
    // projections skip fetching and decompressing it. Rows without a summary serve their body.
    text: `SELECT position, sort_id, COALESCE(summary, body) AS body FROM items
           WHERE account_id = $1 AND stream = $2 AND (position, sort_id) > ($3, $4) AND position <= $5
           ORDER BY position, sort_id LIMIT $6`,
  },
  summariesFrom: {
    name: 'ce_summaries_from',
    text: `SELECT position, sort_id, COALESCE(summary, body) AS body FROM items
           WHERE account_id = $1 AND stream = $2 AND position >= $3 AND position <= $4
           ORDER BY position, sort_id LIMIT $5`,
  },
  highWaterMark: {
    name: 'ce_high_water_mark',
    text: 'SELECT COALESCE(max(position), 0) AS position FROM items WHERE account_id = $1 AND stream = $2',
  },
  getItem: {
    name: 'ce_get_item',
    text: 'SELECT body FROM items WHERE account_id = $1 AND stream = $2 AND item_key = $3',
  },
  getItems: {
    name: 'ce_get_items',
    text: `SELECT item_key, body FROM items
           WHERE account_id = $1 AND stream = $2 AND item_key = ANY ($3::text[])`,
  },
  // Buffered writes go out at commit as one multi-row statement per table (a key appears at most
  // once per statement: ON CONFLICT DO UPDATE refuses to touch a row twice in one command).
  putItems: {
    name: 'ce_put_items',
    // A NULL summary replaces the old one too: a replaced item keeps nothing of the old version.
    text: `INSERT INTO items (account_id, stream, item_key, sort_id, position, body, summary)
           SELECT $1, stream, item_key, sort_id, position, body, summary
           FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[])
             AS rows (stream, item_key, sort_id, position, body, summary)
           ON CONFLICT (account_id, stream, item_key) DO UPDATE
           SET sort_id = EXCLUDED.sort_id, position = EXCLUDED.position, body = EXCLUDED.body,
             summary = EXCLUDED.summary`,
  },
  getState: {
    name: 'ce_get_state',
    text: 'SELECT value FROM state WHERE account_id = $1 AND kind = $2 AND key = $3',
  },
  getStates: {
    name: 'ce_get_states',
    text: 'SELECT key, value FROM state WHERE account_id = $1 AND kind = $2 AND key = ANY ($3::text[])',
  },
  putStates: {
    name: 'ce_put_states',
    text: `INSERT INTO state (account_id, kind, key, value)
           SELECT $1, kind, key, value FROM unnest($2::text[], $3::text[], $4::text[])
             AS rows (kind, key, value)
           ON CONFLICT (account_id, kind, key) DO UPDATE SET value = EXCLUDED.value`,
  },
  deleteStates: {
    name: 'ce_delete_states',
    text: `DELETE FROM state WHERE account_id = $1
           AND (kind, key) IN (SELECT kind, key FROM unnest($2::text[], $3::text[]) AS rows (kind, key))`,
  },
  markEvent: {
    name: 'ce_mark_event',
    text: `INSERT INTO seen_events (account_id, event_id, position) VALUES ($1, $2, $3)
           ON CONFLICT (account_id, event_id) DO NOTHING`,
  },
  markEvents: {
    name: 'ce_mark_events',
    // The caller passes distinct ids; RETURNING names the ones that were not recorded before.
    text: `INSERT INTO seen_events (account_id, event_id, position)
           SELECT $1, event_id, $3 FROM unnest($2::text[]) AS ids (event_id)
           ON CONFLICT (account_id, event_id) DO NOTHING
           RETURNING event_id`,
  },
  consumeRateLimit: {
    name: 'ce_consume_rate_limit',
    text: 'SELECT allowed, retry_after_micros FROM chat_export_consume_rate_limit($1, $2, $3, $4)',
  },
  sessionInfo: {
    name: 'ce_session_info',
    text: "SELECT session_user AS session_name, current_user AS current_name, row_security_active('items') AS active",
  },
} as const

/** The page statements per {@link PageBody}: from a position (inclusive), or after a cursor. */
export const PAGE_STATEMENTS: Record<PageBody, { from: NamedStatement; after: NamedStatement }> = {
  full: { from: SQL.pageFrom, after: SQL.pageAfter },
  none: { from: SQL.keysFrom, after: SQL.keysAfter },
  summary: { from: SQL.summariesFrom, after: SQL.summariesAfter },
}

const chatIndexInsert = `INSERT INTO chat_index (account_id, chat_id, type, "timestamp", end_timestamp,
    deleted, visitor_email, visitor_name, rating, department_name, agent_names, tags, search_text)
  SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::boolean[],
    $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])`

/** The chat index statements (src/domain/rest/chat-index.ts; reads in postgres-chats.ts). */
export const CHAT_INDEX_SQL = {
  /** The index rows of a flush's chats items, replaced with them (one row per chat, distinct). */
  put: {
    name: 'ce_put_chat_index',
    text: `${chatIndexInsert}
  ON CONFLICT (account_id, chat_id) DO UPDATE SET
    type = EXCLUDED.type, "timestamp" = EXCLUDED."timestamp",
    end_timestamp = EXCLUDED.end_timestamp, deleted = EXCLUDED.deleted,
    visitor_email = EXCLUDED.visitor_email, visitor_name = EXCLUDED.visitor_name,
    rating = EXCLUDED.rating, department_name = EXCLUDED.department_name,
    agent_names = EXCLUDED.agent_names, tags = EXCLUDED.tags, search_text = EXCLUDED.search_text`,
  },
  /** The backfill after migration 5: a row a concurrent writer already wrote is newer; keep it. */
  backfill: {
    name: 'ce_backfill_chat_index',
    text: `${chatIndexInsert}
  ON CONFLICT (account_id, chat_id) DO NOTHING`,
  },
  /** The backfill's batches of stored chats, by key. */
  storedChats: {
    name: 'ce_stored_chats',
    text: `SELECT item_key, body FROM items WHERE account_id = $1 AND stream = 'chats'
             AND item_key > $2 ORDER BY item_key LIMIT $3`,
  },
  get: {
    name: 'ce_chats_by_id',
    text: `SELECT item_key, body FROM items
             WHERE account_id = $1 AND stream = 'chats' AND item_key = ANY ($2::text[])`,
  },
  list: {
    name: 'ce_chats_list',
    text: `SELECT i.body FROM chat_index c JOIN items i
             ON i.account_id = c.account_id AND i.stream = 'chats' AND i.item_key = c.chat_id
             WHERE c.account_id = $1 AND NOT c.deleted AND c.chat_id > $2
             ORDER BY c.chat_id LIMIT $3`,
  },
} as const
