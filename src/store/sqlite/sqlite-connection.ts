/**
 * The SQLite store's connections: opening the reader and the writer with the settings the store's
 * guarantees rest on, running work on them as transactions (the write lock taken without blocking
 * the event loop), and the translation of driver errors into the store port's errors.
 * @module
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import Database from 'better-sqlite3'
import { AppError } from '../../domain/errors.js'
import { storeClosedError } from '../store-rules.js'
import { asPromise } from './as-promise.js'
import { AsyncMutex } from './async-mutex.js'
import type { ControlStatements } from './sqlite-statements.js'
import { controlStatements } from './sqlite-statements.js'

/** How long a reader waits on a lock, and a writer for the write lock, before giving up. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000

/**
 * After how many WAL pages a commit also checkpoints (copies the WAL into the database file and
 * fsyncs it, inside that COMMIT). SQLite's default, 1000 pages (4 MB), is about three ingest
 * batches of 1000 events (some 1.5 MB of WAL each), so every third commit paid a checkpoint:
 * 16 MB checkpoints are rarer, copy a page changed by several batches once, and cut the commit's
 * mean by about 8 ms per batch (issue 14). Durability is unchanged: each commit is still fsynced.
 */
export const WAL_AUTOCHECKPOINT_PAGES = 4096

/**
 * Opens the write connection, creating the file and its directory if missing.
 *
 * - WAL: readers never block the writer and always see a committed snapshot.
 * - synchronous=FULL: in WAL mode, NORMAL may lose the last commits on power loss; an
 *   acknowledged write (and a position an exporter may already have seen) must survive it.
 * - wal_autocheckpoint={@link WAL_AUTOCHECKPOINT_PAGES}: see there.
 * - busy_timeout=0 once open: SQLite's busy handler sleeps inside the call, freezing the whole
 *   event loop. If the lock holder is another store in this same process, waiting on that loop to
 *   commit, that is a deadlock until the timeout. `acquireWriteLock` retries asynchronously instead.
 */
export function openWriteConnection(
  path: string,
  busyTimeoutMs: number = DEFAULT_BUSY_TIMEOUT_MS,
): Database.Database {
  if (path === '' || path === ':memory:') {
    throw new Error(
      `The SQLite store needs a file path (got "${path}"): it opens a reader and a writer on the ` +
        'same file. Use for example sqlite:./data/chat-export.db.',
    )
  }
  mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path, { timeout: busyTimeoutMs })
  try {
    const mode = db.pragma('journal_mode = WAL', { simple: true })
    if (mode !== 'wal')
      throw new Error(`Could not switch "${path}" to WAL mode (got ${String(mode)}).`)
    db.pragma('synchronous = FULL')
    db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`)
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 0')
  } catch (error) {
    db.close()
    throw toStoreError(error)
  }
  return db
}

/**
 * How much of the database file a read connection maps into memory. Pages are then read from the
 * OS page cache in place instead of being copied into SQLite's own cache first: measured +28 %
 * full pages/s and about −25 % CPU per page (issue 14). The mapping is address space, not memory:
 * the kernel keeps only the pages in use resident and may drop them (they show as RssFile, not
 * RssAnon). Beyond this size the rest of the file is read as usual.
 */
export const READ_MMAP_BYTES = 1024 * 1024 * 1024

/**
 * The settings of every read connection, the one in this thread and those of the read workers
 * (sqlite-read-pool.ts): memory-mapped ({@link READ_MMAP_BYTES}; the writer is not, so a write
 * never goes through a map), and `query_only` on top of the read-only open.
 */
export const READ_PRAGMAS: readonly string[] = [
  'foreign_keys = ON',
  `mmap_size = ${READ_MMAP_BYTES}`,
  'query_only = ON',
]

/**
 * Opens a read connection. Read-only, so a bug can never write through it; each statement it
 * runs outside a transaction is its own read transaction: one consistent, committed snapshot.
 */
export function openReadConnection(
  path: string,
  busyTimeoutMs: number = DEFAULT_BUSY_TIMEOUT_MS,
): Database.Database {
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: busyTimeoutMs })
  for (const pragma of READ_PRAGMAS) db.pragma(pragma)
  return db
}

/**
 * Whether `error` is SQLite reporting that it cannot serve now: a lock held by another connection
 * (SQLITE_BUSY and its extended codes) or a table locked within a shared cache (SQLITE_LOCKED).
 */
export function isUnavailable(error: unknown): boolean {
  return (
    error instanceof Database.SqliteError &&
    (error.code.startsWith('SQLITE_BUSY') || error.code.startsWith('SQLITE_LOCKED'))
  )
}

/**
 * The error the store raises for a driver error: "cannot serve now" becomes the catalogue's
 * STORE_UNAVAILABLE (a 503 with Retry-After, without SQL); anything else is passed on as it is.
 */
export function toStoreError(error: unknown): unknown {
  if (error instanceof AppError || !isUnavailable(error)) return error
  return new AppError(
    'STORE_UNAVAILABLE',
    'The database is busy with another writer. Try again in a moment.',
    { retryAfterSeconds: 1, cause: error },
  )
}

/** Whether `error` is SQLite refusing a row whose unique key is taken. */
export function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof Database.SqliteError &&
    (error.code === 'SQLITE_CONSTRAINT_UNIQUE' || error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
  )
}

/**
 * Runs `BEGIN IMMEDIATE` (takes the database write lock), retrying with a short growing delay
 * while another connection holds it, for up to `timeoutMs`. Then STORE_UNAVAILABLE.
 */
export async function acquireWriteLock(
  begin: Database.Statement<[]>,
  timeoutMs: number = DEFAULT_BUSY_TIMEOUT_MS,
): Promise<void> {
  const deadline = performance.now() + timeoutMs
  let delayMs = 1
  for (;;) {
    try {
      begin.run()
      return
    } catch (error) {
      if (!isUnavailable(error) || performance.now() >= deadline) throw toStoreError(error)
      await sleep(delayMs)
      delayMs = Math.min(delayMs * 2, 50)
    }
  }
}

/**
 * The two connections of one store on one WAL database file, and the only way the store reaches
 * them: every method raises STORE_UNAVAILABLE when the database cannot serve. Writes are serialised
 * in this process by an async mutex and across processes by `BEGIN IMMEDIATE`.
 */
export class SqliteConnection {
  private readonly writeMutex = new AsyncMutex()
  private readonly control: ControlStatements
  private closing: Promise<void> | undefined

  private constructor(
    readonly reader: Database.Database,
    readonly writer: Database.Database,
    private readonly busyTimeoutMs: number,
  ) {
    this.control = controlStatements(writer)
  }

  /** Opens both connections on `path` (the writer first: it creates the file and sets WAL). */
  static open(path: string, busyTimeoutMs: number = DEFAULT_BUSY_TIMEOUT_MS): SqliteConnection {
    const writer = openWriteConnection(path, busyTimeoutMs)
    let reader: Database.Database
    try {
      reader = openReadConnection(path, busyTimeoutMs)
    } catch (error) {
      writer.close()
      throw toStoreError(error)
    }
    return new SqliteConnection(reader, writer, busyTimeoutMs)
  }

  /** Closes both connections, after the writes already queued; later calls are refused. */
  close(): Promise<void> {
    this.closing ??= this.writeMutex.run(() =>
      asPromise(() => {
        this.reader.close()
        this.writer.close()
      }),
    )
    return this.closing
  }

  /** Runs read work on the read connection (it needs no lock: WAL readers never wait on writers). */
  read<T>(work: () => T): Promise<T> {
    if (this.closing) return Promise.reject(storeClosedError())
    return asPromise(() => {
      try {
        return work()
      } catch (error) {
        throw toStoreError(error)
      }
    })
  }

  /**
   * Runs `work` in one write transaction holding the database write lock: committed when it
   * returns, rolled back when it throws. Transactions run one at a time, in call order.
   */
  write<T>(work: () => T | Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(storeClosedError())
    return this.writeMutex.run(async () => {
      await acquireWriteLock(this.control.begin(), this.busyTimeoutMs)
      try {
        const result = await work()
        this.control.commit().run()
        return result
      } catch (error) {
        // A failed COMMIT or statement may already have rolled the transaction back.
        if (this.writer.inTransaction) this.control.rollback().run()
        throw toStoreError(error)
      }
    })
  }
}
