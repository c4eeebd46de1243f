/**
 * The SQLite store: the embedded default backend of the store port.
 *
 * Two connections on one WAL database file. Page queries run on a read-only connection, each as a
 * single SELECT: one committed snapshot. Writes run on the write connection, serialised in this
 * process by an async mutex and across processes by `BEGIN IMMEDIATE` (the database write lock).
 * A write's position is computed after the lock is taken, so position order is commit order; the
 * proof is in docs/positions.md.
 * @module
 */
import type Database from 'better-sqlite3'
import type { Clock } from '../../domain/clock.js'
import type { Micros } from '../../domain/time.js'
import type {
  Account,
  NewToken,
  PageBody,
  PageQuery,
  Role,
  Store,
  StoredRow,
  TokenRecord,
  WriteTx,
} from '../store.js'
import type { AccountRow, TokenRow } from '../rows.js'
import { toAccount, toToken } from '../rows.js'
import { asPromise } from './as-promise.js'
import { AsyncMutex } from './async-mutex.js'
import {
  acquireWriteLock,
  lazyStatement,
  openReadConnection,
  openWriteConnection,
} from './sqlite-connection.js'
import { applySqliteMigrations } from './sqlite-migrations.js'
import { SqliteWriteTx, writeTxStatements } from './sqlite-write-tx.js'

export interface SqliteStoreOptions {
  /** The database file; created, with its directory, when missing. */
  path: string
  /** Source of positions and creation times. */
  clock: Clock
}

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
const pageAfterCursorSql = (body: string) => `SELECT position, sort_id AS sortId, ${body} AS body
  FROM items
  WHERE account_id = ? AND stream = ? AND (position, sort_id) > (?, ?) AND position <= ?
  ORDER BY position, sort_id LIMIT ?`
const pageFromPositionSql = (body: string) => `SELECT position, sort_id AS sortId, ${body} AS body
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

type AfterCursorArgs = [number, string, number, string, number, number]
type FromPositionArgs = [number, string, number, number, number]

/**
 * Opens the SQLite store at `path` (run `migrate()` before use; `openStore` does).
 * @example
 * const store = await openSqliteStore({ path: './data/chat-export.db', clock: systemClock() })
 * await store.migrate()
 */
export function openSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  return asPromise(() => {
    // The writer first: it creates the file and switches it to WAL before the reader opens it.
    const writer = openWriteConnection(options.path)
    let reader: Database.Database
    try {
      reader = openReadConnection(options.path)
    } catch (error) {
      writer.close()
      throw error
    }
    return new SqliteStore(reader, writer, options.clock)
  })
}

class SqliteStore implements Store {
  readonly kind = 'sqlite' as const
  private readonly writeMutex = new AsyncMutex()
  private closing: Promise<void> | undefined

  // Write connection: transaction control, clock, accounts and tokens.
  private readonly begin
  private readonly commit
  private readonly rollback
  private readonly readClock
  private readonly saveClock
  private readonly insertAccount
  private readonly insertToken_
  private readonly revokeToken_
  private readonly txStatements

  // Read connection: everything read outside a write transaction.
  private readonly pageAfterCursor: Record<
    PageBody,
    () => Database.Statement<AfterCursorArgs, StoredRow>
  >
  private readonly pageFromPosition: Record<
    PageBody,
    () => Database.Statement<FromPositionArgs, StoredRow>
  >
  private readonly lastPosition_
  private readonly clearAccount: () => Database.Statement<[number]>[]
  private readonly accountByName
  private readonly accountById
  private readonly allAccounts
  private readonly tokenByPrefix
  private readonly tokensOfAccount

  constructor(
    private readonly reader: Database.Database,
    private readonly writer: Database.Database,
    private readonly clock: Clock,
  ) {
    this.begin = lazyStatement<[]>(writer, 'BEGIN IMMEDIATE')
    this.commit = lazyStatement<[]>(writer, 'COMMIT')
    this.rollback = lazyStatement<[]>(writer, 'ROLLBACK')
    this.readClock = lazyStatement<[number], number>(
      writer,
      'SELECT last_position FROM account_clock WHERE account_id = ?',
      { pluck: true },
    )
    this.saveClock = lazyStatement<[number, number]>(
      writer,
      `INSERT INTO account_clock (account_id, last_position) VALUES (?, ?)
       ON CONFLICT (account_id) DO UPDATE SET last_position = excluded.last_position`,
    )
    this.insertAccount = lazyStatement<[string, number], AccountRow>(
      writer,
      `INSERT INTO accounts (name, created_at) VALUES (?, ?) RETURNING ${ACCOUNT_COLUMNS}`,
    )
    this.insertToken_ = lazyStatement<
      [number, string, Buffer, Role, string, string | null, number, number | null],
      TokenRow
    >(
      writer,
      `INSERT INTO tokens (account_id, prefix, hash, role, scopes, label, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${TOKEN_COLUMNS}`,
    )
    // COALESCE: revoking again keeps the first revocation time (when access really ended).
    this.revokeToken_ = lazyStatement<[number, number, number]>(
      writer,
      'UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND account_id = ?',
    )
    this.txStatements = writeTxStatements(writer)
    const clear = ['items', 'state', 'seen_events', 'account_clock'].map((table) =>
      lazyStatement<[number]>(writer, `DELETE FROM ${table} WHERE account_id = ?`),
    )
    this.clearAccount = () => clear.map((statement) => statement())

    const pages = <P extends unknown[]>(sql: (body: string) => string) => ({
      full: lazyStatement<P, StoredRow>(reader, sql(BODY_COLUMN.full)),
      none: lazyStatement<P, StoredRow>(reader, sql(BODY_COLUMN.none)),
      summary: lazyStatement<P, StoredRow>(reader, sql(BODY_COLUMN.summary)),
    })
    this.pageAfterCursor = pages<AfterCursorArgs>(pageAfterCursorSql)
    this.pageFromPosition = pages<FromPositionArgs>(pageFromPositionSql)
    this.lastPosition_ = lazyStatement<[number], number>(
      reader,
      'SELECT last_position FROM account_clock WHERE account_id = ?',
      { pluck: true },
    )
    this.accountByName = lazyStatement<[string], AccountRow>(
      reader,
      `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE name = ?`,
    )
    this.accountById = lazyStatement<[number], AccountRow>(
      reader,
      `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = ?`,
    )
    this.allAccounts = lazyStatement<[], AccountRow>(
      reader,
      `SELECT ${ACCOUNT_COLUMNS} FROM accounts ORDER BY id`,
    )
    this.tokenByPrefix = lazyStatement<[string], TokenRow>(
      reader,
      `SELECT ${TOKEN_COLUMNS} FROM tokens WHERE prefix = ?`,
    )
    this.tokensOfAccount = lazyStatement<[number], TokenRow>(
      reader,
      `SELECT ${TOKEN_COLUMNS} FROM tokens WHERE account_id = ? ORDER BY id`,
    )
  }

  migrate(): Promise<void> {
    return this.writeLocked(() => applySqliteMigrations(this.writer, this.clock.now()))
  }

  close(): Promise<void> {
    // Queued behind the writes already running, which finish first; later calls are refused.
    this.closing ??= this.writeMutex.run(() =>
      asPromise(() => {
        this.reader.close()
        this.writer.close()
      }),
    )
    return this.closing
  }

  createAccount(name: string): Promise<Account> {
    return this.writeLocked(() => {
      let row: AccountRow | undefined
      try {
        row = this.insertAccount().get(name, this.clock.now())
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new Error(`An account named "${name}" already exists.`, { cause: error })
        }
        throw error
      }
      if (row === undefined) throw new Error('INSERT ... RETURNING returned no account row.')
      this.saveClock().run(row.id, 0)
      return toAccount(row)
    })
  }

  getAccountByName(name: string): Promise<Account | undefined> {
    return this.read(() => optional(this.accountByName().get(name), toAccount))
  }

  getAccountById(id: number): Promise<Account | undefined> {
    return this.read(() => optional(this.accountById().get(id), toAccount))
  }

  listAccounts(): Promise<Account[]> {
    return this.read(() => this.allAccounts().all().map(toAccount))
  }

  insertToken(token: NewToken): Promise<TokenRecord> {
    return this.writeLocked(() => {
      let row: TokenRow | undefined
      try {
        row = this.insertToken_().get(
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
        if (isUniqueViolation(error)) {
          throw new Error('A token with this prefix already exists; generate a new token.', {
            cause: error,
          })
        }
        throw error
      }
      if (row === undefined) throw new Error('INSERT ... RETURNING returned no token row.')
      return toToken(row)
    })
  }

  getTokenByPrefix(prefix: string): Promise<TokenRecord | undefined> {
    return this.read(() => optional(this.tokenByPrefix().get(prefix), toToken))
  }

  listTokens(accountId: number): Promise<TokenRecord[]> {
    return this.read(() => this.tokensOfAccount().all(accountId).map(toToken))
  }

  revokeToken(accountId: number, tokenId: number, at: Micros): Promise<boolean> {
    return this.writeLocked(() => this.revokeToken_().run(at, tokenId, accountId).changes > 0)
  }

  readPage(query: PageQuery): Promise<StoredRow[]> {
    return this.read(() => {
      const { accountId, stream, afterPosition, afterSortId, limit } = query
      if (!Number.isSafeInteger(limit) || limit < 1) {
        // SQLite reads LIMIT -1 as "no limit": never let a bad value turn into a full scan.
        throw new RangeError(`A page limit must be a positive integer (got ${limit}).`)
      }
      const maxPosition = query.maxPosition ?? Number.MAX_SAFE_INTEGER
      const body = query.body ?? 'full'
      return afterSortId === null
        ? this.pageFromPosition[body]().all(accountId, stream, afterPosition, maxPosition, limit)
        : this.pageAfterCursor[body]().all(
            accountId,
            stream,
            afterPosition,
            afterSortId,
            maxPosition,
            limit,
          )
    })
  }

  lastPosition(accountId: number): Promise<Micros> {
    return this.read(() => this.lastPosition_().get(accountId) ?? 0)
  }

  write<T>(accountId: number, fn: (tx: WriteTx) => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(closedError())
    return this.writeMutex.run(async () => {
      await acquireWriteLock(this.begin())
      let tx: SqliteWriteTx | undefined
      try {
        // Only now, holding the write lock, may the position be chosen (docs/positions.md).
        const last = this.readClock().get(accountId) ?? 0
        const position = Math.max(this.clock.now(), last + 1)
        if (!Number.isSafeInteger(position)) {
          throw new RangeError(`The clock gave an invalid time (${position} µs).`)
        }
        tx = new SqliteWriteTx(this.txStatements, accountId, position)
        const result = await fn(tx)
        tx.end()
        const highest = tx.highestWritten
        if (highest !== undefined) this.saveClock().run(accountId, Math.max(position, highest))
        this.commit().run()
        return result
      } catch (error) {
        tx?.end()
        // A failed COMMIT or statement may already have rolled the transaction back.
        if (this.writer.inTransaction) this.rollback().run()
        throw error
      }
    })
  }

  resetAccount(accountId: number, refill?: (tx: WriteTx) => Promise<void>): Promise<void> {
    if (this.closing) return Promise.reject(closedError())
    return this.writeMutex.run(async () => {
      await acquireWriteLock(this.begin())
      let tx: SqliteWriteTx | undefined
      try {
        for (const clear of this.clearAccount()) clear.run(accountId)
        if (refill) {
          // The account's clock is 0 now: the position is the clock's time alone.
          const position = Math.max(this.clock.now(), 1)
          tx = new SqliteWriteTx(this.txStatements, accountId, position)
          await refill(tx)
          tx.end()
          const highest = tx.highestWritten
          if (highest !== undefined) this.saveClock().run(accountId, Math.max(position, highest))
        }
        this.commit().run()
      } catch (error) {
        tx?.end()
        if (this.writer.inTransaction) this.rollback().run()
        throw error
      }
    })
  }

  /** Runs short synchronous write work in its own transaction, under the write lock. */
  private writeLocked<T>(work: () => T): Promise<T> {
    if (this.closing) return Promise.reject(closedError())
    return this.writeMutex.run(async () => {
      await acquireWriteLock(this.begin())
      try {
        const result = work()
        this.commit().run()
        return result
      } catch (error) {
        if (this.writer.inTransaction) this.rollback().run()
        throw error
      }
    })
  }

  /** Runs read work on the read connection (it needs no lock: WAL readers never wait on writers). */
  private read<T>(work: () => T): Promise<T> {
    if (this.closing) return Promise.reject(closedError())
    return asPromise(work)
  }
}

function closedError(): Error {
  return new Error('The store is closed.')
}

function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof Error &&
    'code' in error &&
    (error.code === 'SQLITE_CONSTRAINT_UNIQUE' || error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
  )
}

function optional<R, T>(row: R | undefined, map: (row: R) => T): T | undefined {
  return row === undefined ? undefined : map(row)
}
