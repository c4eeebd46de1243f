/**
 * The tables a SQL destination (SQLite or PostgreSQL) holds: one per stream, named after it, plus
 * `sync_state`. Table and column names come from this fixed list only, never from input.
 * @module
 */
/** A table of the chat-export server's own store: a sync must never write into that database. */
export const SERVER_STORE_MARKER_TABLE = 'account_clock'

/** Row of `sync_state` as both SQL backends store it. */
export interface SyncStateRow {
  stream: string
  next_page: string | null
  source: string | null
  items: number | string
  pages: number | string
  end_time: number | string | null
  updated_at: string
}
