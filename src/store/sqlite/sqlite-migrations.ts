/**
 * SQLite schema migrations: numbered, applied in order, each recorded in `schema_migrations`, so that
 * `migrate()` is safe to run on every start and an old binary refuses a database it does not know.
 * @module
 */
import type Database from 'better-sqlite3'
import type { Micros } from '../../domain/time.js'

export interface SqliteMigration {
  version: number
  name: string
  sql: string
}

/**
 * Every table is STRICT, so a wrong type (a position written as text, a body as a number) is an
 * error instead of a silently coerced value. Every table except the token lookup by prefix is keyed
 * by account first: every query is scoped by account, and the indexes make that the cheap path.
 */
export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE accounts (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE tokens (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        prefix TEXT NOT NULL UNIQUE,
        hash BLOB NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('owner', 'administrator', 'agent')),
        scopes TEXT NOT NULL,
        label TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER,
        revoked_at INTEGER
      ) STRICT;
      CREATE INDEX tokens_by_account ON tokens(account_id, id);

      -- The account's position sequencer: read and advanced only while holding the write lock.
      CREATE TABLE account_clock (
        account_id INTEGER PRIMARY KEY REFERENCES accounts(id),
        last_position INTEGER NOT NULL
      ) STRICT;

      -- body is the item's JSON text as UTF-8 bytes: pages splice it without parsing.
      CREATE TABLE items (
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        stream TEXT NOT NULL,
        item_key TEXT NOT NULL,
        sort_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        body BLOB NOT NULL,
        PRIMARY KEY (account_id, stream, item_key)
      ) STRICT;
      -- Serves every page query (a range scan in cursor order) and the high-water mark.
      CREATE INDEX items_by_cursor ON items(account_id, stream, position, sort_id);

      CREATE TABLE state (
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (account_id, kind, key)
      ) STRICT, WITHOUT ROWID;

      -- position: the transaction that recorded the event (lets old entries be pruned by age).
      CREATE TABLE seen_events (
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        event_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (account_id, event_id)
      ) STRICT, WITHOUT ROWID;
    `,
  },
  {
    version: 2,
    name: 'item summaries',
    // NULL for rows written before (and items written without one): pages then read the body.
    sql: `
      -- summary: the item's small attributes as JSON (UTF-8 bytes), read by selective projections.
      ALTER TABLE items ADD COLUMN summary BLOB;
    `,
  },
  {
    version: 3,
    name: 'directory',
    sql: `
      -- The REST directory resources (agents, departments, ...) as wire JSON, one row per record.
      CREATE TABLE directory (
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        numeric_id INTEGER,
        lookup TEXT,
        body TEXT NOT NULL,
        PRIMARY KEY (account_id, kind, id)
      ) WITHOUT ROWID;
      CREATE INDEX directory_by_number ON directory (account_id, kind, numeric_id, id);
      CREATE INDEX directory_by_lookup ON directory (account_id, kind, lookup)
        WHERE lookup IS NOT NULL;
      -- The last id handed out per kind, so a deleted record's id is never handed out again.
      CREATE TABLE directory_ids (
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        kind TEXT NOT NULL,
        last_id INTEGER NOT NULL,
        PRIMARY KEY (account_id, kind)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 4,
    name: 'oauth',
    sql: `
      -- OAuth clients; the secret only as its SHA-256 (shown once, at creation).
      CREATE TABLE oauth_clients (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        identifier TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        company TEXT NOT NULL,
        redirect_uris TEXT NOT NULL,
        client_type TEXT NOT NULL CHECK (client_type IN ('public', 'confidential')),
        secret_hash BLOB NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('owner', 'administrator', 'agent')),
        scopes TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX oauth_clients_by_account ON oauth_clients(account_id, id);

      -- One-time authorization codes, found by their public prefix, kept as SHA-256.
      CREATE TABLE oauth_codes (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        client_id INTEGER NOT NULL,
        prefix TEXT NOT NULL UNIQUE,
        hash BLOB NOT NULL,
        redirect_uri TEXT NOT NULL,
        scope TEXT NOT NULL,
        role TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER
      ) STRICT;

      -- Issued OAuth tokens: the access token is a tokens row; the refresh token a SHA-256 here.
      CREATE TABLE oauth_grants (
        id INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        client_id INTEGER NOT NULL,
        access_token_id INTEGER NOT NULL REFERENCES tokens(id),
        refresh_prefix TEXT NOT NULL UNIQUE,
        refresh_hash BLOB NOT NULL,
        scope TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      ) STRICT;
      CREATE INDEX oauth_grants_by_account ON oauth_grants(account_id, id);
    `,
  },
]

/**
 * Applies the migrations `db` lacks. The caller must hold the write lock (inside `BEGIN IMMEDIATE`),
 * so two processes starting together cannot both apply the same migration.
 */
export function applySqliteMigrations(db: Database.Database, now: Micros): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`)
  const applied = new Set(
    db
      .prepare('SELECT version FROM schema_migrations')
      .pluck()
      .all()
      .map((v) => Number(v)),
  )
  const known = new Set(SQLITE_MIGRATIONS.map((m) => m.version))
  const unknown = [...applied].filter((v) => !known.has(v))
  if (unknown.length > 0) {
    throw new Error(
      `The database has schema version ${Math.max(...unknown)}, newer than this chat-export knows ` +
        `(${Math.max(...known)}). Upgrade chat-export, or point it at another database file.`,
    )
  }
  const record = db.prepare(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  )
  for (const migration of SQLITE_MIGRATIONS) {
    if (applied.has(migration.version)) continue
    db.exec(migration.sql)
    record.run(migration.version, migration.name, now)
  }
}
