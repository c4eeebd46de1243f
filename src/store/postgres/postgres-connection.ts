/**
 * The PostgreSQL store's connections: the pool, the switch of every pooled connection to the
 * application role, transactions scoped to one account by row-level security, and the translation
 * of driver errors into the store port's errors.
 *
 * Isolation: every account-scoped statement runs inside a transaction that began with
 * `SET LOCAL chat_export.account_id = ...`, on a connection that has switched to the application
 * role, so row-level security filters rows even if a query forgot its `WHERE account_id = $1`.
 * @module
 */
import pg from 'pg'
import { AppError } from '../../domain/errors.js'
import { assertAccountId, storeClosedError } from '../store-rules.js'
import type { NamedStatement } from './postgres-statements.js'
import { BEGIN_READ, BEGIN_WRITE } from './postgres-statements.js'
import { TokenCache } from './postgres-token-cache.js'
import { DEFAULT_APP_ROLE, assertRoleName, connectionSetupSql, sqlState } from './postgres-roles.js'

export interface PostgresConnectionOptions {
  /** `postgres://USER:PASSWORD@HOST:PORT/DATABASE`; USER runs the migrations and owns the tables. */
  url: string
  /** Connections per server process (default 10). */
  poolSize?: number | undefined
  /** The role data access switches to (default `chat_export_app`); one per deployment. */
  appRole?: string | undefined
}

const PG_INT8 = 20
const UNIQUE_VIOLATION = '23505'

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

/**
 * Whether `error` means "the database cannot serve now" (unreachable, starting or shutting down,
 * out of connections, the connection lost), not "this request is wrong".
 */
export function isUnavailable(error: unknown): boolean {
  const code = sqlState(error)
  if (code === undefined) {
    // node-postgres's own errors carry no code: a dropped connection, a full pool.
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

/**
 * The error the store raises for a driver error: "cannot serve now" becomes the catalogue's
 * STORE_UNAVAILABLE (a 503 with Retry-After, without SQL or server details); anything else is
 * passed on as it is.
 */
export function toStoreError(error: unknown): unknown {
  if (error instanceof AppError || !isUnavailable(error)) return error
  return new AppError(
    'STORE_UNAVAILABLE',
    'The database is not reachable right now; retry shortly.',
    { retryAfterSeconds: 1, cause: error },
  )
}

/** Whether `error` is PostgreSQL refusing a row whose unique key is taken. */
export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === UNIQUE_VIOLATION
}

/**
 * The pool of one store, and the only way the store reaches the database: every method raises
 * STORE_UNAVAILABLE when the database cannot serve, and hands out only connections that run as the
 * application role.
 */
export class PostgresConnection {
  private readonly pool: pg.Pool
  readonly appRole: string
  /** Connections that have already switched to the application role. */
  private readonly prepared = new WeakSet<pg.PoolClient>()
  private closed = false
  /** Token records by prefix, used while a LISTEN connection keeps them honest. */
  readonly tokens: TokenCache

  constructor(private readonly options: PostgresConnectionOptions) {
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
    this.tokens = new TokenCache({
      connect: () =>
        new pg.Client({
          connectionString: options.url,
          types,
          application_name: 'chat-export token listener',
        }),
      nowMs: () => performance.now(),
    })
  }

  /** Runs `work` on a connection of its own as the login (the tables' owner), outside the pool. */
  async asOwner(work: (client: pg.Client) => Promise<void>): Promise<void> {
    const client = new pg.Client({ connectionString: this.options.url, types })
    try {
      await client.connect()
      await work(client)
    } catch (error) {
      throw toStoreError(error)
    } finally {
      await client.end().catch(() => {})
    }
  }

  /** Ends the pool once; later calls do nothing. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.tokens.close()
    await this.pool.end()
  }

  /** A pooled connection that is guaranteed to run as the application role. */
  private async acquire(): Promise<pg.PoolClient> {
    if (this.closed) throw storeClosedError()
    let client: pg.PoolClient
    try {
      client = await this.pool.connect()
    } catch (error) {
      throw toStoreError(error)
    }
    if (this.prepared.has(client)) return client
    try {
      await client.query(connectionSetupSql(this.appRole))
    } catch (error) {
      // Never hand out a connection that still runs as the login (the tables' owner).
      client.release(true)
      throw toStoreError(error)
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
    const client = await this.acquire()
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
      throw toStoreError(error)
    } finally {
      client.release(broken)
    }
  }

  /** Runs `fn` in a transaction that row-level security scopes to one account. */
  inAccount<T>(
    accountId: number,
    mode: 'read' | 'write',
    fn: (client: pg.PoolClient) => Promise<T>,
  ): Promise<T> {
    // A checked positive integer: safe to write into the statement (SET takes no parameters).
    assertAccountId(accountId)
    return this.transaction(`SET LOCAL chat_export.account_id = '${accountId}'`, mode, fn)
  }

  /**
   * Runs `fn` in a read transaction that may see the one token with `prefix` (policy
   * tokens_lookup_by_prefix) and nothing else: the account is not known yet.
   */
  withTokenPrefix<T>(prefix: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.transaction(
      `SET LOCAL chat_export.token_prefix = ${pg.escapeLiteral(prefix)}`,
      'read',
      fn,
    )
  }

  /** One statement on a table without row-level security (accounts, rate limits). */
  async single<R extends pg.QueryResultRow>(
    statement: NamedStatement,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    const client = await this.acquire()
    let broken = false
    try {
      return await client.query<R>({ ...statement, values })
    } catch (error) {
      broken = isUnavailable(error)
      throw toStoreError(error)
    } finally {
      client.release(broken)
    }
  }
}

/**
 * Runs one statement and hands each row (as an array) to `onRow` as it arrives, keeping none: a
 * page's row texts then die young instead of living, and being promoted to V8's old space, until
 * the last row has come. Resolves when the statement is done; rejects with its error (or the first
 * error `onRow` threw, after the statement has finished so the connection stays in step).
 */
export function eachRow<R extends unknown[]>(
  client: pg.PoolClient,
  config: pg.QueryConfig,
  onRow: (row: R) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let failure: unknown
    // pg's Query types take no rowMode, though Query honours it as client.query does.
    const arrayConfig: pg.QueryArrayConfig = { ...config, rowMode: 'array' }
    const query = new pg.Query(arrayConfig as pg.QueryConfig)
    query.on('row', (row: R) => {
      if (failure !== undefined) return
      try {
        onRow(row)
      } catch (error) {
        failure = error
      }
    })
    query.on('error', reject)
    query.on('end', () => (failure === undefined ? resolve() : reject(failure as Error)))
    client.query(query)
  })
}
