/**
 * The SQLite implementation of the directory port (src/store/directory-port.ts): one `directory`
 * table of wire JSON records keyed by (account, kind, id), and `directory_ids` for ids that are
 * never reused. Reads run on the reader connection; writes inside the store's write transaction.
 * @module
 */
import type Database from 'better-sqlite3'
import { isBackwardWindow } from '../../domain/rest/id-window.js'
import type {
  DirectoryEntry,
  DirectoryKind,
  DirectoryStore,
  DirectoryWriteTx,
  IdWindow,
} from '../directory-port.js'
import { extendWriteTx } from '../directory-tx.js'
import type { Store } from '../store.js'
import { assertAccountId } from '../store-rules.js'
import type { SqliteConnection } from './sqlite-connection.js'
import { asPromise } from './as-promise.js'
import { lazyStatement } from './sqlite-statements.js'

const COLUMNS = 'id, numeric_id AS numericId, lookup, body'
const MIN = Number.MIN_SAFE_INTEGER
const MAX = Number.MAX_SAFE_INTEGER

function readStatements(db: Database.Database) {
  return {
    all: lazyStatement<[number, string], DirectoryEntry>(
      db,
      `SELECT ${COLUMNS} FROM directory WHERE account_id = ? AND kind = ? ORDER BY numeric_id, id`,
    ),
    forward: lazyStatement<[number, string, number, number, number], DirectoryEntry>(
      db,
      `SELECT ${COLUMNS} FROM directory WHERE account_id = ? AND kind = ?
         AND numeric_id >= ? AND numeric_id <= ? ORDER BY numeric_id LIMIT ?`,
    ),
    backward: lazyStatement<[number, string, number, number], DirectoryEntry>(
      db,
      `SELECT ${COLUMNS} FROM directory WHERE account_id = ? AND kind = ?
         AND numeric_id <= ? ORDER BY numeric_id DESC LIMIT ?`,
    ),
    get: lazyStatement<[number, string, string], DirectoryEntry>(
      db,
      `SELECT ${COLUMNS} FROM directory WHERE account_id = ? AND kind = ? AND id = ?`,
    ),
    find: lazyStatement<[number, string, string], DirectoryEntry>(
      db,
      `SELECT ${COLUMNS} FROM directory WHERE account_id = ? AND kind = ? AND lookup = ?
         ORDER BY numeric_id, id LIMIT 1`,
    ),
  }
}

function writeStatements(db: Database.Database) {
  return {
    ...readStatements(db),
    put: lazyStatement<[number, string, string, number | null, string | null, string]>(
      db,
      `INSERT INTO directory (account_id, kind, id, numeric_id, lookup, body) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (account_id, kind, id) DO UPDATE SET
           numeric_id = excluded.numeric_id, lookup = excluded.lookup, body = excluded.body`,
    ),
    remove: lazyStatement<[number, string, string]>(
      db,
      'DELETE FROM directory WHERE account_id = ? AND kind = ? AND id = ?',
    ),
    nextId: lazyStatement<[number, string, number, string], number>(
      db,
      `SELECT max(
         coalesce((SELECT last_id FROM directory_ids WHERE account_id = ? AND kind = ?), 0),
         coalesce((SELECT max(numeric_id) FROM directory WHERE account_id = ? AND kind = ?), 0)
       ) + 1`,
      { pluck: true },
    ),
    saveId: lazyStatement<[number, string, number]>(
      db,
      `INSERT INTO directory_ids (account_id, kind, last_id) VALUES (?, ?, ?)
         ON CONFLICT (account_id, kind) DO UPDATE SET last_id = excluded.last_id`,
    ),
  }
}

type Statements = ReturnType<typeof readStatements>

function list(
  sql: Statements,
  accountId: number,
  kind: DirectoryKind,
  window: IdWindow | null,
): DirectoryEntry[] {
  if (window === null) return sql.all().all(accountId, kind)
  if (isBackwardWindow(window)) {
    return sql
      .backward()
      .all(accountId, kind, window.maxId ?? MAX, window.limit)
      .reverse()
  }
  return sql
    .forward()
    .all(accountId, kind, window.sinceId ?? MIN, window.maxId ?? MAX, window.limit)
}

/** The directory of a SQLite store; `write` is the store's own `Store.write`. */
export function sqliteDirectory(db: SqliteConnection, write: Store['write']): DirectoryStore {
  const reads = readStatements(db.reader)
  const writes = writeStatements(db.writer)
  return {
    listEntries(accountId, kind, window) {
      return db.read(() => {
        assertAccountId(accountId)
        return list(reads, accountId, kind, window)
      })
    },
    getEntry(accountId, kind, id) {
      return db.read(() => reads.get().get(accountId, kind, id))
    },
    findEntry(accountId, kind, lookup) {
      return db.read(() => reads.find().get(accountId, kind, lookup))
    },
    writeDirectory<T>(accountId: number, fn: (tx: DirectoryWriteTx) => Promise<T>): Promise<T> {
      return write(accountId, (tx) =>
        fn(
          extendWriteTx(tx, {
            // Synchronous underneath (better-sqlite3), on the writer inside the open transaction.
            allocateId: (kind) =>
              asPromise(() => {
                const next = writes.nextId().get(accountId, kind, accountId, kind) ?? 1
                writes.saveId().run(accountId, kind, next)
                return next
              }),
            getEntry: (kind, id) => asPromise(() => writes.get().get(accountId, kind, id)),
            findEntry: (kind, lookup) =>
              asPromise(() => writes.find().get(accountId, kind, lookup)),
            putEntry: (kind, entry) =>
              asPromise(() => {
                writes
                  .put()
                  .run(accountId, kind, entry.id, entry.numericId, entry.lookup, entry.body)
              }),
            deleteEntry: (kind, id) =>
              asPromise(() => writes.remove().run(accountId, kind, id).changes > 0),
          }),
        ),
      )
    },
  }
}
