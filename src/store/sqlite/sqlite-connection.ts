/**
 * Opening the two SQLite connections with the settings the store's guarantees rest on, lazily
 * prepared statements, and taking the database write lock without blocking the event loop.
 * @module
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import Database from 'better-sqlite3'
import { AppError } from '../../domain/errors.js'

/** How long a reader waits on a lock, and a writer for the write lock, before giving up. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000

/**
 * Opens the write connection, creating the file and its directory if missing.
 *
 * - WAL: readers never block the writer and always see a committed snapshot.
 * - synchronous=FULL: in WAL mode, NORMAL may lose the last commits on power loss; an
 *   acknowledged write (and a position an exporter may already have seen) must survive it.
 * - busy_timeout=0 once open: SQLite's busy handler sleeps inside the call, freezing the whole
 *   event loop. If the lock holder is another store in this same process, waiting on that loop to
 *   commit, that is a deadlock until the timeout. `acquireWriteLock` retries asynchronously instead.
 */
export function openWriteConnection(path: string): Database.Database {
  if (path === '' || path === ':memory:') {
    throw new Error(
      `The SQLite store needs a file path (got "${path}"): it opens a reader and a writer on the ` +
        'same file. Use for example sqlite:./data/chat-export.db.',
    )
  }
  mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path, { timeout: DEFAULT_BUSY_TIMEOUT_MS })
  try {
    const mode = db.pragma('journal_mode = WAL', { simple: true })
    if (mode !== 'wal')
      throw new Error(`Could not switch "${path}" to WAL mode (got ${String(mode)}).`)
    db.pragma('synchronous = FULL')
    db.pragma('foreign_keys = ON')
    db.pragma('busy_timeout = 0')
  } catch (error) {
    db.close()
    throw error
  }
  return db
}

/**
 * Opens the read connection. Read-only, so a bug can never write through it; each statement it
 * runs outside a transaction is its own read transaction: one consistent, committed snapshot.
 */
export function openReadConnection(path: string): Database.Database {
  const db = new Database(path, {
    readonly: true,
    fileMustExist: true,
    timeout: DEFAULT_BUSY_TIMEOUT_MS,
  })
  db.pragma('foreign_keys = ON')
  return db
}

/**
 * A statement prepared on first use and reused afterwards. First use, not open time, because the
 * tables only exist once `migrate()` has run. `pluck`: rows are the first column's value.
 */
export function lazyStatement<P extends unknown[], R = unknown>(
  db: Database.Database,
  sql: string,
  options: { pluck?: boolean } = {},
): () => Database.Statement<P, R> {
  let statement: Database.Statement<P, R> | undefined
  return () => {
    if (statement === undefined) {
      statement = db.prepare<P, R>(sql)
      if (options.pluck) statement.pluck()
    }
    return statement
  }
}

/** Whether `error` is SQLite reporting a lock held by another connection. */
export function isBusyError(error: unknown): boolean {
  return error instanceof Database.SqliteError && error.code.startsWith('SQLITE_BUSY')
}

/**
 * Runs `BEGIN IMMEDIATE` (takes the database write lock) on `db`, retrying with a short growing
 * delay while another connection holds it, for up to `timeoutMs`. Then a 503-class error.
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
      if (!isBusyError(error)) throw error
      if (performance.now() >= deadline) {
        throw new AppError(
          'STORE_UNAVAILABLE',
          'The database is busy with another writer. Try again in a moment.',
          { retryAfterSeconds: 1, cause: error },
        )
      }
      await sleep(delayMs)
      delayMs = Math.min(delayMs * 2, 50)
    }
  }
}
