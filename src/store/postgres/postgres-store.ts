/**
 * The PostgreSQL implementation of the store port, for running several `chat-export serve`
 * processes against one database. The SQL is in postgres-statements.ts, the pool, transactions,
 * row-level security and error translation in postgres-connection.ts, the buffered write
 * transaction in postgres-write-tx.ts.
 *
 * Positions (reliability-notes §5.3, Option A): every write transaction first locks its account's
 * sequencer row in `account_clock`, then takes `max(clock.now(), last_position + 1)`, runs the
 * callback and raises `last_position`. The row lock is held until commit, and PostgreSQL makes a
 * commit visible before it releases locks, so the next writer of the account computes its position
 * only after the previous one is visible: position order is commit order, and a reader that has
 * passed position p can never later find a new commit at or below p. docs/scaling.md compares this
 * with the xid8 snapshot watermark.
 * @module
 */
import type pg from 'pg'
import type { Clock } from '../../domain/clock.js'
import type { Micros } from '../../domain/time.js'
import { MICROS_PER_SECOND } from '../../domain/time.js'
import type { AccountRow, TokenRow } from '../rows.js'
import { toAccount, toToken } from '../rows.js'
import type {
  Account,
  NewToken,
  PageBodies,
  PageQuery,
  Store,
  StoredRow,
  TokenRecord,
  WriteTx,
} from '../store.js'
import {
  accountNameTaken,
  assertAccountId,
  assertPageQuery,
  assertRateLimit,
  isRowId,
  isTokenPrefix,
  nextPosition,
  tokenPrefixTaken,
} from '../store-rules.js'
import type { PostgresConnectionOptions } from './postgres-connection.js'
import { postgresDirectory, type PostgresDirectory } from './postgres-directory.js'
import type { ChatReader, DirectoryWriteTx } from '../directory-port.js'
import { backfillPostgresChatIndex, postgresChats } from './postgres-chats.js'
import type { OAuthStore } from '../oauth-port.js'
import { postgresOAuth } from './postgres-oauth.js'
import { eachRow, isUniqueViolation, PostgresConnection } from './postgres-connection.js'
import { CHAT_INDEX_MIGRATION, runMigrations } from './postgres-migrations.js'
import { MAX_INT8, PAGE_STATEMENTS, SQL } from './postgres-statements.js'
import { PostgresWriteTx } from './postgres-write-tx.js'
import { pageBodiesOf } from '../page-bodies.js'

export interface PostgresStoreOptions extends PostgresConnectionOptions {
  clock: Clock
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

/** The PostgreSQL store. Obtain it with {@link openPostgresStore}. */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const
  private readonly db: PostgresConnection
  private readonly clock: Clock

  readonly directory: PostgresDirectory
  readonly chats: ChatReader
  readonly oauth: OAuthStore

  constructor(options: PostgresStoreOptions) {
    this.clock = options.clock
    this.db = new PostgresConnection(options)
    this.directory = postgresDirectory(this.db, (accountId, fn) =>
      this.writeWithClient(accountId, fn),
    )
    this.chats = postgresChats(this.db)
    this.oauth = postgresOAuth(this.db)
  }

  async migrate(): Promise<void> {
    let applied: number[] = []
    await this.db.asOwner(async (client) => {
      applied = await runMigrations(client, this.db.appRole)
    })
    if (applied.includes(CHAT_INDEX_MIGRATION)) {
      const accounts = await this.listAccounts()
      await backfillPostgresChatIndex(
        this.db,
        accounts.map((a) => a.id),
      )
    }
  }

  close(): Promise<void> {
    return this.db.close()
  }

  /**
   * Whether token lookups are served from the cache now (its LISTEN connection is up; see
   * postgres-token-cache.ts). Starts with the first lookup.
   */
  tokenCacheListening(): boolean {
    return this.db.tokens.active
  }

  async createAccount(name: string): Promise<Account> {
    let rows: AccountRow[]
    try {
      rows = (await this.db.single<AccountRow>(SQL.createAccount, [name, this.clock.now()])).rows
    } catch (error) {
      if (isUniqueViolation(error)) throw accountNameTaken(name, error)
      throw error
    }
    const row = rows[0]
    if (row === undefined) throw new Error('INSERT ... RETURNING returned no row')
    return toAccount(row)
  }

  async getAccountByName(name: string): Promise<Account | undefined> {
    const { rows } = await this.db.single<AccountRow>(SQL.accountByName, [name])
    return rows[0] === undefined ? undefined : toAccount(rows[0])
  }

  async getAccountById(id: number): Promise<Account | undefined> {
    if (!isRowId(id)) return undefined
    const { rows } = await this.db.single<AccountRow>(SQL.accountById, [id])
    return rows[0] === undefined ? undefined : toAccount(rows[0])
  }

  async listAccounts(): Promise<Account[]> {
    const { rows } = await this.db.single<AccountRow>(SQL.listAccounts, [])
    return rows.map(toAccount)
  }

  async insertToken(token: NewToken): Promise<TokenRecord> {
    assertAccountId(token.accountId)
    try {
      return await this.db.inAccount(token.accountId, 'write', async (client) => {
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
    } catch (error) {
      if (isUniqueViolation(error)) throw tokenPrefixTaken(error)
      throw error
    }
  }

  async getTokenByPrefix(prefix: string): Promise<TokenRecord | undefined> {
    if (!isTokenPrefix(prefix)) return undefined
    const cached = this.db.tokens.get(prefix)
    if (cached !== undefined) return cached
    const generation = this.db.tokens.mark()
    const record = await this.db.withTokenPrefix(prefix, async (client) => {
      const { rows } = await client.query<TokenRow>({ ...SQL.tokenByPrefix, values: [prefix] })
      return rows[0] === undefined ? undefined : toToken(rows[0])
    })
    if (record !== undefined) this.db.tokens.put(prefix, record, generation)
    return record
  }

  async listTokens(accountId: number): Promise<TokenRecord[]> {
    return await this.db.inAccount(accountId, 'read', async (client) => {
      const { rows } = await client.query<TokenRow>({ ...SQL.listTokens, values: [accountId] })
      return rows.map(toToken)
    })
  }

  async revokeToken(accountId: number, tokenId: number, at: Micros): Promise<boolean> {
    assertAccountId(accountId)
    if (!isRowId(tokenId)) return false
    try {
      return await this.db.inAccount(accountId, 'write', async (client) => {
        const result = await client.query({ ...SQL.revokeToken, values: [accountId, tokenId, at] })
        return result.rowCount === 1
      })
    } finally {
      // At once for this process; other processes learn it from the trigger's notification.
      this.db.tokens.invalidate()
    }
  }

  async readPageBodies(query: PageQuery): Promise<PageBodies> {
    return pageBodiesOf(await this.readPage(query))
  }

  async readPage(query: PageQuery): Promise<StoredRow[]> {
    assertPageQuery(query)
    const max = query.maxPosition ?? MAX_INT8
    const statements = PAGE_STATEMENTS[query.body ?? 'full']
    const values =
      query.afterSortId === null
        ? [query.accountId, query.stream, query.afterPosition, max, query.limit]
        : [query.accountId, query.stream, query.afterPosition, query.afterSortId, max, query.limit]
    const statement = query.afterSortId === null ? statements.from : statements.after
    return await this.db.inAccount(query.accountId, 'read', async (client) => {
      const rows: StoredRow[] = []
      // Row by row: each row's text becomes bytes at once (see eachRow).
      await eachRow<[number, string, string]>(
        client,
        { ...statement, values },
        ([position, sortId, body]) => {
          rows.push({ position, sortId, body: Buffer.from(body, 'utf8') })
        },
      )
      return rows
    })
  }

  async lastPosition(accountId: number): Promise<Micros> {
    return await this.db.inAccount(accountId, 'read', async (client) => {
      const { rows } = await client.query<{ last_position: number }>({
        ...SQL.lastPosition,
        values: [accountId],
      })
      return rows[0]?.last_position ?? 0
    })
  }

  write<T>(accountId: number, fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    return this.writeWithClient(accountId, (tx) => fn(tx))
  }

  /** `write`, also handing `fn` the transaction's connection (for the directory's statements). */
  private async writeWithClient<T>(
    accountId: number,
    fn: (tx: WriteTx, client: pg.PoolClient) => Promise<T>,
  ): Promise<T> {
    return await this.db.inAccount(accountId, 'write', async (client) => {
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
      // 2. The position, only now that no other writer of the account can commit before us.
      const position = nextPosition(this.clock.now(), locked.rows[0]?.last_position ?? 0)
      const tx = new PostgresWriteTx(client, accountId, position)
      try {
        const result = await fn(tx, client)
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

  async resetAccount(
    accountId: number,
    refill?: (tx: DirectoryWriteTx) => Promise<void>,
  ): Promise<void> {
    // One write transaction (holding the sequencer row): the delete, the clock back to 0, then the
    // refill, whose items raise the clock again when the transaction ends. The directory and the
    // chat index are the account's data too; OAuth clients and tokens are its configuration.
    await this.directory.writeWithClient(accountId, async (tx, client) => {
      for (const clear of [
        SQL.clearItems,
        SQL.clearState,
        SQL.clearEvents,
        SQL.clearDirectory,
        SQL.clearDirectoryIds,
        SQL.clearChatIndex,
      ]) {
        await client.query({ ...clear, values: [accountId] })
      }
      await client.query({ ...SQL.raiseClock, values: [accountId, 0] })
      if (refill) await refill(tx)
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
    assertRateLimit(limit, windowMicros)
    const { rows } = await this.db.single<{ allowed: boolean; retry_after_micros: number }>(
      SQL.consumeRateLimit,
      [key, limit, windowMicros, now],
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
    const { rows } = await this.db.single<{
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
