/**
 * Opens the store named by a `--store` URL: `sqlite:PATH` (the embedded default) or
 * `postgres://...` / `postgresql://...`.
 * @module
 */
import type { Clock } from '../domain/clock.js'
import type { Store } from './store.js'

export interface OpenStoreOptions {
  clock: Clock
  /**
   * SQLite: worker threads that read pages (default 0: in this thread). `serve` passes its
   * `--read-workers`; the other commands open the store briefly and read pages in this thread.
   * PostgreSQL's pages already run on its server, so it ignores this.
   */
  readWorkers?: number | undefined
  /**
   * SQLite: WAL checkpoints in a worker thread instead of inside commits (sqlite-checkpointer.ts).
   * `serve` turns it on; short-lived commands keep SQLite's automatic checkpoints.
   */
  checkpointInWorker?: boolean | undefined
}

/** Opens (and migrates) the store at `url`. */
export async function openStore(url: string, options: OpenStoreOptions): Promise<Store> {
  let store: Store
  if (url.startsWith('sqlite:')) {
    const { openSqliteStore } = await import('./sqlite/sqlite-store.js')
    store = await openSqliteStore({
      path: url.slice('sqlite:'.length),
      clock: options.clock,
      readWorkers: options.readWorkers ?? 0,
      checkpointInWorker: options.checkpointInWorker ?? false,
    })
  } else if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { openPostgresStore } = await import('./postgres/postgres-store.js')
    store = await openPostgresStore({ url, clock: options.clock })
  } else {
    throw new Error(
      `Unsupported store URL "${url}". Use sqlite:PATH (for example sqlite:./data/chat-export.db) or postgres://USER:PASSWORD@HOST:PORT/DATABASE.`,
    )
  }
  await store.migrate()
  return store
}
