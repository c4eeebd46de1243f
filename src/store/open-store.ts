/**
 * Opens the store named by a `--store` URL: `sqlite:PATH` (the embedded default) or
 * `postgres://...` / `postgresql://...`.
 * @module
 */
import type { Clock } from '../domain/clock.js'
import type { Store } from './store.js'

export interface OpenStoreOptions {
  clock: Clock
}

/** Opens (and migrates) the store at `url`. */
export async function openStore(url: string, options: OpenStoreOptions): Promise<Store> {
  let store: Store
  if (url.startsWith('sqlite:')) {
    const { openSqliteStore } = await import('./sqlite/sqlite-store.js')
    store = await openSqliteStore({ path: url.slice('sqlite:'.length), clock: options.clock })
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
