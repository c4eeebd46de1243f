/**
 * The PostgreSQL implementation of the directory port (src/store/directory-port.ts): the
 * `directory` and `directory_ids` tables of migration 3, under the same row-level security as
 * every per-account table, so each statement also names the account explicitly and the policy
 * is the second fence. Reads run in a read transaction of the account; writes on the connection
 * of the store's write transaction, so they commit or roll back with it.
 * @module
 */
import type pg from 'pg'
import { isBackwardWindow } from '../../domain/rest/id-window.js'
import type {
  DirectoryEntry,
  DirectoryKind,
  DirectoryStore,
  DirectoryWriteTx,
  IdWindow,
} from '../directory-port.js'
import { extendWriteTx } from '../directory-tx.js'
import type { WriteTx } from '../store.js'
import type { PostgresConnection } from './postgres-connection.js'

const COLUMNS = 'id, numeric_id::float8 AS "numericId", lookup, body'
const MIN = Number.MIN_SAFE_INTEGER
const MAX = Number.MAX_SAFE_INTEGER

/** The statements, named so the server prepares each once per connection. */
const SQL = {
  all: {
    name: 'directory_all',
    text: `SELECT ${COLUMNS} FROM directory WHERE account_id = $1 AND kind = $2
             ORDER BY numeric_id NULLS FIRST, id`,
  },
  forward: {
    name: 'directory_forward',
    text: `SELECT ${COLUMNS} FROM directory WHERE account_id = $1 AND kind = $2
             AND numeric_id >= $3 AND numeric_id <= $4 ORDER BY numeric_id LIMIT $5`,
  },
  backward: {
    name: 'directory_backward',
    text: `SELECT ${COLUMNS} FROM directory WHERE account_id = $1 AND kind = $2
             AND numeric_id <= $3 ORDER BY numeric_id DESC LIMIT $4`,
  },
  get: {
    name: 'directory_get',
    text: `SELECT ${COLUMNS} FROM directory WHERE account_id = $1 AND kind = $2 AND id = $3`,
  },
  find: {
    name: 'directory_find',
    text: `SELECT ${COLUMNS} FROM directory WHERE account_id = $1 AND kind = $2 AND lookup = $3
             ORDER BY numeric_id NULLS FIRST, id LIMIT 1`,
  },
  put: {
    name: 'directory_put',
    text: `INSERT INTO directory (account_id, kind, id, numeric_id, lookup, body)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (account_id, kind, id) DO UPDATE SET
               numeric_id = excluded.numeric_id, lookup = excluded.lookup, body = excluded.body`,
  },
  remove: {
    name: 'directory_remove',
    text: 'DELETE FROM directory WHERE account_id = $1 AND kind = $2 AND id = $3',
  },
  // One statement: the next id above both the last one handed out and every stored one, saved.
  allocate: {
    name: 'directory_allocate',
    text: `INSERT INTO directory_ids (account_id, kind, last_id)
             SELECT $1, $2, greatest(
               coalesce((SELECT last_id FROM directory_ids WHERE account_id = $1 AND kind = $2), 0),
               coalesce((SELECT max(numeric_id) FROM directory WHERE account_id = $1 AND kind = $2), 0)
             ) + 1
             ON CONFLICT (account_id, kind) DO UPDATE SET last_id = excluded.last_id
             RETURNING last_id::float8 AS id`,
  },
} as const

type Query = (
  statement: { name: string; text: string },
  values: unknown[],
) => Promise<DirectoryEntry[]>

function clientQuery(client: pg.PoolClient): Query {
  return async (statement, values) =>
    (await client.query<DirectoryEntry>({ ...statement, values })).rows
}

async function list(
  query: Query,
  accountId: number,
  kind: DirectoryKind,
  window: IdWindow | null,
): Promise<DirectoryEntry[]> {
  if (window === null) return query(SQL.all, [accountId, kind])
  if (isBackwardWindow(window)) {
    return (
      await query(SQL.backward, [accountId, kind, window.maxId ?? MAX, window.limit])
    ).reverse()
  }
  return query(SQL.forward, [
    accountId,
    kind,
    window.sinceId ?? MIN,
    window.maxId ?? MAX,
    window.limit,
  ])
}

/** The directory of a PostgreSQL store; `write` is the store's write with its connection. */
/** The directory of a PostgreSQL store, with the write that also hands over the connection. */
export type PostgresDirectory = DirectoryStore & {
  /** `writeDirectory`, also handing `fn` the transaction's connection (account resets). */
  writeWithClient<T>(
    accountId: number,
    fn: (tx: DirectoryWriteTx, client: pg.PoolClient) => Promise<T>,
  ): Promise<T>
}

export function postgresDirectory(
  db: PostgresConnection,
  write: <T>(
    accountId: number,
    fn: (tx: WriteTx, client: pg.PoolClient) => Promise<T>,
  ) => Promise<T>,
): PostgresDirectory {
  const read = <T>(accountId: number, fn: (query: Query) => Promise<T>) =>
    db.inAccount(accountId, 'read', (client) => fn(clientQuery(client)))
  return {
    listEntries: (accountId, kind, window) =>
      read(accountId, (query) => list(query, accountId, kind, window)),
    getEntry: (accountId, kind, id) =>
      read(accountId, async (query) => (await query(SQL.get, [accountId, kind, id]))[0]),
    findEntry: (accountId, kind, lookup) =>
      read(accountId, async (query) => (await query(SQL.find, [accountId, kind, lookup]))[0]),
    writeDirectory<T>(accountId: number, fn: (tx: DirectoryWriteTx) => Promise<T>): Promise<T> {
      return this.writeWithClient(accountId, (tx) => fn(tx))
    },
    writeWithClient<T>(
      accountId: number,
      fn: (tx: DirectoryWriteTx, client: pg.PoolClient) => Promise<T>,
    ): Promise<T> {
      return write(accountId, (tx, client) => {
        const query = clientQuery(client)
        return fn(
          extendWriteTx(tx, {
            async allocateId(kind) {
              const { rows } = await client.query<{ id: number }>({
                ...SQL.allocate,
                values: [accountId, kind],
              })
              return rows[0]?.id ?? 1
            },
            getEntry: async (kind, id) => (await query(SQL.get, [accountId, kind, id]))[0],
            findEntry: async (kind, lookup) =>
              (await query(SQL.find, [accountId, kind, lookup]))[0],
            async putEntry(kind, entry) {
              await query(SQL.put, [
                accountId,
                kind,
                entry.id,
                entry.numericId,
                entry.lookup,
                entry.body,
              ])
            },
            async deleteEntry(kind, id) {
              const result = await client.query({ ...SQL.remove, values: [accountId, kind, id] })
              return (result.rowCount ?? 0) > 0
            },
          }),
          client,
        )
      })
    },
  }
}
