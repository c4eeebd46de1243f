/**
 * `sqlite:PATH`: one table per stream plus `sync_state`, in a WAL database with synchronous=FULL.
 * A page's upserts, removals and its state row are one transaction: SQLite either has all of them
 * after a crash (kill -9 or power loss) or none.
 * @module
 */
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import type { ExportStream } from '../client/index.js'
import type { Destination, FaultHooks, PageCommit, StreamSyncState } from './destination.js'
import { DestinationError, readAllStates } from './destination.js'
import type { SyncStateRow } from './sql-schema.js'
import { SERVER_STORE_MARKER_TABLE } from './sql-schema.js'
import { stateFromRow } from './state-row.js'

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

export interface SqliteDestinationOptions {
  path: string
  hooks?: FaultHooks
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
    db.pragma('journal_mode = WAL')
    // FULL: a committed page survives power loss too, so a saved cursor never runs ahead of its data.
    db.pragma('synchronous = FULL')
    db.pragma('busy_timeout = 5000')
    const marker = db
      .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`)
      .get(SERVER_STORE_MARKER_TABLE)
    if (marker !== undefined) {
      throw new DestinationError(
        `"${options.path}" is a chat-export server store, not a sync destination. Sync into a separate database file.`,
      )
    }
    db.exec(SCHEMA)
  } catch (error) {
    db.close()
    throw error
  }
  return Promise.resolve(new SqliteDestination(db, options.path, options.hooks))
}

class SqliteDestination implements Destination {
  readonly description: string
  private readonly upsertStatements: Record<ExportStream, Database.Statement>
  private readonly deleteStatements: Record<ExportStream, Database.Statement>
  private readonly writeState: Database.Statement
  private readonly readStateStatement: Database.Statement
  private readonly commitTx: (page: PageCommit) => void

  constructor(
    private readonly db: Database.Database,
    path: string,
    private readonly hooks: FaultHooks | undefined,
  ) {
    this.description = `sqlite:${path}`
    const idUpsert = (table: string) =>
      db.prepare(
        `INSERT INTO ${table} (id, deleted, data) VALUES (?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET deleted = excluded.deleted, data = excluded.data`,
      )
    const idDelete = (table: string) => db.prepare(`DELETE FROM ${table} WHERE id = ?`)
    this.upsertStatements = {
      chats: idUpsert('chats'),
      conversions: idUpsert('conversions'),
      department_events: idUpsert('department_events'),
      agent_events: idUpsert('agent_events'),
      agent_timeline: db.prepare(
        `INSERT INTO agent_timeline (agent_id, start_time, deleted, data) VALUES (?, ?, ?, ?)
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
    const upsert = this.upsertStatements[page.stream]
    const remove = this.deleteStatements[page.stream]
    page.upserts.forEach(({ key, json: data, deleted }, index) => {
      const flag = deleted ? 1 : 0
      if (key.kind === 'span') upsert.run(key.agentId, key.startTime, flag, data)
      else upsert.run(key.id, flag, data)
      if (index === 0) this.hooks?.at('sqlite:after-first-item')
    })
    for (const key of page.removals) {
      if (key.kind === 'span') remove.run(key.agentId, key.startTime)
      else remove.run(key.id)
    }
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
}
