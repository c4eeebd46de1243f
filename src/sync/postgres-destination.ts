/**
 * `postgres://…`: one table per stream (items as jsonb) plus `sync_state`. A page's upserts,
 * removals and state row are one transaction (BEGIN … COMMIT on one connection).
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

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sync_state (
  stream text PRIMARY KEY,
  next_page text,
  source text,
  items bigint NOT NULL,
  pages bigint NOT NULL,
  end_time bigint,
  updated_at text NOT NULL
);
CREATE TABLE IF NOT EXISTS chats (id text PRIMARY KEY, deleted boolean NOT NULL, data jsonb NOT NULL);
CREATE TABLE IF NOT EXISTS conversions (id text PRIMARY KEY, deleted boolean NOT NULL, data jsonb NOT NULL);
CREATE TABLE IF NOT EXISTS department_events (id text PRIMARY KEY, deleted boolean NOT NULL, data jsonb NOT NULL);
CREATE TABLE IF NOT EXISTS agent_events (id text PRIMARY KEY, deleted boolean NOT NULL, data jsonb NOT NULL);
CREATE TABLE IF NOT EXISTS agent_timeline (
  agent_id bigint NOT NULL,
  start_time text NOT NULL,
  deleted boolean NOT NULL,
  data jsonb NOT NULL,
  PRIMARY KEY (agent_id, start_time)
);
`

export interface PostgresDestinationOptions {
  url: string
  hooks?: FaultHooks
}

/** Opens a PostgreSQL destination and creates its tables if needed. */
export async function openPostgresDestination(
  options: PostgresDestinationOptions,
): Promise<Destination> {
  const description = redactUrl(options.url)
  const pool = new pg.Pool({ connectionString: options.url, max: EXPORT_STREAMS.length })
  // An idle connection that dies must not crash the process; the next query reports it.
  pool.on('error', () => {})
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
        await client.query(SCHEMA)
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
  return new PostgresDestination(pool, description, options.hooks)
}

class PostgresDestination implements Destination {
  constructor(
    private readonly pool: pg.Pool,
    readonly description: string,
    private readonly hooks: FaultHooks | undefined,
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
    if (page.upserts.length > 0) {
      const deleted = page.upserts.map((u) => u.deleted)
      const data = page.upserts.map((u) => u.json)
      if (table === 'agent_timeline') {
        const agentIds = page.upserts.map((u) => (u.key.kind === 'span' ? u.key.agentId : 0))
        const starts = page.upserts.map((u) => (u.key.kind === 'span' ? u.key.startTime : ''))
        await client.query(
          `INSERT INTO agent_timeline (agent_id, start_time, deleted, data)
           SELECT * FROM unnest($1::bigint[], $2::text[], $3::boolean[], $4::jsonb[])
           ON CONFLICT (agent_id, start_time) DO UPDATE SET deleted = excluded.deleted, data = excluded.data`,
          [agentIds, starts, deleted, data],
        )
      } else {
        const ids = page.upserts.map((u) => u.key.key)
        await client.query(
          `INSERT INTO ${table} (id, deleted, data)
           SELECT * FROM unnest($1::text[], $2::boolean[], $3::jsonb[])
           ON CONFLICT (id) DO UPDATE SET deleted = excluded.deleted, data = excluded.data`,
          [ids, deleted, data],
        )
      }
      this.hooks?.at('postgres:after-items')
    }
    if (page.removals.length > 0) {
      if (table === 'agent_timeline') {
        await client.query(
          `DELETE FROM agent_timeline t USING unnest($1::bigint[], $2::text[]) AS k(agent_id, start_time)
           WHERE t.agent_id = k.agent_id AND t.start_time = k.start_time`,
          [
            page.removals.map((k) => (k.kind === 'span' ? k.agentId : 0)),
            page.removals.map((k) => (k.kind === 'span' ? k.startTime : '')),
          ],
        )
      } else {
        await client.query(`DELETE FROM ${table} WHERE id = ANY($1::text[])`, [
          page.removals.map((k) => k.key),
        ])
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
