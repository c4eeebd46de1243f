/**
 * `postgres://…`: one table per stream (items as jsonb, or json: see DataType) plus `sync_state`.
 * A page's upserts, removals and state row are one transaction (BEGIN … COMMIT on one
 * connection).
 * @module
 */
import pg from 'pg'
import type { ExportStream } from '../client/index.js'
import { EXPORT_STREAMS, redactUrl } from '../client/index.js'
import type { Destination, FaultHooks, PageCommit, StreamSyncState } from './destination.js'
import { DestinationError } from './destination.js'
import type { SyncStateRow } from './sql-schema.js'
import { SERVER_STORE_MARKER_TABLE } from './sql-schema.js'
import { stateFromRow } from './state-row.js'
import { childInsert, childTableDdl, columnType, extract, ident } from './typed-sql.js'
import { STREAM_TABLES } from './typed-tables.js'
import { utf8Of } from './utf8-of.js'

/**
 * How a new stream table stores `data` (see storageOf). Only the physical storage differs: the
 * values and every query on them are the same.
 */
export type DataStorage = 'lz4' | 'inline' | 'default'

/**
 * The type of `data` in new stream tables (`sync --postgres-data`). `jsonb` (the default) is
 * parsed into PostgreSQL's binary tree on insert: indexable, the type connectors' destinations
 * use. `json` keeps the text the server sent, checked but not turned into a tree: in the sync
 * bench (BENCHMARKS.md) the database's CPU per 1000-chat page fell from 136–191 to 73–92 ms and
 * the sync went from 4.6–6.3k to 9.0–10.7k chats/s. Queries read both with the same operators
 * (`->`, `->>`); the typed tables are filled the same either way.
 */
export type DataType = 'jsonb' | 'json'

/**
 * The tables, created if missing. A table that exists keeps the storage it was created with:
 * storage settings a user chose for an existing table are not overridden.
 */
export function schemaSql(storage: DataStorage, type: DataType = 'jsonb'): string {
  const data = storage === 'lz4' ? `data ${type} COMPRESSION lz4 NOT NULL` : `data ${type} NOT NULL`
  const options = storage === 'inline' ? ' WITH (toast_tuple_target = 8160)' : ''
  const items = (table: string) =>
    `CREATE TABLE IF NOT EXISTS ${table} (id text PRIMARY KEY, deleted boolean NOT NULL, ${data})${options};`
  return `
CREATE TABLE IF NOT EXISTS sync_state (
  stream text PRIMARY KEY,
  next_page text,
  source text,
  items bigint NOT NULL,
  pages bigint NOT NULL,
  end_time bigint,
  updated_at text NOT NULL
);
${items('chats')}
${items('conversions')}
${items('department_events')}
${items('agent_events')}
CREATE TABLE IF NOT EXISTS agent_timeline (
  agent_id bigint NOT NULL,
  start_time text NOT NULL,
  deleted boolean NOT NULL,
  ${data},
  PRIMARY KEY (agent_id, start_time)
)${options};
`
}

/**
 * How new stream tables store `data`. An item (about 4 KB for a chat) is over PostgreSQL's 2 KB
 * TOAST threshold, so by default every row is compressed, and with pglz (the only method of a
 * server built without lz4) compressing took about as much of the database's CPU as parsing the
 * jsonb (in a 1000-chat page: ~40-60 ms of ~145 ms). So:
 * - `lz4` when the server has it (PostgreSQL 14+ built with lz4): compressed, at a fraction of
 *   pglz's cost;
 * - `inline` otherwise (PostgreSQL 11+): rows up to a heap page (~8 KB) are stored uncompressed in
 *   the table itself (`toast_tuple_target = 8160`); larger ones are still compressed. This takes
 *   about twice the disk space of pglz for chats, for ~40% less database CPU per page;
 * - `default` on older servers.
 */
async function storageOf(client: pg.PoolClient): Promise<DataStorage> {
  const { rows } = await client.query<{ lz4: boolean; version: number }>(
    `SELECT EXISTS (SELECT 1 FROM pg_settings
                    WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) AS lz4,
            current_setting('server_version_num')::int AS version`,
  )
  const row = rows[0]
  if (row?.lz4 === true) return 'lz4'
  return (row?.version ?? 0) >= 110000 ? 'inline' : 'default'
}

export interface PostgresDestinationOptions {
  url: string
  hooks?: FaultHooks
  /** Create the typed tables; once a destination has them, every sync keeps them in step. */
  typedTables?: boolean
  /** The type of `data` in tables this creates (default jsonb); existing tables keep theirs. */
  dataType?: DataType
}

/** Opens a PostgreSQL destination and creates its tables if needed. */
export async function openPostgresDestination(
  options: PostgresDestinationOptions,
): Promise<Destination> {
  const description = redactUrl(options.url)
  const pool = new pg.Pool({ connectionString: options.url, max: EXPORT_STREAMS.length })
  // An idle connection that dies must not crash the process; the next query reports it.
  pool.on('error', () => {})
  let typed = false
  let types: Record<ExportStream, DataType> | undefined
  try {
    const client = await pool.connect()
    try {
      const marker = await client.query(`SELECT to_regclass($1) AS t`, [SERVER_STORE_MARKER_TABLE])
      if ((marker.rows[0] as { t: string | null } | undefined)?.t != null) {
        throw new DestinationError(
          `${description} is a chat-export server store, not a sync destination. Sync into a separate database.`,
        )
      }
      // Two syncs starting at once must not race on CREATE TABLE IF NOT EXISTS.
      await client.query('SELECT pg_advisory_lock(hashtext($1))', ['chat-export-sync-schema'])
      try {
        await client.query(schemaSql(await storageOf(client), options.dataType ?? 'jsonb'))
        types = await dataTypes(client)
        typed = options.typedTables === true || (await hasTypedTables(client))
        if (typed) {
          await client.query('BEGIN')
          try {
            await prepareTypedTables(client, types)
            await client.query('COMMIT')
          } catch (error) {
            await client.query('ROLLBACK')
            throw error
          }
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', ['chat-export-sync-schema'])
      }
    } finally {
      client.release()
    }
  } catch (error) {
    await pool.end()
    if (error instanceof DestinationError) throw error
    throw new DestinationError(
      `Cannot open PostgreSQL destination ${description}: ${(error as Error).message}.`,
      {
        cause: error,
      },
    )
  }
  if (types === undefined) throw new Error('unreachable: the tables were created above')
  return new PostgresDestination(pool, description, options.hooks, typed, types)
}

/** The type of `data` in each stream table, as it was created (this run or an earlier one). */
async function dataTypes(client: pg.PoolClient): Promise<Record<ExportStream, DataType>> {
  const { rows } = await client.query<{ table: string; type: string }>(
    `SELECT c.relname AS table, format_type(a.atttypid, a.atttypmod) AS type
     FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
     WHERE c.oid = ANY (SELECT to_regclass(t) FROM unnest($1::text[]) AS t) AND a.attname = 'data'`,
    [[...EXPORT_STREAMS]],
  )
  const found = new Map(rows.map((r) => [r.table, r.type]))
  const types = {} as Record<ExportStream, DataType>
  for (const stream of EXPORT_STREAMS)
    types[stream] = found.get(stream) === 'json' ? 'json' : 'jsonb'
  return types
}

/** `data` as jsonb, for the typed columns' jsonb operators: cast when the table stores json. */
function asJsonb(column: string, type: DataType): string {
  return type === 'json' ? `(${column})::jsonb` : column
}

/** Typed tables are on for a destination that has them. */
async function hasTypedTables(client: pg.PoolClient): Promise<boolean> {
  const first = STREAM_TABLES.chats.children[0]
  if (first === undefined) return false
  const { rows } = await client.query(`SELECT to_regclass($1) AS t`, [first.name])
  return (rows[0] as { t: string | null } | undefined)?.t != null
}

/**
 * Adds what the typed tables lack and fills it from the stored JSON (see the SQLite destination):
 * the typed tables always say what `data` says.
 */
async function prepareTypedTables(
  client: pg.PoolClient,
  types: Record<ExportStream, DataType>,
): Promise<void> {
  for (const tables of Object.values(STREAM_TABLES)) {
    const table = tables.stream
    const doc = asJsonb('data', types[table])
    const existing = await columnNames(client, table)
    const missing = tables.columns.filter((c) => !existing.has(c.name))
    if (missing.length > 0) {
      const adds = missing.map(
        (c) => `ADD COLUMN ${ident(c.name)} ${columnType('postgres', c.kind)}`,
      )
      await client.query(`ALTER TABLE ${ident(table)} ${adds.join(', ')}`)
      const sets = missing.map((c) => `${ident(c.name)} = ${extract('postgres', doc, c)}`)
      await client.query(`UPDATE ${ident(table)} SET ${sets.join(', ')}`)
    }
    for (const child of tables.children) {
      const childColumns = await columnNames(client, child.name)
      if (childColumns.size > 0 && child.columns.every((c) => childColumns.has(c.name))) continue
      await client.query(`DROP TABLE IF EXISTS ${ident(child.name)}`)
      await client.query(childTableDdl('postgres', child))
      await client.query(
        childInsert('postgres', child, `(SELECT id AS key, ${doc} AS data FROM ${ident(table)})`),
      )
    }
  }
}

async function columnNames(client: pg.PoolClient, table: string): Promise<Set<string>> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT column_name AS name FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = $1`,
    [table],
  )
  return new Set(rows.map((r) => r.name))
}

/**
 * The page's items as rows `(<key columns>, deleted, data)`, from arrays zipped by position. The
 * JSON travels as one binary `text[]` parameter holding each item's bytes as the server sent
 * them: nothing is escaped or re-encoded on the way (a text-format array of 1000 JSON texts would
 * be escaped character by character by the driver and unescaped again by PostgreSQL), and each
 * element is cast to jsonb on its own.
 *
 * `OFFSET 0` keeps the planner from merging this into the INSERT's select list: merged, every
 * reference to `data` there (one per typed column) would parse the item's JSON again.
 */
function pageRows(stream: ExportStream, type: DataType, typed: boolean): string {
  // A json table with typed columns gets the jsonb too (as `doc`), parsed once, for the extracts.
  const doc = type === 'json' && typed ? ', k.data::jsonb AS doc' : ''
  return stream === 'agent_timeline'
    ? `SELECT k.agent_id, k.start_time, k.deleted, k.data::${type} AS data${doc}
       FROM unnest($1::bigint[], $2::text[], $3::boolean[], $4::text[]) AS k(agent_id, start_time, deleted, data)
       OFFSET 0`
    : `SELECT k.id, k.deleted, k.data::${type} AS data${doc}
       FROM unnest($1::text[], $2::boolean[], $3::text[]) AS k(id, deleted, data)
       OFFSET 0`
}

/**
 * A `text[]` in PostgreSQL's binary array format (the driver sends a Buffer parameter as binary):
 * the number of dimensions (1), a has-nulls flag (0), the element type (25, text), the length and
 * lower bound of the dimension, then each element as its length and its UTF-8 bytes.
 */
export function binaryTextArray(values: readonly Uint8Array[]): Buffer {
  let length = 20
  for (const value of values) length += 4 + value.length
  const out = Buffer.allocUnsafe(length)
  out.writeInt32BE(1, 0)
  out.writeInt32BE(0, 4)
  out.writeInt32BE(TEXT_TYPE_OID, 8)
  out.writeInt32BE(values.length, 12)
  out.writeInt32BE(1, 16)
  let at = 20
  for (const value of values) {
    out.writeInt32BE(value.length, at)
    out.set(value, at + 4)
    at += 4 + value.length
  }
  return out
}

const TEXT_TYPE_OID = 25

class PostgresDestination implements Destination {
  constructor(
    private readonly pool: pg.Pool,
    readonly description: string,
    private readonly hooks: FaultHooks | undefined,
    private readonly typed: boolean,
    private readonly types: Record<ExportStream, DataType>,
  ) {}

  async readState(stream: ExportStream): Promise<StreamSyncState | undefined> {
    const { rows } = await this.pool.query<SyncStateRow>(
      `SELECT * FROM sync_state WHERE stream = $1`,
      [stream],
    )
    const row = rows[0]
    return row === undefined ? undefined : stateFromRow(row)
  }

  async listStates(): Promise<StreamSyncState[]> {
    const { rows } = await this.pool.query<SyncStateRow>(`SELECT * FROM sync_state`)
    const states = rows.map(stateFromRow)
    return EXPORT_STREAMS.flatMap((s) => states.filter((state) => state.stream === s))
  }

  async commit(page: PageCommit): Promise<void> {
    const client = await this.pool.connect()
    let broken = false
    try {
      // A synchronous commit, as the server is configured: `SET LOCAL synchronous_commit = off`
      // was measured (1000-chat pages, embedded PostgreSQL on local disk) and saved no measurable
      // time per page, so a committed page stays as durable as the server makes it.
      await client.query('BEGIN')
      try {
        await this.writePage(client, page)
        this.hooks?.at('postgres:before-commit')
        await client.query('COMMIT')
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {
          broken = true
        })
        throw error
      }
    } finally {
      // A connection whose rollback failed is in an unknown state: drop it instead of reusing it.
      client.release(broken)
    }
  }

  async resetState(stream: ExportStream): Promise<boolean> {
    const result = await this.pool.query(`DELETE FROM sync_state WHERE stream = $1`, [stream])
    return (result.rowCount ?? 0) > 0
  }

  async close(): Promise<void> {
    await this.pool.end()
  }

  private async writePage(client: pg.PoolClient, page: PageCommit): Promise<void> {
    const table = page.stream // one of EXPORT_STREAMS: a fixed identifier, never user input
    const tables = this.typed ? STREAM_TABLES[table] : undefined
    const span = table === 'agent_timeline'
    const type = this.types[table]
    if (page.upserts.length > 0) {
      const deleted = page.upserts.map((u) => u.deleted)
      const data = binaryTextArray(page.upserts.map(utf8Of))
      const params = span
        ? [
            page.upserts.map((u) => (u.key.kind === 'span' ? u.key.agentId : 0)),
            page.upserts.map((u) => (u.key.kind === 'span' ? u.key.startTime : '')),
            deleted,
            data,
          ]
        : [page.upserts.map((u) => u.key.key), deleted, data]
      const keys = span ? ['agent_id', 'start_time'] : ['id']
      const typedColumns = tables?.columns ?? []
      const names = [...keys, 'deleted', 'data', ...typedColumns.map((c) => c.name)].map(ident)
      const values = [
        ...keys.map((k) => `p.${ident(k)}`),
        'p.deleted',
        'p.data',
        ...typedColumns.map((c) => extract('postgres', type === 'json' ? 'p.doc' : 'p.data', c)),
      ]
      const updates = names.slice(keys.length).map((n) => `${n} = excluded.${n}`)
      await client.query(
        `INSERT INTO ${ident(table)} (${names.join(', ')})
         SELECT ${values.join(', ')} FROM (${pageRows(table, type, this.typed)}) AS p
         ON CONFLICT (${keys.map(ident).join(', ')}) DO UPDATE SET ${updates.join(', ')}`,
        params,
      )
      this.hooks?.at('postgres:after-items')
      if (tables !== undefined && tables.children.length > 0 && !span) {
        // Children of an updated item are replaced: deleted by parent key, then inserted anew,
        // from the jsonb just stored (not from the page's text, which would be parsed again).
        const ids = page.upserts.map((u) => u.key.key)
        for (const child of tables.children) {
          await client.query(
            `DELETE FROM ${ident(child.name)} WHERE ${ident(child.parentKey)} = ANY($1::text[])`,
            [ids],
          )
          await client.query(
            childInsert(
              'postgres',
              child,
              `(SELECT t.id AS key, ${asJsonb('t.data', type)} AS data FROM ${ident(table)} AS t WHERE t.id = ANY($1::text[]))`,
            ),
            [ids],
          )
        }
      }
    }
    if (page.removals.length > 0) {
      if (span) {
        await client.query(
          `DELETE FROM agent_timeline t USING unnest($1::bigint[], $2::text[]) AS k(agent_id, start_time)
           WHERE t.agent_id = k.agent_id AND t.start_time = k.start_time`,
          [
            page.removals.map((k) => (k.kind === 'span' ? k.agentId : 0)),
            page.removals.map((k) => (k.kind === 'span' ? k.startTime : '')),
          ],
        )
      } else {
        const ids = page.removals.map((k) => k.key)
        await client.query(`DELETE FROM ${ident(table)} WHERE id = ANY($1::text[])`, [ids])
        for (const child of tables?.children ?? []) {
          await client.query(
            `DELETE FROM ${ident(child.name)} WHERE ${ident(child.parentKey)} = ANY($1::text[])`,
            [ids],
          )
        }
      }
    }
    const s = page.state
    await client.query(
      `INSERT INTO sync_state (stream, next_page, source, items, pages, end_time, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (stream) DO UPDATE SET next_page = excluded.next_page, source = excluded.source,
         items = excluded.items, pages = excluded.pages, end_time = excluded.end_time,
         updated_at = excluded.updated_at`,
      [s.stream, s.cursor?.nextPage ?? null, s.source, s.items, s.pages, s.endTime, s.updatedAt],
    )
  }
}
