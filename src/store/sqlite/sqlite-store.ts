/**
 * The SQLite store: the embedded default backend of the store port. The SQL is in
 * sqlite-statements.ts, the connections, transactions and error translation in
 * sqlite-connection.ts, the write transaction in sqlite-write-tx.ts.
 *
 * Two connections on one WAL database file, and optionally a pool of read workers
 * (sqlite-read-pool.ts). Page queries run on a read-only connection, in this thread or in a
 * worker, each as a single SELECT: one committed snapshot. Writes run on the write connection in
 * this thread, serialised in this process by an async mutex and across processes by
 * `BEGIN IMMEDIATE` (the database write lock). A write's position is computed after the lock is
 * taken, so position order is commit order; the proof is in docs/positions.md.
 * @module
 */
import type { Clock } from '../../domain/clock.js'
import type { Micros } from '../../domain/time.js'
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
  isRowId,
  isTokenPrefix,
  nextPosition,
  tokenPrefixTaken,
} from '../store-rules.js'
import { asPromise } from './as-promise.js'
import {
  DEFAULT_BUSY_TIMEOUT_MS,
  isUniqueViolation,
  SqliteConnection,
} from './sqlite-connection.js'
import { SqliteCheckpointer } from './sqlite-checkpointer.js'
import { SqliteReadPool } from './sqlite-read-pool.js'
import { applySqliteMigrations, CHAT_INDEX_MIGRATION } from './sqlite-migrations.js'
import type { StoreStatements, WriteTxStatements } from './sqlite-statements.js'
import type { PageCall } from './sqlite-statements.js'
import { pageCall, storeStatements, writeTxStatements } from './sqlite-statements.js'
import { pageBodiesOf } from '../page-bodies.js'
import { SqliteWriteTx } from './sqlite-write-tx.js'
import { sqliteDirectory } from './sqlite-directory.js'
import type { ChatReader, DirectoryStore, DirectoryWriteTx } from '../directory-port.js'
import { backfillSqliteChatIndex, sqliteChats } from './sqlite-chats.js'
import type { OAuthStore } from '../oauth-port.js'
import { sqliteOAuth } from './sqlite-oauth.js'

export interface SqliteStoreOptions {
  /** The database file; created, with its directory, when missing. */
  path: string
  /** Source of positions and creation times. */
  clock: Clock
  /**
   * How long a write waits for the database write lock held by another process, and a read for a
   * lock, before the store answers STORE_UNAVAILABLE (default 5000 ms).
   */
  busyTimeoutMs?: number
  /**
   * Worker threads that run page queries, each on its own read-only connection (default 0: pages
   * are read in this thread). `serve` sets it with `--read-workers`.
   */
  readWorkers?: number
  /**
   * Run WAL checkpoints in a worker thread, not inside the commits of this thread's writer
   * (sqlite-checkpointer.ts; default false). `serve` turns it on.
   */
  checkpointInWorker?: boolean
}

/**
 * Opens the SQLite store at `path` (run `migrate()` before use; `openStore` does).
 * @example
 * const store = await openSqliteStore({ path: './data/chat-export.db', clock: systemClock() })
 * await store.migrate()
 */
export function openSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  return asPromise(() => {
    const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS
    const workers = options.readWorkers ?? 0
    if (!Number.isInteger(workers) || workers < 0) {
      throw new Error(`readWorkers must be a whole number of at least 0 (got ${workers}).`)
    }
    // The writer first: it creates the file and sets WAL before any reader opens it.
    const db = SqliteConnection.open(options.path, busyTimeoutMs)
    const pool =
      workers > 0 ? new SqliteReadPool({ path: options.path, workers, busyTimeoutMs }) : undefined
    const checkpointer =
      options.checkpointInWorker === true
        ? new SqliteCheckpointer(db.writer, options.path, busyTimeoutMs)
        : undefined
    return new SqliteStore(db, options.clock, pool, checkpointer)
  })
}

class SqliteStore implements Store {
  readonly kind = 'sqlite' as const
  private readonly sql: StoreStatements
  private readonly txStatements: WriteTxStatements
  readonly directory: DirectoryStore
  readonly chats: ChatReader
  readonly oauth: OAuthStore

  private closing: Promise<void> | undefined
  /** A page's bodies, then its last row's cursor, in one read transaction (one snapshot). */
  private readonly bodiesInSnapshot: (call: PageCall) => PageBodies

  constructor(
    private readonly db: SqliteConnection,
    private readonly clock: Clock,
    private readonly pool: SqliteReadPool | undefined,
    private readonly checkpointer: SqliteCheckpointer | undefined,
  ) {
    this.sql = storeStatements(db.reader, db.writer)
    this.bodiesInSnapshot = db.reader.transaction((call: PageCall): PageBodies => {
      const sql = this.sql
      if (call.form === 'afterCursor') {
        const bodies = sql.bodiesAfterCursor[call.body]().all(...call.args)
        const at = bodies.length - 1
        return { bodies, last: at < 0 ? undefined : sql.cursorAfterCursor().get(...call.args, at) }
      }
      const bodies = sql.bodiesFromPosition[call.body]().all(...call.args)
      const at = bodies.length - 1
      return { bodies, last: at < 0 ? undefined : sql.cursorFromPosition().get(...call.args, at) }
    })
    this.txStatements = writeTxStatements(db.writer)
    this.directory = sqliteDirectory(db, (accountId, fn) => this.write(accountId, fn))
    this.chats = sqliteChats(db)
    this.oauth = sqliteOAuth(db)
  }

  migrate(): Promise<void> {
    return this.db.write(() => {
      const applied = applySqliteMigrations(this.db.writer, this.clock.now())
      if (applied.includes(CHAT_INDEX_MIGRATION)) backfillSqliteChatIndex(this.db.writer)
    })
  }

  close(): Promise<void> {
    // The checkpointer first: the writer gets its automatic checkpoints back before it closes.
    this.closing ??= (async () => {
      await this.checkpointer?.stop()
      await Promise.all([this.pool?.close(), this.db.close()])
    })()
    return this.closing
  }

  createAccount(name: string): Promise<Account> {
    return this.db.write(() => {
      let row: AccountRow | undefined
      try {
        row = this.sql.insertAccount().get(name, this.clock.now())
      } catch (error) {
        if (isUniqueViolation(error)) throw accountNameTaken(name, error)
        throw error
      }
      if (row === undefined) throw new Error('INSERT ... RETURNING returned no account row.')
      this.sql.saveClock().run(row.id, 0)
      return toAccount(row)
    })
  }

  getAccountByName(name: string): Promise<Account | undefined> {
    return this.db.read(() => optional(this.sql.accountByName().get(name), toAccount))
  }

  getAccountById(id: number): Promise<Account | undefined> {
    return this.db.read(() =>
      isRowId(id) ? optional(this.sql.accountById().get(id), toAccount) : undefined,
    )
  }

  listAccounts(): Promise<Account[]> {
    return this.db.read(() => this.sql.allAccounts().all().map(toAccount))
  }

  insertToken(token: NewToken): Promise<TokenRecord> {
    return this.db.write(() => {
      assertAccountId(token.accountId)
      let row: TokenRow | undefined
      try {
        row = this.sql
          .insertToken()
          .get(
            token.accountId,
            token.prefix,
            token.hash,
            token.role,
            token.scopes.join(' '),
            token.label,
            token.createdAt,
            token.expiresAt,
          )
      } catch (error) {
        if (isUniqueViolation(error)) throw tokenPrefixTaken(error)
        throw error
      }
      if (row === undefined) throw new Error('INSERT ... RETURNING returned no token row.')
      return toToken(row)
    })
  }

  getTokenByPrefix(prefix: string): Promise<TokenRecord | undefined> {
    return this.db.read(() =>
      isTokenPrefix(prefix) ? optional(this.sql.tokenByPrefix().get(prefix), toToken) : undefined,
    )
  }

  listTokens(accountId: number): Promise<TokenRecord[]> {
    return this.db.read(() => {
      assertAccountId(accountId)
      return this.sql.tokensOfAccount().all(accountId).map(toToken)
    })
  }

  revokeToken(accountId: number, tokenId: number, at: Micros): Promise<boolean> {
    return this.db.write(() => {
      assertAccountId(accountId)
      if (!isRowId(tokenId)) return false
      return this.sql.revokeToken().run(at, tokenId, accountId).changes > 0
    })
  }

  readPage(query: PageQuery): Promise<StoredRow[]> {
    const pool = this.pool
    if (pool) {
      return asPromise(() => pageCall(query)).then((call) =>
        pool.readPage(call.form, call.body, call.args),
      )
    }
    return this.db.read(() => {
      const call = pageCall(query)
      return call.form === 'afterCursor'
        ? this.sql.pageAfterCursor[call.body]().all(...call.args)
        : this.sql.pageFromPosition[call.body]().all(...call.args)
    })
  }

  readPageBodies(query: PageQuery): Promise<PageBodies> {
    // The read workers answer rows; what they would save is the main thread's, not this.
    if (this.pool) return this.readPage(query).then(pageBodiesOf)
    return this.db.read(() => this.bodiesInSnapshot(pageCall(query)))
  }

  lastPosition(accountId: number): Promise<Micros> {
    return this.db.read(() => {
      assertAccountId(accountId)
      return this.sql.lastPosition().get(accountId) ?? 0
    })
  }

  async write<T>(accountId: number, fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    assertAccountId(accountId)
    return await this.db.write(async () => {
      // Only now, holding the write lock, may the position be chosen (docs/positions.md).
      const position = nextPosition(this.clock.now(), this.sql.readClock().get(accountId) ?? 0)
      const tx = new SqliteWriteTx(this.txStatements, accountId, position)
      try {
        const result = await fn(tx)
        tx.end()
        const highest = tx.highestWritten
        if (highest !== undefined) this.sql.saveClock().run(accountId, Math.max(position, highest))
        return result
      } finally {
        tx.end()
      }
    })
  }

  async resetAccount(
    accountId: number,
    refill?: (tx: DirectoryWriteTx) => Promise<void>,
  ): Promise<void> {
    // One write transaction: the delete, the clock back to 0, then the refill at its positions.
    await this.directory.writeDirectory(accountId, async (tx) => {
      for (const clear of this.sql.clearAccount) clear().run(accountId)
      this.sql.saveClock().run(accountId, 0)
      if (refill) await refill(tx)
    })
  }
}

function optional<R, T>(row: R | undefined, map: (row: R) => T): T | undefined {
  return row === undefined ? undefined : map(row)
}
