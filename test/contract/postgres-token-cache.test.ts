/**
 * The PostgreSQL store's token cache (src/store/postgres/postgres-token-cache.ts): a request need
 * not look its token up in the database every time, yet a revocation by this process or by any
 * other counts as soon as it commits. Two stores on one database stand for two processes (a
 * server and `chat-export tokens revoke`); the trigger of migration 6 is switched off by hand to
 * show which path (this process's own invalidation, the notification, a lost listener) does it.
 */
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { issueToken } from '../../src/auth/tokens.js'
import { ManualClock } from '../../src/domain/clock.js'
import type { PostgresStore } from '../../src/store/postgres/postgres-store.js'
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js'
import type { FreshPostgresDatabase } from '../support/postgres.js'
import { freshPostgresDatabase, postgresTestServerAvailable } from '../support/postgres.js'

const T0 = 1_700_000_000_000_000

async function waitFor(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe.skipIf(!postgresTestServerAvailable())('postgres token cache', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  async function open(url: string): Promise<PostgresStore> {
    const store = await openPostgresStore({ url, clock: new ManualClock(T0) })
    cleanups.push(() => store.close())
    return store
  }

  /** A server store that has cached a token, a second "process", and a superuser connection. */
  async function fixture() {
    const db: FreshPostgresDatabase = await freshPostgresDatabase()
    const server = await open(db.url)
    await server.migrate()
    const other = await open(db.url)
    const admin = new pg.Client({ connectionString: db.adminUrl })
    await admin.connect()
    cleanups.push(() => admin.end())
    const account = await server.createAccount('acme')
    const { record } = await issueToken(server, {
      accountId: account.id,
      role: 'owner',
      scopes: ['read'],
      now: T0,
    })
    await server.getTokenByPrefix(record.prefix)
    await waitFor('the token listener', () => server.tokenCacheListening())
    // Read while listening: now it is held.
    expect((await server.getTokenByPrefix(record.prefix))?.revokedAt).toBeNull()
    const revokedOn = async (store: PostgresStore) =>
      (await store.getTokenByPrefix(record.prefix))?.revokedAt !== null
    const setTrigger = (on: boolean) =>
      admin.query(`ALTER TABLE tokens ${on ? 'ENABLE' : 'DISABLE'} TRIGGER tokens_changed`)
    return { server, other, admin, account, record, revokedOn, setTrigger }
  }

  it('serves a held token without the database, so a change nobody announces is not seen', async () => {
    const f = await fixture()
    await f.setTrigger(false)
    expect(await f.other.revokeToken(f.account.id, f.record.id, T0 + 1)).toBe(true)
    expect(await f.revokedOn(f.other)).toBe(true)
    // The held record: the proof that the cache is used (and why the trigger must exist).
    expect(await f.revokedOn(f.server)).toBe(false)
  })

  it('forgets a token another process revokes, as soon as PostgreSQL announces it', async () => {
    const f = await fixture()
    expect(await f.other.revokeToken(f.account.id, f.record.id, T0 + 1)).toBe(true)
    await waitFor('the revocation to reach the server', () => f.revokedOn(f.server))
  })

  it("counts this process's own revocation at once, without the announcement", async () => {
    const f = await fixture()
    await f.setTrigger(false)
    expect(await f.server.revokeToken(f.account.id, f.record.id, T0 + 1)).toBe(true)
    expect(await f.revokedOn(f.server)).toBe(true)
  })

  it('reads every token from the database while its listener is lost, and listens again', async () => {
    const f = await fixture()
    await f.setTrigger(false)
    expect(await f.other.revokeToken(f.account.id, f.record.id, T0 + 1)).toBe(true)
    await f.admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'chat-export token listener'`,
    )
    await waitFor('the listener to be lost', () => !f.server.tokenCacheListening())
    expect(await f.revokedOn(f.server)).toBe(true)
    await waitFor('the listener to come back', () => f.server.tokenCacheListening())
  })
})
