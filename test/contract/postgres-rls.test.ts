/**
 * Tenant isolation in PostgreSQL below the application: row-level security must hide another
 * account's rows from the application role even when a query forgets `WHERE account_id = ...`.
 * Real server, real roles; queries are sent by hand over the store's own login.
 */
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/domain/clock.js'
import type { PostgresStore } from '../../src/store/postgres/postgres-store.js'
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js'
import type { FreshPostgresDatabase } from '../support/postgres.js'
import { freshPostgresDatabase, postgresTestServerAvailable } from '../support/postgres.js'

const T0 = 1_700_000_000_000_000
const APP_ROLE = 'chat_export_app'
const TENANT_TABLES = [
  'tokens',
  'account_clock',
  'items',
  'state',
  'seen_events',
  'directory',
  'directory_ids',
  'oauth_clients',
  'oauth_codes',
  'oauth_grants',
] as const

interface Fixture {
  db: FreshPostgresDatabase
  store: PostgresStore
  a: number
  b: number
}

describe.skipIf(!postgresTestServerAvailable())('postgres row-level security', () => {
  const cleanups: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
  })

  async function client(url: string): Promise<pg.Client> {
    const c = new pg.Client({ connectionString: url })
    await c.connect()
    cleanups.push(() => c.end())
    return c
  }

  /** Two accounts with rows in every account-scoped table. */
  async function fixture(): Promise<Fixture> {
    const db = await freshPostgresDatabase()
    const store = await openPostgresStore({ url: db.url, clock: new ManualClock(T0) })
    cleanups.push(() => store.close())
    await store.migrate()
    const a = (await store.createAccount('acme')).id
    const b = (await store.createAccount('globex')).id
    for (const [accountId, name] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      await store.insertToken({
        accountId,
        prefix: `cx_${name}`,
        hash: Buffer.alloc(32, name),
        role: 'owner',
        scopes: ['read'],
        label: null,
        createdAt: T0,
        expiresAt: null,
      })
      await store.write(accountId, async (tx) => {
        for (const key of ['1', '2', '3']) {
          await tx.putItem('chats', {
            key: `${name}${key}`,
            sortId: `${name}${key}`,
            position: tx.position,
            body: JSON.stringify({ id: `${name}${key}` }),
          })
        }
        await tx.putState('queue', 'd1', `"${name}"`)
        await tx.markEvent(`evt-${name}`)
      })
      // The directory tables (migration 3): a record and an allocated id per account.
      await store.directory?.writeDirectory(accountId, async (tx) => {
        const id = await tx.allocateId('agent')
        await tx.putEntry('agent', { id: String(id), numericId: id, lookup: name, body: '{}' })
      })
      // The OAuth tables (migration 4): a client, a code and a grant per account.
      const oauth = store.oauth
      const client = await oauth.createClient({
        accountId,
        identifier: `cxc_${accountId}_${name.repeat(16)}`,
        name,
        company: '',
        redirectUris: ['https://example.com/cb'],
        clientType: 'public',
        secretHash: Buffer.alloc(32, name),
        role: 'owner',
        scopes: ['read'],
        createdAt: T0,
        updatedAt: T0,
      })
      await oauth.insertCode({
        accountId,
        clientId: client.id,
        prefix: `code_${name}`,
        hash: Buffer.alloc(32, name),
        redirectUri: 'https://example.com/cb',
        scope: 'read',
        role: 'owner',
        createdAt: T0,
        expiresAt: T0 + 1,
      })
      await oauth.issueGrant(
        accountId,
        {
          clientId: client.id,
          access: {
            accountId,
            prefix: `oauth_${name}`,
            hash: Buffer.alloc(32, name),
            role: 'owner',
            scopes: ['read'],
            label: null,
            createdAt: T0,
            expiresAt: null,
          },
          refreshPrefix: `refresh_${name}`,
          refreshHash: Buffer.alloc(32, name),
          scope: 'read',
        },
        T0,
      )
    }
    return { db, store, a, b }
  }

  /** A connection of the store's login that has switched to the application role. */
  async function appConnection(db: FreshPostgresDatabase): Promise<pg.Client> {
    const c = await client(db.url)
    await c.query(`SET ROLE ${APP_ROLE}`)
    return c
  }

  async function accountIdsIn(c: pg.ClientBase, table: string): Promise<number[]> {
    // Deliberately no WHERE clause: the bug row-level security must contain.
    const { rows } = await c.query<{ account_id: string }>(`SELECT account_id FROM ${table}`)
    return rows.map((r) => Number(r.account_id))
  }

  it('runs the store’s data access as a role that owns nothing and cannot bypass policies', async () => {
    const { db, store } = await fixture()
    expect(await store.sessionInfo()).toEqual({
      sessionUser: 'chat_export_test',
      currentUser: APP_ROLE,
      rowSecurityActive: true,
    })

    const admin = await client(db.adminUrl)
    const role = await admin.query(
      'SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = $1',
      [APP_ROLE],
    )
    expect(role.rows).toEqual([{ rolsuper: false, rolbypassrls: false, rolcanlogin: false }])
    const tables = await admin.query<{ relname: string; owner: string; forced: boolean }>(
      `SELECT c.relname, pg_get_userbyid(c.relowner) AS owner, c.relforcerowsecurity AS forced
       FROM pg_class c WHERE c.relname = ANY($1) ORDER BY c.relname`,
      [[...TENANT_TABLES]],
    )
    expect(tables.rows).toHaveLength(TENANT_TABLES.length)
    for (const table of tables.rows) {
      expect(table.owner, table.relname).toBe('chat_export_test')
      expect(table.forced, table.relname).toBe(true)
    }
  })

  it('shows a query without WHERE account_id only the rows of the transaction’s account', async () => {
    const { db, a, b } = await fixture()
    const admin = await client(db.adminUrl)
    const app = await appConnection(db)

    for (const table of TENANT_TABLES) {
      // The superuser (not subject to policies) sees both accounts: the rows are really there.
      const all = await accountIdsIn(admin, table)
      expect(new Set(all), table).toEqual(new Set([a, b]))

      for (const accountId of [a, b]) {
        await app.query('BEGIN')
        await app.query(`SET LOCAL chat_export.account_id = '${accountId}'`)
        const visible = await accountIdsIn(app, table)
        await app.query('COMMIT')
        expect(visible.length, table).toBe(all.filter((id) => id === accountId).length)
        expect(new Set(visible), table).toEqual(new Set([accountId]))
      }
    }
  })

  it('shows nothing when no account is set, also on a connection that had one set before', async () => {
    const { db, a } = await fixture()
    const app = await appConnection(db)
    for (const table of TENANT_TABLES) expect(await accountIdsIn(app, table), table).toEqual([])

    await app.query('BEGIN')
    await app.query(`SET LOCAL chat_export.account_id = '${a}'`)
    expect((await accountIdsIn(app, 'items')).length).toBeGreaterThan(0)
    await app.query('COMMIT')
    // SET LOCAL ended with the transaction: the pooled connection does not keep the tenant.
    for (const table of TENANT_TABLES) expect(await accountIdsIn(app, table), table).toEqual([])
  })

  it('refuses writes into another account and limits blanket updates to the current one', async () => {
    const { db, a, b } = await fixture()
    const admin = await client(db.adminUrl)
    const app = await appConnection(db)
    await app.query('BEGIN')
    await app.query(`SET LOCAL chat_export.account_id = '${a}'`)
    await expect(
      app.query(
        `INSERT INTO items (account_id, stream, item_key, sort_id, position, body)
         VALUES ($1, 'chats', 'planted', 'planted', 1, '{}')`,
        [b],
      ),
    ).rejects.toMatchObject({ code: '42501' })
    await app.query('ROLLBACK')

    await app.query('BEGIN')
    await app.query(`SET LOCAL chat_export.account_id = '${a}'`)
    const updated = await app.query(`UPDATE items SET body = '{"id":"overwritten"}'`)
    expect(updated.rowCount).toBe(3)
    await app.query('COMMIT')
    const bBodies = await admin.query<{ body: string }>(
      'SELECT body FROM items WHERE account_id = $1 ORDER BY item_key',
      [b],
    )
    expect(bBodies.rows.map((r) => r.body)).toEqual(['{"id":"b1"}', '{"id":"b2"}', '{"id":"b3"}'])

    // Rows cannot be moved to another account either.
    await app.query('BEGIN')
    await app.query(`SET LOCAL chat_export.account_id = '${a}'`)
    await expect(app.query('UPDATE state SET account_id = $1', [b])).rejects.toMatchObject({
      code: '42501',
    })
    await app.query('ROLLBACK')
  })

  it('lets a token lookup by prefix see that one token and change nothing', async () => {
    const { db, store, a } = await fixture()
    const app = await appConnection(db)
    await app.query('BEGIN')
    await app.query("SET LOCAL chat_export.token_prefix = 'cx_a'")
    const visible = await app.query<{ prefix: string; account_id: string }>(
      'SELECT prefix, account_id FROM tokens',
    )
    expect(visible.rows).toEqual([{ prefix: 'cx_a', account_id: String(a) }])
    // The lookup policy is SELECT-only: the token cannot be revoked or altered through it.
    expect((await app.query('UPDATE tokens SET revoked_at = 1')).rowCount).toBe(0)
    expect(await accountIdsIn(app, 'items')).toEqual([])
    await app.query('COMMIT')
    expect((await store.getTokenByPrefix('cx_a'))?.revokedAt).toBeNull()
    expect((await store.getTokenByPrefix('cx_b'))?.prefix).toBe('cx_b')
    // The prefix comes from the Authorization header: quoting it must hold.
    for (const hostile of [
      "cx_a' OR true --",
      `x'; SET LOCAL chat_export.account_id = '${a}`,
      "cx_a\\' ",
      'cx_\0a',
    ]) {
      expect(await store.getTokenByPrefix(hostile), hostile).toBeUndefined()
    }
  })

  it('gives the application role no way to switch the policies off', async () => {
    const { db } = await fixture()
    const app = await appConnection(db)
    await expect(app.query('ALTER TABLE items DISABLE ROW LEVEL SECURITY')).rejects.toMatchObject({
      code: '42501',
    })
    await expect(app.query('ALTER TABLE items NO FORCE ROW LEVEL SECURITY')).rejects.toMatchObject({
      code: '42501',
    })
    await expect(app.query('DROP POLICY items_tenant ON items')).rejects.toMatchObject({
      code: '42501',
    })
    await app.query('SET row_security = off')
    await expect(app.query('SELECT count(*) FROM items')).rejects.toMatchObject({ code: '42501' })
  })

  it('keeps the policies when the store logs in as a superuser', async () => {
    const db = await freshPostgresDatabase()
    const store = await openPostgresStore({ url: db.adminUrl, clock: new ManualClock(T0) })
    cleanups.push(() => store.close())
    await store.migrate()
    const info = await store.sessionInfo()
    expect(info.sessionUser).not.toBe(APP_ROLE)
    expect(info).toMatchObject({ currentUser: APP_ROLE, rowSecurityActive: true })

    const a = (await store.createAccount('acme')).id
    const b = (await store.createAccount('globex')).id
    await store.write(a, (tx) =>
      tx.putItem('chats', { key: 'x', sortId: 'x', position: tx.position, body: '{"id":"x"}' }),
    )
    expect(await store.write(b, (tx) => tx.getItem('chats', 'x'))).toBeUndefined()
  })

  it('refuses an application role that bypasses row-level security', async () => {
    const db = await freshPostgresDatabase()
    const admin = await client(db.adminUrl)
    const risky = `ce_bypass_${process.pid}_${Date.now()}`
    await admin.query(`CREATE ROLE ${risky} NOLOGIN BYPASSRLS`)
    cleanups.push(async () => {
      await admin.query(`DROP ROLE IF EXISTS ${risky}`)
    })
    const store = await openPostgresStore({
      url: db.url,
      clock: new ManualClock(T0),
      appRole: risky,
    })
    cleanups.push(() => store.close())
    await expect(store.migrate()).rejects.toThrow(/BYPASSRLS/)
  })
})
