/**
 * `sqlite:PATH`: one table per stream plus `sync_state`, in a WAL database with synchronous=FULL
 * and 64 KB database pages (when the file is new).
 * A page's upserts, removals and its state row are one transaction: SQLite either has all of them
 * after a crash (kill -9 or power loss) or none.
 * @module
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import type { ExportItem, ExportStream } from '../client/index.js'
import { EXPORT_STREAMS } from '../client/index.js'
import type { Destination, FaultHooks, PageCommit, StreamSyncState } from './destination.js'
import { DestinationError, readAllStates } from './destination.js'
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
export function openSqliteDestination(options: SqliteDestinationOptions): Promise<Destination> {
  if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true })
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
  try {
    // Only takes effect on a new, empty file (an existing destination keeps its page size). With
    // the default 4 KB, a page of 1000 chats is over 1000 WAL frames, each written by a syscall of
    // its own: that cost the sync more CPU than its whole share of the page. 64 KB (SQLite's
    // largest) holds about 16 chats per database page.
    db.pragma('page_size = 65536')
    db.pragma('journal_mode = WAL')
    // FULL: a committed page survives power loss too, so a saved cursor never runs ahead of its data.
    db.pragma('synchronous = FULL')
    db.pragma('busy_timeout = 5000')
    // A page is about as large as the default checkpoint threshold (1000 pages of 4 KB), which
    // made nearly every commit also copy the WAL into the database and fsync it, with the event
    // loop blocked. 64 MB: one checkpoint per ~16 pages, the same bytes with far fewer fsyncs.
    // The threshold counts database pages, whose size depends on when the file was created.
    const pageSize = db.pragma('page_size', { simple: true }) as number
    db.pragma(`wal_autocheckpoint = ${Math.ceil(CHECKPOINT_BYTES / pageSize)}`)
    const marker = db
      .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`)
      .get(SERVER_STORE_MARKER_TABLE)
    if (marker !== undefined) {
      throw new DestinationError(
        `"${options.path}" is a chat-export server store, not a sync destination. Sync into a separate database file.`,
      )
    }
    db.exec(SCHEMA)
    const typed = options.typedTables === true || hasTypedTables(db)
    if (typed) db.transaction(() => prepareTypedTables(db))()
    return Promise.resolve(new SqliteDestination(db, options.path, options.hooks, typed))
  } catch (error) {
    db.close()
    throw error
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

/** The statements that keep one stream's typed tables in step. */
interface TypedStatements {
  tables: StreamTables
  upsert: Database.Statement
  children: { child: ChildTable; remove: Database.Statement; insert: Database.Statement }[]
}

const sqliteBoolean = (b: boolean) => (b ? 1 : 0)

function typedStatements(db: Database.Database, stream: ExportStream): TypedStatements {
  const tables = STREAM_TABLES[stream]
  const keys = stream === 'agent_timeline' ? ['agent_id', 'start_time'] : ['id']
  const names = [...keys, 'deleted', 'data', ...tables.columns.map((c) => c.name)].map(ident)
  const updates = names.slice(keys.length).map((n) => `${n} = excluded.${n}`)
  const upsert = db.prepare(
    `INSERT INTO ${ident(stream)} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})
     ON CONFLICT (${keys.map(ident).join(', ')}) DO UPDATE SET ${updates.join(', ')}`,
  )
  const children = tables.children.map((child) => {
    const columns = [child.parentKey, 'position', ...child.columns.map((c) => c.name)].map(ident)
    return {
      child,
      remove: db.prepare(`DELETE FROM ${ident(child.name)} WHERE ${ident(child.parentKey)} = ?`),
      insert: db.prepare(
        `INSERT INTO ${ident(child.name)} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
      ),
    }
  })
  return { tables, upsert, children }
}

class SqliteDestination implements Destination {
  readonly description: string
  private readonly typed: Record<ExportStream, TypedStatements> | undefined
  private readonly upsertStatements: Record<ExportStream, Database.Statement>
  private readonly deleteStatements: Record<ExportStream, Database.Statement>
  private readonly writeState: Database.Statement
  private readonly readStateStatement: Database.Statement
  private readonly commitTx: (page: PageCommit) => void

  constructor(
    private readonly db: Database.Database,
    path: string,
    private readonly hooks: FaultHooks | undefined,
    typed: boolean,
  ) {
    this.description = `sqlite:${path}`
    this.typed = typed
      ? (Object.fromEntries(
          EXPORT_STREAMS.map((stream) => [stream, typedStatements(db, stream)]),
        ) as Record<ExportStream, TypedStatements>)
      : undefined
    // `data` is bound as the bytes the server sent and stored as TEXT: SQLite copies them, with
    // no decoding into a JS string and encoding back (utf8-of.ts makes sure they are UTF-8).
    const idUpsert = (table: string) =>
      db.prepare(
        `INSERT INTO ${table} (id, deleted, data) VALUES (?, ?, CAST(? AS TEXT))
         ON CONFLICT (id) DO UPDATE SET deleted = excluded.deleted, data = excluded.data`,
      )
    const idDelete = (table: string) => db.prepare(`DELETE FROM ${table} WHERE id = ?`)
    this.upsertStatements = {
      chats: idUpsert('chats'),
      conversions: idUpsert('conversions'),
      department_events: idUpsert('department_events'),
      agent_events: idUpsert('agent_events'),
      agent_timeline: db.prepare(
        `INSERT INTO agent_timeline (agent_id, start_time, deleted, data) VALUES (?, ?, ?, CAST(? AS TEXT))
         ON CONFLICT (agent_id, start_time) DO UPDATE SET deleted = excluded.deleted, data = excluded.data`,
      ),
    }
    this.deleteStatements = {
      chats: idDelete('chats'),
      conversions: idDelete('conversions'),
      department_events: idDelete('department_events'),
      agent_events: idDelete('agent_events'),
      agent_timeline: db.prepare(
        `DELETE FROM agent_timeline WHERE agent_id = ? AND start_time = ?`,
      ),
    }
    this.writeState = db.prepare(
      `INSERT INTO sync_state (stream, next_page, source, items, pages, end_time, updated_at)
       VALUES (@stream, @next_page, @source, @items, @pages, @end_time, @updated_at)
       ON CONFLICT (stream) DO UPDATE SET next_page = excluded.next_page, source = excluded.source,
         items = excluded.items, pages = excluded.pages, end_time = excluded.end_time,
         updated_at = excluded.updated_at`,
    )
    this.readStateStatement = db.prepare(`SELECT * FROM sync_state WHERE stream = ?`)
    this.commitTx = db.transaction((page: PageCommit) => this.writePage(page))
  }

  readState(stream: ExportStream): Promise<StreamSyncState | undefined> {
    const row = this.readStateStatement.get(stream) as SyncStateRow | undefined
    return Promise.resolve(row === undefined ? undefined : stateFromRow(row))
  }

  listStates(): Promise<StreamSyncState[]> {
    return readAllStates((stream) => this.readState(stream))
  }

  commit(page: PageCommit): Promise<void> {
    // better-sqlite3 rolls the transaction back when the function throws (an injected crash too).
    this.commitTx(page)
    return Promise.resolve()
  }

  resetState(stream: ExportStream): Promise<boolean> {
    const result = this.db.prepare(`DELETE FROM sync_state WHERE stream = ?`).run(stream)
    return Promise.resolve(result.changes > 0)
  }

  close(): Promise<void> {
    if (this.db.open) this.db.close()
    return Promise.resolve()
  }

  private writePage(page: PageCommit): void {
    const typed = this.typed?.[page.stream]
    if (typed !== undefined) this.writeTypedItems(page, typed)
    else this.writeItems(page)
    this.hooks?.at('sqlite:after-items')
    const s = page.state
    this.writeState.run({
      stream: s.stream,
      next_page: s.cursor?.nextPage ?? null,
      source: s.source,
      items: s.items,
      pages: s.pages,
      end_time: s.endTime,
      updated_at: s.updatedAt,
    })
    this.hooks?.at('sqlite:after-state')
  }

  /** Each item's row with its typed columns, and its child rows, replaced. One parse per item. */
  private writeTypedItems(page: PageCommit, typed: TypedStatements): void {
    const remove = this.deleteStatements[page.stream]
    page.upserts.forEach(({ key, json, deleted }, index) => {
      const item = JSON.parse(json) as ExportItem
      const keyValues = key.kind === 'span' ? [key.agentId, key.startTime] : [key.id]
      typed.upsert.run(
        ...keyValues,
        deleted ? 1 : 0,
        json,
        ...typed.tables.columns.map((c) => columnValue(item, c, sqliteBoolean)),
      )
      for (const { child, remove: removeChildren, insert } of typed.children) {
        removeChildren.run(key.key)
        childRows(item, child, sqliteBoolean).forEach((values, position) =>
          insert.run(key.key, position, ...values),
        )
      }
      if (index === 0) this.hooks?.at('sqlite:after-first-item')
    })
    for (const key of page.removals) {
      if (key.kind === 'span') remove.run(key.agentId, key.startTime)
      else {
        remove.run(key.id)
        for (const child of typed.children) child.remove.run(key.id)
      }
    }
  }

  private writeItems(page: PageCommit): void {
    const upsert = this.upsertStatements[page.stream]
    const remove = this.deleteStatements[page.stream]
    page.upserts.forEach((item, index) => {
      const { key, deleted } = item
      const data = utf8Of(item)
      const flag = deleted ? 1 : 0
      if (key.kind === 'span') upsert.run(key.agentId, key.startTime, flag, data)
      else upsert.run(key.id, flag, data)
      if (index === 0) this.hooks?.at('sqlite:after-first-item')
    })
    for (const key of page.removals) {
      if (key.kind === 'span') remove.run(key.agentId, key.startTime)
      else remove.run(key.id)
    }
  }
}
