/**
 * How the PostgreSQL sync destination stores `data` (docs/sync.md, "SQLite and PostgreSQL"): new
 * stream tables compress with lz4 when the server has it, and otherwise keep rows up to a heap
 * page uncompressed; either way the stored jsonb and the queries on it are the same, and a table
 * that already exists keeps the storage it has.
 */
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import type { PageCommit, StreamSyncState } from '../../src/sync/destination.js'
import { openPostgresDestination } from '../../src/sync/postgres-destination.js'
import { freshPostgresDatabase, postgresTestServerAvailable } from '../support/postgres.js'

/** A chat with `messages` history entries (about 100 bytes each). */
function chat(id: string, messages: number): Record<string, unknown> {
  return {
    id,
    type: 'chat',
    deleted: false,
    tags: ['vip'],
    history: Array.from({ length: messages }, (_, i) => ({
      index: i,
      msg: `message ${i} of chat ${id}: ${'lorem ipsum '.repeat(6)}`,
    })),
  }
}

function page(items: Record<string, unknown>[], pages: number): PageCommit {
  const state: StreamSyncState = {
    stream: 'chats',
    cursor: { stream: 'chats', nextPage: `next-${pages}` },
    source: 'http://127.0.0.1/api/v2/chat',
    items: items.length,
    pages,
    endTime: 1,
    updatedAt: new Date(0).toISOString(),
  }
  return {
    stream: 'chats',
    upserts: items.map((item) => {
      const json = JSON.stringify(item)
      const id = String(item.id)
      return { key: { kind: 'id', key: id, id }, json, bytes: Buffer.from(json), deleted: false }
    }),
    removals: [],
    state,
  }
}

async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await run(client)
  } finally {
    await client.end()
  }
}

describe.skipIf(!postgresTestServerAvailable())('postgres sync destination storage', () => {
  it('stores items as queryable jsonb, compressed with lz4 or (without lz4) inline uncompressed', async () => {
    const { url } = await freshPostgresDatabase()
    const lz4 = await withClient(url, async (c) => {
      const { rows } = await c.query<{ lz4: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_settings
                        WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) AS lz4`,
      )
      return rows[0]?.lz4 === true
    })
    const destination = await openPostgresDestination({ url })
    const small = chat('2405.1.small', 40) // ~5 KB: over the 2 KB TOAST threshold
    const large = chat('2405.1.large', 300) // ~35 KB: larger than a heap page
    try {
      await destination.commit(page([small, large], 1))
      // A second commit of the same keys upserts them (and works in the same way).
      await destination.commit(page([{ ...small, tags: ['vip', 'followed-up'] }, large], 2))
      expect((await destination.readState('chats'))?.pages).toBe(2)
    } finally {
      await destination.close()
    }
    await withClient(url, async (c) => {
      const { rows } = await c.query<{ id: string; data: unknown; compression: string | null }>(
        `SELECT id, data, pg_column_compression(data) AS compression FROM chats ORDER BY id`,
      )
      expect(rows.map((r) => r.data)).toEqual([large, { ...small, tags: ['vip', 'followed-up'] }])
      const compression = Object.fromEntries(rows.map((r) => [r.id, r.compression]))
      if (lz4) {
        expect(compression).toEqual({ '2405.1.large': 'lz4', '2405.1.small': 'lz4' })
      } else {
        // Only what does not fit in a heap page is compressed (with the server's pglz).
        expect(compression).toEqual({ '2405.1.large': 'pglz', '2405.1.small': null })
      }
      const vip = await c.query(
        `SELECT data->>'id' AS id FROM chats WHERE data @> '{"tags": ["followed-up"]}'`,
      )
      expect(vip.rows).toEqual([{ id: '2405.1.small' }])
    })
  })

  it('leaves the storage of a table that already exists as it is', async () => {
    const { url } = await freshPostgresDatabase()
    await withClient(url, (c) =>
      c.query(
        `CREATE TABLE chats (id text PRIMARY KEY, deleted boolean NOT NULL, data jsonb NOT NULL)`,
      ),
    )
    const destination = await openPostgresDestination({ url })
    const small = chat('2405.2.small', 40)
    try {
      await destination.commit(page([small], 1))
    } finally {
      await destination.close()
    }
    await withClient(url, async (c) => {
      const { rows } = await c.query<{ options: string[] | null; compression: string | null }>(
        `SELECT (SELECT reloptions FROM pg_class WHERE oid = 'chats'::regclass) AS options,
                pg_column_compression(data) AS compression FROM chats`,
      )
      expect(rows).toEqual([{ options: null, compression: 'pglz' }])
    })
  })

  it('with dataType json keeps the bytes as sent, typed tables and all; an existing table keeps its type', async () => {
    const { url } = await freshPostgresDatabase()
    // agent_timeline exists already, as jsonb: it stays so.
    await withClient(url, (c) =>
      c.query(`CREATE TABLE agent_timeline (agent_id bigint NOT NULL, start_time text NOT NULL,
                 deleted boolean NOT NULL, data jsonb NOT NULL, PRIMARY KEY (agent_id, start_time))`),
    )
    const destination = await openPostgresDestination({ url, dataType: 'json', typedTables: true })
    const item = { ...chat('2405.3.a', 3), rating: 'good', zz: 1.5, aa: { b: 1 } }
    // What a server sent, byte for byte (key order and number spelling included).
    const sent = JSON.stringify(item).replace('"zz":1.5', '"zz":1.50')
    const commit = page([item], 1)
    const upsert = commit.upserts[0]
    if (upsert === undefined) throw new Error('no upsert')
    try {
      await destination.commit({
        ...commit,
        upserts: [{ ...upsert, json: sent, bytes: Buffer.from(sent) }],
      })
    } finally {
      await destination.close()
    }
    await withClient(url, async (c) => {
      const types = await c.query<{ table: string; type: string }>(
        `SELECT c.relname AS table, format_type(a.atttypid, a.atttypmod) AS type
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
         WHERE c.relname IN ('chats', 'agent_timeline') AND a.attname = 'data' ORDER BY 1`,
      )
      expect(types.rows).toEqual([
        { table: 'agent_timeline', type: 'jsonb' },
        { table: 'chats', type: 'json' },
      ])
      const { rows } = await c.query<{ text: string; rating: string; tags: string }>(
        `SELECT data::text AS text, data->>'rating' AS rating, data->'tags'->>0 AS tags FROM chats`,
      )
      expect(rows).toEqual([{ text: sent, rating: 'good', tags: 'vip' }])
      // The typed tables are filled from it as from jsonb.
      const typed = await c.query(`SELECT rating FROM chats`)
      expect(typed.rows).toEqual([{ rating: 'good' }])
      const history = await c.query(`SELECT count(*)::int AS n FROM chat_history`)
      expect(history.rows).toEqual([{ n: 3 }])
    })
  })
})
