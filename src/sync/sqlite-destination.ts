/**
 * `sqlite:PATH`: one table per stream plus `sync_state`, in a WAL database with synchronous=FULL
 * and 64 KB database pages (when the file is new).
 * A page's upserts, removals and its state row are one transaction: SQLite either has all of them
 * after a crash (kill -9 or power loss) or none. The transactions run on a worker thread
 * (sqlite-page-writer.ts), so the next page is received and scanned while one commits; the main
 * thread's own connection only creates the tables and reads and resets states.
 * @module
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import type { ExportItem, ExportStream } from '../client/index.js'
import { EXPORT_STREAMS } from '../client/index.js'
import type { Destination, FaultHooks, PageCommit, StreamSyncState } from './destination.js'
import { DestinationError, readAllStates } from './destination.js'
import type { ItemKey } from './item-key.js'
import type { WriteOp, WriteParam } from './sqlite-page-writer.js'
import { SqlitePageWriter } from './sqlite-page-writer.js'
import type { SyncStateRow } from './sql-schema.js'
import { SERVER_STORE_MARKER_TABLE } from './sql-schema.js'
import { stateFromRow } from './state-row.js'
import { utf8Of } from './utf8-of.js'
import { childInsert, childTableDdl, columnType, extract, ident } from './typed-sql.js'
import type { ChildTable, StreamTables } from './typed-tables.js'
import { childRows, columnValue, STREAM_TABLES } from './typed-tables.js'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS sync_state (
  stream TEXT PRIMARY KEY,
  next_page TEXT,
  source TEXT,
  items INTEGER NOT NULL,
  pages INTEGER NOT NULL,
  end_time INTEGER,
  updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chats (id TEXT PRIMARY KEY, deleted INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS conversions (id TEXT PRIMARY KEY, deleted INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS department_events (id TEXT PRIMARY KEY, deleted INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS agent_events (id TEXT PRIMARY KEY, deleted INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS agent_timeline (
  agent_id INTEGER NOT NULL,
  start_time TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (agent_id, start_time)
);
`

/** WAL bytes after which SQLite copies the WAL into the database (see wal_autocheckpoint). */
const CHECKPOINT_BYTES = 64 * 1024 * 1024

const BUSY_TIMEOUT_MS = 5000

export interface SqliteDestinationOptions {
  path: string
  hooks?: FaultHooks
  /**
   * Create the typed tables (typed-tables.ts). Once a destination has them, every sync keeps them
   * in step, with or without this option.
   */
  typedTables?: boolean
}

/** Opens (creating if needed) a SQLite destination. */
export async function openSqliteDestination(
  options: SqliteDestinationOptions,
): Promise<Destination> {
  if (options.path === ':memory:' || options.path === '') {
    // The writes run on a connection of their own (see the module comment), which cannot see
    // another connection's in-memory database, and a sync into memory would be lost at exit.
    throw new DestinationError(
      'A SQLite sync destination must be a file: give a path, e.g. --to sqlite:./chats.db.',
    )
  }
  mkdirSync(dirname(options.path), { recursive: true })
  let db: Database.Database
  try {
    db = new Database(options.path)
  } catch (cause) {
    throw new DestinationError(
      `Cannot open SQLite destination "${options.path}": ${(cause as Error).message}.`,
      {
        cause,
      },
    )
  }
  let checkpointPages: number
  let typed: boolean
  try {
    // Only takes effect on a new, empty file (an existing destination keeps its page size). With
    // the default 4 KB, a page of 1000 chats is over 1000 WAL frames, each written by a syscall of
    // its own: that cost the sync more CPU than its whole share of the page. 64 KB (SQLite's
    // largest) holds about 16 chats per database page.
    db.pragma('page_size = 65536')
    db.pragma('journal_mode = WAL')
    // FULL: a committed page survives power loss too, so a saved cursor never runs ahead of its data.
    db.pragma('synchronous = FULL')
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
    // A page is about as large as the default checkpoint threshold (1000 pages of 4 KB), which
    // made nearly every commit also copy the WAL into the database and fsync it. 64 MB: one
    // checkpoint per ~16 pages, the same bytes with far fewer fsyncs. The threshold counts
    // database pages, whose size depends on when the file was created.
    const pageSize = db.pragma('page_size', { simple: true }) as number
    checkpointPages = Math.ceil(CHECKPOINT_BYTES / pageSize)
    db.pragma(`wal_autocheckpoint = ${checkpointPages}`)
    const marker = db
      .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`)
      .get(SERVER_STORE_MARKER_TABLE)
    if (marker !== undefined) {
      throw new DestinationError(
        `"${options.path}" is a chat-export server store, not a sync destination. Sync into a separate database file.`,
      )
    }
    db.exec(SCHEMA)
    typed = options.typedTables === true || hasTypedTables(db)
    if (typed) db.transaction(() => prepareTypedTables(db))()
  } catch (error) {
    db.close()
    throw error
  }
  const statements = new WriteStatements(typed)
  try {
    const writer = await SqlitePageWriter.open({
      path: options.path,
      statements: statements.sql,
      autocheckpointPages: checkpointPages,
      busyTimeoutMs: BUSY_TIMEOUT_MS,
      ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
    })
    return new SqliteDestination(db, options.path, options.hooks, statements, writer)
  } catch (cause) {
    db.close()
    throw new DestinationError(
      `Cannot open SQLite destination "${options.path}" for writing: ${(cause as Error).message}.`,
      { cause },
    )
  }
}

/** Typed tables are on for a destination that has them (see typedTables above). */
function hasTypedTables(db: Database.Database): boolean {
  const first = STREAM_TABLES.chats.children[0]
  if (first === undefined) return false
  return (
    db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(first.name) !==
    undefined
  )
}

function columnNames(db: Database.Database, table: string): Set<string> {
  const rows = db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]
  return new Set(rows.map((r) => r.name))
}

/**
 * Adds what the typed tables lack (all of them on a destination synced without, or the columns of
 * attributes the schemas gained since) and fills it from the stored JSON, so the typed tables
 * always say what `data` says.
 */
function prepareTypedTables(db: Database.Database): void {
  for (const tables of Object.values(STREAM_TABLES)) {
    const table = tables.stream
    const existing = columnNames(db, table)
    const missing = tables.columns.filter((c) => !existing.has(c.name))
    for (const c of missing) {
      db.exec(
        `ALTER TABLE ${ident(table)} ADD COLUMN ${ident(c.name)} ${columnType('sqlite', c.kind)}`,
      )
    }
    if (missing.length > 0) {
      const sets = missing.map((c) => `${ident(c.name)} = ${extract('sqlite', 'data', c)}`)
      db.exec(`UPDATE ${ident(table)} SET ${sets.join(', ')}`)
    }
    for (const child of tables.children) {
      const childColumns = columnNames(db, child.name)
      const complete = childColumns.size > 0 && child.columns.every((c) => childColumns.has(c.name))
      if (complete) continue
      db.exec(`DROP TABLE IF EXISTS ${ident(child.name)}`)
      db.exec(childTableDdl('sqlite', child))
      db.exec(childInsert('sqlite', child, `(SELECT id AS key, data FROM ${ident(table)})`))
    }
  }
}

const sqliteBoolean = (b: boolean) => (b ? 1 : 0)

/** A typed stream's statements, by index into WriteStatements.sql. */
interface TypedStatements {
  tables: StreamTables
  upsert: number
  children: { child: ChildTable; remove: number; insert: number }[]
}

/**
 * Every statement a commit runs, as SQL for the writer thread, and each one's index in that list.
 * `data` is bound as the bytes the server sent and stored as TEXT: SQLite copies them, with no
 * decoding into a JS string and encoding back (utf8-of.ts makes sure they are UTF-8).
 */
class WriteStatements {
  readonly sql: string[] = []
  readonly upsert: Record<ExportStream, number>
  readonly remove: Record<ExportStream, number>
  readonly typed: Record<ExportStream, TypedStatements> | undefined
  readonly writeState: number

  constructor(typed: boolean) {
    const add = (sql: string) => this.sql.push(sql) - 1
    const idUpsert = (table: string) =>
      add(`INSERT INTO ${table} (id, deleted, data) VALUES (?, ?, CAST(? AS TEXT))
           ON CONFLICT (id) DO UPDATE SET deleted = excluded.deleted, data = excluded.data`)
    const idDelete = (table: string) => add(`DELETE FROM ${table} WHERE id = ?`)
    this.upsert = {
      chats: idUpsert('chats'),
      conversions: idUpsert('conversions'),
      department_events: idUpsert('department_events'),
      agent_events: idUpsert('agent_events'),
      agent_timeline: add(
        `INSERT INTO agent_timeline (agent_id, start_time, deleted, data) VALUES (?, ?, ?, CAST(? AS TEXT))
         ON CONFLICT (agent_id, start_time) DO UPDATE SET deleted = excluded.deleted, data = excluded.data`,
      ),
    }
    this.remove = {
      chats: idDelete('chats'),
      conversions: idDelete('conversions'),
      department_events: idDelete('department_events'),
      agent_events: idDelete('agent_events'),
      agent_timeline: add(`DELETE FROM agent_timeline WHERE agent_id = ? AND start_time = ?`),
    }
    this.typed = typed
      ? (Object.fromEntries(
          EXPORT_STREAMS.map((stream) => [stream, this.typedStatements(stream, add)]),
        ) as Record<ExportStream, TypedStatements>)
      : undefined
    this.writeState = add(
      `INSERT INTO sync_state (stream, next_page, source, items, pages, end_time, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (stream) DO UPDATE SET next_page = excluded.next_page, source = excluded.source,
         items = excluded.items, pages = excluded.pages, end_time = excluded.end_time,
         updated_at = excluded.updated_at`,
    )
  }

  private typedStatements(stream: ExportStream, add: (sql: string) => number): TypedStatements {
    const tables = STREAM_TABLES[stream]
    const keys = stream === 'agent_timeline' ? ['agent_id', 'start_time'] : ['id']
    const names = [...keys, 'deleted', 'data', ...tables.columns.map((c) => c.name)].map(ident)
    const updates = names.slice(keys.length).map((n) => `${n} = excluded.${n}`)
    const values = names.map((n) => (n === ident('data') ? 'CAST(? AS TEXT)' : '?'))
    const upsert = add(
      `INSERT INTO ${ident(stream)} (${names.join(', ')}) VALUES (${values.join(', ')})
       ON CONFLICT (${keys.map(ident).join(', ')}) DO UPDATE SET ${updates.join(', ')}`,
    )
    const children = tables.children.map((child) => {
      const columns = [child.parentKey, 'position', ...child.columns.map((c) => c.name)].map(ident)
      return {
        child,
        remove: add(`DELETE FROM ${ident(child.name)} WHERE ${ident(child.parentKey)} = ?`),
        insert: add(
          `INSERT INTO ${ident(child.name)} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
        ),
      }
    })
    return { tables, upsert, children }
  }
}

/** The key columns of a row: `(id)` or `(agent_id, start_time)`. */
function keyParams(key: ItemKey): WriteParam[] {
  return key.kind === 'span' ? [key.agentId, key.startTime] : [key.id]
}

/** A typed column's value as a parameter (columnValue gives numbers, strings, 0/1 or null). */
function param(value: unknown): WriteParam {
  return value === undefined ? null : (value as WriteParam)
}

class SqliteDestination implements Destination {
  readonly description: string
  private readonly readStateStatement: Database.Statement

  constructor(
    private readonly db: Database.Database,
    path: string,
    private readonly hooks: FaultHooks | undefined,
    private readonly statements: WriteStatements,
    private readonly writer: SqlitePageWriter,
  ) {
    this.description = `sqlite:${path}`
    this.readStateStatement = db.prepare(`SELECT * FROM sync_state WHERE stream = ?`)
  }

  readState(stream: ExportStream): Promise<StreamSyncState | undefined> {
    const row = this.readStateStatement.get(stream) as SyncStateRow | undefined
    return Promise.resolve(row === undefined ? undefined : stateFromRow(row))
  }

  listStates(): Promise<StreamSyncState[]> {
    return readAllStates((stream) => this.readState(stream))
  }

  /**
   * The page's statements, in the order the in-thread version ran them (the hook points too), and
   * its items' bytes in one buffer, which the writer thread commits as one transaction.
   */
  commit(page: PageCommit): Promise<void> {
    const itemBytes = page.upserts.map(utf8Of)
    let total = 0
    for (const b of itemBytes) total += b.length
    const bytes = new Uint8Array(total)
    const spans: [number, number][] = []
    let at = 0
    for (const b of itemBytes) {
      bytes.set(b, at)
      spans.push([at, at + b.length])
      at += b.length
    }
    const ops: WriteOp[] = []
    const hook = (point: string) => {
      if (this.hooks !== undefined) ops.push(point)
    }
    const typed = this.statements.typed?.[page.stream]
    const remove = this.statements.remove[page.stream]
    page.upserts.forEach((upsert, index) => {
      const { key, deleted } = upsert
      const data = spans[index] ?? [0, 0]
      if (typed === undefined) {
        ops.push([this.statements.upsert[page.stream], ...keyParams(key), deleted ? 1 : 0, data])
      } else {
        // One parse per item, here on the main thread: the writer thread only runs statements.
        const item = JSON.parse(upsert.json) as ExportItem
        const columns = typed.tables.columns.map((c) => param(columnValue(item, c, sqliteBoolean)))
        ops.push([typed.upsert, ...keyParams(key), deleted ? 1 : 0, data, ...columns])
        for (const { child, remove: removeChildren, insert } of typed.children) {
          ops.push([removeChildren, key.key])
          childRows(item, child, sqliteBoolean).forEach((values, position) =>
            ops.push([insert, key.key, position, ...values.map(param)]),
          )
        }
      }
      if (index === 0) hook('sqlite:after-first-item')
    })
    for (const key of page.removals) {
      ops.push([remove, ...keyParams(key)])
      if (key.kind === 'id')
        for (const child of typed?.children ?? []) ops.push([child.remove, key.id])
    }
    hook('sqlite:after-items')
    const s = page.state
    ops.push([
      this.statements.writeState,
      s.stream,
      s.cursor?.nextPage ?? null,
      s.source,
      s.items,
      s.pages,
      s.endTime,
      s.updatedAt,
    ])
    hook('sqlite:after-state')
    return this.writer.write(ops, bytes)
  }

  resetState(stream: ExportStream): Promise<boolean> {
    const result = this.db.prepare(`DELETE FROM sync_state WHERE stream = ?`).run(stream)
    return Promise.resolve(result.changes > 0)
  }

  async close(): Promise<void> {
    await this.writer.close()
    if (this.db.open) this.db.close()
  }
}
