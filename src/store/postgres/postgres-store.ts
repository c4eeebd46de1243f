/**
 * The PostgreSQL implementation of the store port, for running several `chat-export serve`
 * processes against one database.
 *
 * Positions (reliability-notes §5.3, Option A): every write transaction first locks its account's
 * sequencer row in `account_clock`, then takes `max(clock.now(), last_position + 1)`, runs the
 * callback and raises `last_position`. The row lock is held until commit, and PostgreSQL makes a
 * commit visible before it releases locks, so the next writer of the account computes its position
 * only after the previous one is visible: position order is commit order, and a reader that has
 * passed position p can never later find a new commit at or below p. docs/scaling.md compares this
 * with the xid8 snapshot watermark.
 *
 * Isolation: every account-scoped statement runs inside a transaction that began with
 * `SET LOCAL chat_export.account_id = ...`, on a connection that has switched to the application
 * role, so row-level security filters rows even if a query forgot its `WHERE account_id = $1`.
 * @module
 */
import pg from 'pg'
import type { Clock } from '../../domain/clock.js'
import { AppError } from '../../domain/errors.js'
import type { StreamName } from '../../domain/streams.js'
import type { Micros } from '../../domain/time.js'
import { MICROS_PER_SECOND } from '../../domain/time.js'
import type {
  Account,
  ItemWrite,
  NewToken,
  PageBody,
  PageQuery,
  Store,
  StoredRow,
  TokenRecord,
  WriteTx,
} from '../store.js'
import type { AccountRow, TokenRow } from '../rows.js'
import { toAccount, toToken } from '../rows.js'
import { runMigrations } from './postgres-migrations.js'
import { DEFAULT_APP_ROLE, assertRoleName, connectionSetupSql, sqlState } from './postgres-roles.js'

export interface PostgresStoreOptions {
  /** `postgres://USER:PASSWORD@HOST:PORT/DATABASE`; USER runs the migrations and owns the tables. */
  url: string
  clock: Clock
  /** Connections per server process (default 10). */
  poolSize?: number
  /** The role data access switches to (default `chat_export_app`); one per deployment. */
  appRole?: string
}

/** Outcome of one rate-limited request. */
export interface RateLimitDecision {
  allowed: boolean
  /** Whole seconds until a request would be allowed (0 when allowed). */
  retryAfterSeconds: number
}

/** Who the store's data connections are, as PostgreSQL sees them (diagnostics and tests). */
export interface SessionInfo {
  sessionUser: string
  currentUser: string
  /** Whether row-level security filters the items table for this session. */
  rowSecurityActive: boolean
}

const PG_INT8 = 20
const MAX_INT8 = '9223372036854775807'
const UNIQUE_VIOLATION = '23505'
const BEGIN_READ = 'BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY'
const BEGIN_WRITE = 'BEGIN ISOLATION LEVEL READ COMMITTED'

/**
 * int8 columns (positions, ids, µs timestamps) as JS numbers: every value the store writes is a
 * safe integer (Micros are < 2^53), so the conversion is exact.
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
    oid === PG_INT8
      ? (value: string) => Number(value)
      : (pg.types.getTypeParser(
          oid,
          format ?? 'text',
        ) as unknown)) as typeof pg.types.getTypeParser,
}

/** Named (prepared once per connection) statements. Names must stay unique. */
const SQL = {
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
  clearItems: { name: 'ce_clear_items', text: 'DELETE FROM items WHERE account_id = $1' },
  clearState: { name: 'ce_clear_state', text: 'DELETE FROM state WHERE account_id = $1' },
  clearEvents: { name: 'ce_clear_events', text: 'DELETE FROM seen_events WHERE account_id = $1' },
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
const PAGE_STATEMENTS: Record<PageBody, { from: NamedStatement; after: NamedStatement }> = {
  full: { from: SQL.pageFrom, after: SQL.pageAfter },
  none: { from: SQL.keysFrom, after: SQL.keysAfter },
  summary: { from: SQL.summariesFrom, after: SQL.summariesAfter },
}

interface NamedStatement {
  readonly name: string
  readonly text: string
}

/** Errors that mean "the database cannot serve now", not "this request is wrong". */
function isUnavailable(error: unknown): boolean {
  const code = sqlState(error)
  if (code === undefined) {
    return (
      error instanceof Error &&
      /Connection terminated|timeout exceeded when trying to connect/i.test(error.message)
    )
  }
  return (
    /^E[A-Z]+$/.test(code) || // socket errors: ECONNREFUSED, ECONNRESET, ETIMEDOUT, ...
    code.startsWith('08') || // connection exception
    code === '53300' || // too_many_connections
    code === '57P01' || // admin_shutdown
    code === '57P02' || // crash_shutdown
    code === '57P03' // cannot_connect_now
  )
}

/** Turns "database unavailable" into the catalogue's 503 (without SQL or server details). */
function translate(error: unknown): unknown {
  if (error instanceof AppError || !isUnavailable(error)) return error
  return new AppError(
    'STORE_UNAVAILABLE',
    'The database is not reachable right now; retry shortly.',
    {
      retryAfterSeconds: 1,
      cause: error,
    },
  )
}

function assertAccountId(accountId: number): void {
  if (!Number.isSafeInteger(accountId) || accountId <= 0) {
    throw new TypeError(`Invalid account id ${String(accountId)}`)
  }
}

/** Most rows per multi-row statement, and most body characters: bounds one message's size. */
const FLUSH_ROWS = 2000
const FLUSH_CHARS = 8_000_000

/** A buffered item write. */
interface PendingItem {
  stream: StreamName
  item: ItemWrite
}

/** A buffered state write; `value: null` is a deletion. */
interface PendingState {
  kind: string
  key: string
  value: string | null
}

const pendingKey = (a: string, b: string): string => `${a}\u0000${b}`

/**
 * The write transaction handed to `Store.write` callbacks.
 *
 * Item and state writes are buffered (the last write of a key wins) and sent at commit as one
 * multi-row statement per table, instead of one round trip each: an ingest batch of 1000 events
 * writes several hundred rows. Reads consult the buffer first, so the transaction sees its own
 * writes; `highWaterMark` flushes the items first, because a buffered write may move an item
 * below the stored maximum. The buffer changes when rows are written, not which transaction or
 * position they belong to: the sequencer row is locked before the callback runs and released by
 * COMMIT, after the flush. A write the database refuses (for example text it cannot store) fails
 * the flush, which rolls the whole transaction back, as the port promises.
 */
class PostgresWriteTx implements WriteTx {
  /** Highest item position written (undefined: none); the clock is raised to cover it. */
  highestWritten: Micros | undefined
  private open = true
  private readonly pendingItems = new Map<string, PendingItem>()
  private readonly pendingState = new Map<string, PendingState>()

  constructor(
    private readonly client: pg.PoolClient,
    readonly accountId: number,
    readonly position: Micros,
  ) {
    this.highestWritten = undefined
  }

  close(): void {
    this.open = false
  }

  private run<R extends pg.QueryResultRow>(
    statement: { name: string; text: string },
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    if (!this.open) {
      return Promise.reject(new Error('The write transaction is already over.'))
    }
    return this.client.query<R>({ ...statement, values })
  }

  private assertOpen(): void {
    if (!this.open) throw new Error('The write transaction is already over.')
  }

  async highWaterMark(stream: StreamName): Promise<Micros> {
    await this.flushItems()
    const { rows } = await this.run<{ position: number }>(SQL.highWaterMark, [
      this.accountId,
      stream,
    ])
    return rows[0]?.position ?? 0
  }

  async getItem(stream: StreamName, key: string): Promise<string | undefined> {
    this.assertOpen()
    const pending = this.pendingItems.get(pendingKey(stream, key))
    if (pending !== undefined) return pending.item.body
    const { rows } = await this.run<{ body: string }>(SQL.getItem, [this.accountId, stream, key])
    return rows[0]?.body
  }

  async getItems(stream: StreamName, keys: readonly string[]): Promise<Map<string, string>> {
    this.assertOpen()
    const found = new Map<string, string>()
    const missing: string[] = []
    for (const key of new Set(keys)) {
      const pending = this.pendingItems.get(pendingKey(stream, key))
      if (pending === undefined) missing.push(key)
      else found.set(key, pending.item.body)
    }
    if (missing.length > 0) {
      const { rows } = await this.run<{ item_key: string; body: string }>(SQL.getItems, [
        this.accountId,
        stream,
        missing,
      ])
      for (const row of rows) found.set(row.item_key, row.body)
    }
    return found
  }

  putItem(stream: StreamName, item: ItemWrite): Promise<void> {
    // The promise constructor turns a throw into a rejection, as from an async method.
    return new Promise((resolve) => {
      this.assertOpen()
      if (!Number.isSafeInteger(item.position) || item.position < 0) {
        throw new TypeError(`Invalid item position ${String(item.position)}`)
      }
      // A copy: the row is sent later, and the caller may reuse its object meanwhile.
      this.pendingItems.set(pendingKey(stream, item.key), { stream, item: { ...item } })
      this.highestWritten = Math.max(this.highestWritten ?? item.position, item.position)
      resolve()
    })
  }

  async getState(kind: string, key: string): Promise<string | undefined> {
    this.assertOpen()
    const pending = this.pendingState.get(pendingKey(kind, key))
    if (pending !== undefined) return pending.value ?? undefined
    const { rows } = await this.run<{ value: string }>(SQL.getState, [this.accountId, kind, key])
    return rows[0]?.value
  }

  async getStates(kind: string, keys: readonly string[]): Promise<Map<string, string>> {
    this.assertOpen()
    const found = new Map<string, string>()
    const missing: string[] = []
    for (const key of new Set(keys)) {
      const pending = this.pendingState.get(pendingKey(kind, key))
      if (pending === undefined) missing.push(key)
      else if (pending.value !== null) found.set(key, pending.value)
    }
    if (missing.length > 0) {
      const { rows } = await this.run<{ key: string; value: string }>(SQL.getStates, [
        this.accountId,
        kind,
        missing,
      ])
      for (const row of rows) found.set(row.key, row.value)
    }
    return found
  }

  putState(kind: string, key: string, value: string): Promise<void> {
    return this.bufferState(kind, key, value)
  }

  deleteState(kind: string, key: string): Promise<void> {
    return this.bufferState(kind, key, null)
  }

  private bufferState(kind: string, key: string, value: string | null): Promise<void> {
    return new Promise((resolve) => {
      this.assertOpen()
      this.pendingState.set(pendingKey(kind, key), { kind, key, value })
      resolve()
    })
  }

  async markEvent(eventId: string): Promise<boolean> {
    const result = await this.run(SQL.markEvent, [this.accountId, eventId, this.position])
    return result.rowCount === 1
  }

  async markEvents(eventIds: readonly string[]): Promise<boolean[]> {
    this.assertOpen()
    if (eventIds.length === 0) return []
    const { rows } = await this.run<{ event_id: string }>(SQL.markEvents, [
      this.accountId,
      [...new Set(eventIds)],
      this.position,
    ])
    const recorded = new Set(rows.map((row) => row.event_id))
    // Only the first occurrence of a new id is new: delete() is true once, then false.
    return eventIds.map((id) => recorded.delete(id))
  }

  /** Writes every buffered row. Called by the store before it raises the clock and commits. */
  async flush(): Promise<void> {
    await this.flushItems()
    await this.flushState()
  }

  private async flushItems(): Promise<void> {
    const pending = [...this.pendingItems.values()]
    this.pendingItems.clear()
    const size = (p: PendingItem) => p.item.body.length + (p.item.summary?.length ?? 0)
    for (const chunk of chunks(pending, size)) {
      await this.run(SQL.putItems, [
        this.accountId,
        chunk.map((p) => p.stream),
        chunk.map((p) => p.item.key),
        chunk.map((p) => p.item.sortId),
        chunk.map((p) => p.item.position),
        chunk.map((p) => p.item.body),
        chunk.map((p) => p.item.summary ?? null),
      ])
    }
  }

  private async flushState(): Promise<void> {
    const pending = [...this.pendingState.values()]
    this.pendingState.clear()
    const puts = pending.filter((p) => p.value !== null)
    const deletes = pending.filter((p) => p.value === null)
    for (const chunk of chunks(puts, (p) => p.value?.length ?? 0)) {
      await this.run(SQL.putStates, [
        this.accountId,
        chunk.map((p) => p.kind),
        chunk.map((p) => p.key),
        chunk.map((p) => p.value),
      ])
    }
    for (const chunk of chunks(deletes, () => 0)) {
      await this.run(SQL.deleteStates, [
        this.accountId,
        chunk.map((p) => p.kind),
        chunk.map((p) => p.key),
      ])
    }
  }
}

/** Splits rows into statements of at most FLUSH_ROWS rows and about FLUSH_CHARS characters. */
function chunks<T>(rows: readonly T[], size: (row: T) => number): T[][] {
  const result: T[][] = []
  let current: T[] = []
  let chars = 0
  for (const row of rows) {
    const n = size(row)
    if (current.length > 0 && (current.length >= FLUSH_ROWS || chars + n > FLUSH_CHARS)) {
      result.push(current)
      current = []
      chars = 0
    }
    current.push(row)
    chars += n
  }
  if (current.length > 0) result.push(current)
  return result
}

/** The PostgreSQL store. Obtain it with {@link openPostgresStore}. */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const
  private readonly pool: pg.Pool
  private readonly appRole: string
  private readonly clock: Clock
  private readonly url: string
  /** Connections that have already switched to the application role. */
  private readonly prepared = new WeakSet<pg.PoolClient>()
  private closed = false

  constructor(options: PostgresStoreOptions) {
    this.url = options.url
    this.clock = options.clock
    this.appRole = options.appRole ?? DEFAULT_APP_ROLE
    assertRoleName(this.appRole)
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      types,
      application_name: 'chat-export',
      // A writer that stops talking while it holds its account's sequencer row would stall every
      // other writer of the account; the server ends such a session after a minute.
      idle_in_transaction_session_timeout: 60_000,
      // An unreachable server fails the request with a 503 instead of leaving it hanging.
      connectionTimeoutMillis: 10_000,
    })
    // An idle connection that breaks (server restart, network) is dropped from the pool and
    // replaced on the next checkout; without a listener the error would crash the process.
    this.pool.on('error', () => {})
  }

  async migrate(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url, types })
    try {
      await client.connect()
      await runMigrations(client, this.appRole)
    } catch (error) {
      throw translate(error)
    } finally {
      await client.end().catch(() => {})
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.pool.end()
  }

  /** A pooled connection that is guaranteed to run as the application role. */
  private async acquire(): Promise<pg.PoolClient> {
    const client = await this.pool.connect()
    if (this.prepared.has(client)) return client
    try {
      await client.query(connectionSetupSql(this.appRole))
    } catch (error) {
      // Never hand out a connection that still runs as the login (the tables' owner).
      client.release(true)
      throw error
    }
    this.prepared.add(client)
    return client
  }

  /**
   * Runs `fn` in one transaction whose first act is `tenantSql` (a `SET LOCAL`). READ COMMITTED on
   * purpose: the sequencer row lock must see the latest committed `last_position`, and a page is a
   * single SELECT, which is one snapshot at this level.
   *
   * `SET LOCAL` rather than `set_config()`: Citus forwards SET LOCAL (with
   * `citus.propagate_set_commands = 'local'`) to the worker that runs the shard query, where the
   * policy is evaluated; a set_config() call would stay on the coordinator. It goes out in the same
   * round trip as BEGIN.
   */
  private async transaction<T>(
    tenantSql: string,
    mode: 'read' | 'write',
    fn: (client: pg.PoolClient) => Promise<T>,
  ): Promise<T> {
    if (this.closed) throw new Error('The store is closed.')
    let client: pg.PoolClient
    try {
      client = await this.acquire()
    } catch (error) {
      throw translate(error)
    }
    let broken = false
    try {
      try {
        await client.query(`${mode === 'read' ? BEGIN_READ : BEGIN_WRITE}; ${tenantSql}`)
        const result = await fn(client)
        await client.query('COMMIT')
        return result
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {
          broken = true
        })
        throw error
      }
    } catch (error) {
      if (isUnavailable(error)) broken = true
      throw translate(error)
    } finally {
      client.release(broken)
    }
  }

  private inAccount<T>(
    accountId: number,
    mode: 'read' | 'write',
    fn: (client: pg.PoolClient) => Promise<T>,
  ): Promise<T> {
    assertAccountId(accountId)
    // A checked positive integer: safe to write into the statement (SET takes no parameters).
    return this.transaction(`SET LOCAL chat_export.account_id = '${accountId}'`, mode, fn)
  }

  /** A statement on a table without row-level security (accounts, rate limits). */
  private async single<R extends pg.QueryResultRow>(
    statement: { name: string; text: string },
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    if (this.closed) throw new Error('The store is closed.')
    let client: pg.PoolClient
    try {
      client = await this.acquire()
    } catch (error) {
      throw translate(error)
    }
    let broken = false
    try {
      return await client.query<R>({ ...statement, values })
    } catch (error) {
      broken = isUnavailable(error)
      throw translate(error)
    } finally {
      client.release(broken)
    }
  }

  async createAccount(name: string): Promise<Account> {
    let rows: AccountRow[]
    try {
      rows = (await this.single<AccountRow>(SQL.createAccount, [name, this.clock.now()])).rows
    } catch (error) {
      if (sqlState(error) === UNIQUE_VIOLATION) {
        throw new Error(`An account named "${name}" already exists.`, { cause: error })
      }
      throw error
    }
    const row = rows[0]
    if (row === undefined) throw new Error('INSERT ... RETURNING returned no row')
    return toAccount(row)
  }

  async getAccountByName(name: string): Promise<Account | undefined> {
    const { rows } = await this.single<AccountRow>(SQL.accountByName, [name])
    return rows[0] === undefined ? undefined : toAccount(rows[0])
  }

  async getAccountById(id: number): Promise<Account | undefined> {
    if (!Number.isSafeInteger(id)) return undefined
    const { rows } = await this.single<AccountRow>(SQL.accountById, [id])
    return rows[0] === undefined ? undefined : toAccount(rows[0])
  }

  async listAccounts(): Promise<Account[]> {
    const { rows } = await this.single<AccountRow>(SQL.listAccounts, [])
    return rows.map(toAccount)
  }

  async insertToken(token: NewToken): Promise<TokenRecord> {
    try {
      return await this.insertTokenRow(token)
    } catch (error) {
      if (sqlState(error) === UNIQUE_VIOLATION) {
        throw new Error('A token with this prefix already exists; generate a new token.', {
          cause: error,
        })
      }
      throw error
    }
  }

  private async insertTokenRow(token: NewToken): Promise<TokenRecord> {
    return await this.inAccount(token.accountId, 'write', async (client) => {
      const { rows } = await client.query<TokenRow>({
        ...SQL.insertToken,
        values: [
          token.accountId,
          token.prefix,
          token.hash,
          token.role,
          token.scopes,
          token.label,
          token.createdAt,
          token.expiresAt,
        ],
      })
      const row = rows[0]
      if (row === undefined) throw new Error('INSERT ... RETURNING returned no row')
      return toToken(row)
    })
  }

  async getTokenByPrefix(prefix: string): Promise<TokenRecord | undefined> {
    // The account is not known yet: the transaction may see the one token with this prefix
    // (policy tokens_lookup_by_prefix) and nothing else.
    if (prefix.length === 0 || prefix.length > 200 || prefix.includes('\0')) return undefined
    return await this.transaction(
      `SET LOCAL chat_export.token_prefix = ${pg.escapeLiteral(prefix)}`,
      'read',
      async (client) => {
        const { rows } = await client.query<TokenRow>({ ...SQL.tokenByPrefix, values: [prefix] })
        return rows[0] === undefined ? undefined : toToken(rows[0])
      },
    )
  }

  async listTokens(accountId: number): Promise<TokenRecord[]> {
    return await this.inAccount(accountId, 'read', async (client) => {
      const { rows } = await client.query<TokenRow>({ ...SQL.listTokens, values: [accountId] })
      return rows.map(toToken)
    })
  }

  async revokeToken(accountId: number, tokenId: number, at: Micros): Promise<boolean> {
    if (!Number.isSafeInteger(tokenId)) return false
    return await this.inAccount(accountId, 'write', async (client) => {
      const result = await client.query({ ...SQL.revokeToken, values: [accountId, tokenId, at] })
      return result.rowCount === 1
    })
  }

  async readPage(query: PageQuery): Promise<StoredRow[]> {
    const max = query.maxPosition ?? MAX_INT8
    const statements = PAGE_STATEMENTS[query.body ?? 'full']
    return await this.inAccount(query.accountId, 'read', async (client) => {
      const result =
        query.afterSortId === null
          ? await client.query<[number, string, string]>({
              ...statements.from,
              values: [query.accountId, query.stream, query.afterPosition, max, query.limit],
              rowMode: 'array',
            })
          : await client.query<[number, string, string]>({
              ...statements.after,
              values: [
                query.accountId,
                query.stream,
                query.afterPosition,
                query.afterSortId,
                max,
                query.limit,
              ],
              rowMode: 'array',
            })
      return result.rows.map(([position, sortId, body]) => ({
        position,
        sortId,
        body: Buffer.from(body, 'utf8'),
      }))
    })
  }

  async lastPosition(accountId: number): Promise<Micros> {
    return await this.inAccount(accountId, 'read', async (client) => {
      const { rows } = await client.query<{ last_position: number }>({
        ...SQL.lastPosition,
        values: [accountId],
      })
      return rows[0]?.last_position ?? 0
    })
  }

  async write<T>(accountId: number, fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    return await this.inAccount(accountId, 'write', async (client) => {
      // 1. The serialisation point: lock the account's sequencer row (creating it the first time).
      let locked = await client.query<{ last_position: number }>({
        ...SQL.lockClock,
        values: [accountId],
      })
      if (locked.rows.length === 0) {
        await client.query({ ...SQL.createClock, values: [accountId] })
        locked = await client.query<{ last_position: number }>({
          ...SQL.lockClock,
          values: [accountId],
        })
      }
      const last = locked.rows[0]?.last_position ?? 0
      // 2. The position, only now that no other writer of the account can commit before us.
      const position = Math.max(this.clock.now(), last + 1)
      if (!Number.isSafeInteger(position)) {
        throw new RangeError(`The clock gave an invalid time (${position} µs).`)
      }
      const tx = new PostgresWriteTx(client, accountId, position)
      try {
        const result = await fn(tx)
        await tx.flush()
        tx.close()
        // 3. Cover this transaction's items and any preserved item position (a write without
        // items consumes nothing, as on SQLite); COMMIT then releases the row.
        if (tx.highestWritten !== undefined) {
          await client.query({
            ...SQL.raiseClock,
            values: [accountId, Math.max(position, tx.highestWritten)],
          })
        }
        return result
      } finally {
        tx.close()
      }
    })
  }

  async resetAccount(accountId: number, refill?: (tx: WriteTx) => Promise<void>): Promise<void> {
    await this.inAccount(accountId, 'write', async (client) => {
      // The account's serialisation point first, as every write: no writer of the account can
      // interleave with the delete.
      await client.query({ ...SQL.createClock, values: [accountId] })
      await client.query({ ...SQL.lockClock, values: [accountId] })
      for (const clear of [SQL.clearItems, SQL.clearState, SQL.clearEvents]) {
        await client.query({ ...clear, values: [accountId] })
      }
      await client.query({ ...SQL.raiseClock, values: [accountId, 0] })
      if (!refill) return
      const position = Math.max(this.clock.now(), 1)
      const tx = new PostgresWriteTx(client, accountId, position)
      try {
        await refill(tx)
        await tx.flush()
        tx.close()
        if (tx.highestWritten !== undefined) {
          await client.query({
            ...SQL.raiseClock,
            values: [accountId, Math.max(position, tx.highestWritten)],
          })
        }
      } finally {
        tx.close()
      }
    })
  }

  /**
   * Counts one request against `key` in a sliding window shared by every server on this
   * database. Denied requests are not counted.
   */
  async consumeRateLimit(
    key: string,
    limit: number,
    windowMicros: number,
    now: Micros,
  ): Promise<RateLimitDecision> {
    if (!Number.isSafeInteger(windowMicros) || windowMicros <= 0) {
      throw new TypeError(`Invalid rate-limit window ${String(windowMicros)}`)
    }
    const { rows } = await this.single<{ allowed: boolean; retry_after_micros: number }>(
      SQL.consumeRateLimit,
      [key, Math.max(0, Math.floor(limit)), windowMicros, now],
    )
    const row = rows[0]
    if (row === undefined) throw new Error('chat_export_consume_rate_limit returned no row')
    return {
      allowed: row.allowed,
      retryAfterSeconds: row.allowed ? 0 : Math.ceil(row.retry_after_micros / MICROS_PER_SECOND),
    }
  }

  /** Who a data connection runs as: for `doctor`-style diagnostics and the isolation tests. */
  async sessionInfo(): Promise<SessionInfo> {
    const { rows } = await this.single<{
      session_name: string
      current_name: string
      active: boolean
    }>(SQL.sessionInfo, [])
    const row = rows[0]
    if (row === undefined) throw new Error('session info returned no row')
    return {
      sessionUser: row.session_name,
      currentUser: row.current_name,
      rowSecurityActive: row.active,
    }
  }
}

/**
 * Opens the PostgreSQL store at `url` (call `migrate()` before use; `openStore` does). The pool
 * connects lazily, so opening does not fail when the database is down.
 */
export function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  return Promise.resolve(new PostgresStore(options))
}
