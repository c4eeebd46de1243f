/**
 * The SQLite store's read workers (src/store/sqlite/sqlite-read-pool.ts): pages read in worker
 * threads see every commit made before the read, a worker that dies is replaced without the
 * server failing more than the pages it held, and closing the store leaves no thread behind.
 * That their pages equal the main thread's is the store contract's job (its "2 read workers"
 * variant).
 */
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/domain/clock.js'
import { AppError } from '../../src/domain/errors.js'
import { SqliteReadPool } from '../../src/store/sqlite/sqlite-read-pool.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { Store } from '../../src/store/store.js'
import { runModuleScript } from '../support/module-script.js'
import { scratch } from '../support/scratch.js'

const T0 = 1_700_000_000_000_000
const DIST_STORE = fileURLToPath(
  new URL('../../dist/store/sqlite/sqlite-store.js', import.meta.url),
)

const temp = scratch('chat-export-pool-')

function tempPath(): string {
  const dir = temp.dir()
  return join(dir, 'pool.db')
}

/** A migrated store on a new file, closed after the test. */
async function openStore(path: string, readWorkers: number): Promise<Store> {
  const store = await openSqliteStore({ path, clock: new ManualClock(T0), readWorkers })
  temp.closeAfter(() => store.close())
  await store.migrate()
  return store
}

/** A read pool on `path`, closed after the test. */
function openPool(path: string, workers: number): SqliteReadPool {
  const pool = new SqliteReadPool({ path, workers, busyTimeoutMs: 1000 })
  temp.closeAfter(() => pool.close())
  return pool
}

async function putChat(store: Store, accountId: number, key: string, text: string): Promise<void> {
  await store.write(accountId, async (tx) => {
    await tx.putItem('chats', { key, sortId: key, position: tx.position, body: text })
  })
}

const firstPage = (accountId: number, limit = 100) =>
  ['fromPosition', 'full', [accountId, 'chats', 0, Number.MAX_SAFE_INTEGER, limit]] as const

/** Waits until `check` holds (polling), for at most 5 s. */
async function eventually(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('SQLite read workers', () => {
  it('see every write committed before the read, each through either worker', async () => {
    const store = await openStore(tempPath(), 2)
    const { id } = await store.createAccount('acme')
    for (let i = 0; i < 20; i++) {
      await putChat(store, id, `c${i}`, JSON.stringify({ id: `c${i}`, version: i }))
      // Two reads at once: with two workers, each goes to its own.
      const [a, b] = await Promise.all([
        store.readPage({
          accountId: id,
          stream: 'chats',
          afterPosition: 0,
          afterSortId: null,
          limit: 100,
        }),
        store.readPage({
          accountId: id,
          stream: 'chats',
          afterPosition: 0,
          afterSortId: null,
          limit: 100,
        }),
      ])
      for (const rows of [a, b]) {
        expect(rows).toHaveLength(i + 1)
        expect(JSON.parse(rows.at(-1)?.body.toString('utf8') ?? '')).toEqual({
          id: `c${i}`,
          version: i,
        })
      }
    }
  })

  it("return a page's bodies as views of one buffer, not a copy per row", async () => {
    const path = tempPath()
    const store = await openStore(path, 0)
    const { id } = await store.createAccount('acme')
    for (const key of ['a', 'b', 'c']) await putChat(store, id, key, `{"id":"${key}"}`)
    const pool = openPool(path, 1)
    const rows = await pool.readPage(...firstPage(id))
    expect(rows.map((r) => r.body.toString('utf8'))).toEqual([
      '{"id":"a"}',
      '{"id":"b"}',
      '{"id":"c"}',
    ])
    expect(new Set(rows.map((r) => r.body.buffer)).size).toBe(1)
  })

  it('replace a worker that was killed, and the next read succeeds', async () => {
    const path = tempPath()
    const store = await openStore(path, 0)
    const { id } = await store.createAccount('acme')
    await putChat(store, id, 'c1', '{"id":"c1"}')
    const pool = openPool(path, 1)
    expect(await pool.readPage(...firstPage(id))).toHaveLength(1)
    await pool.terminateWorker(0)
    expect(await pool.readPage(...firstPage(id))).toHaveLength(1)
    expect(pool.threads).toBe(1)
  })

  it('fail the pages a dying worker held with STORE_UNAVAILABLE, then serve again', async () => {
    const path = tempPath()
    const store = await openStore(path, 0)
    const { id } = await store.createAccount('acme')
    await putChat(store, id, 'c1', '{"id":"c1"}')
    const pool = openPool(path, 1)
    // The worker is still starting: the page is sent to it and cannot have been answered yet.
    const held = pool.readPage(...firstPage(id))
    await pool.terminateWorker(0)
    const error: unknown = await held.then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(AppError)
    expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE', retryAfterSeconds: 1 })
    expect((error as AppError).description).not.toMatch(/SQLITE|at |exit code/i)
    await eventually(() => pool.threads === 1)
    expect(await pool.readPage(...firstPage(id))).toHaveLength(1)
  })

  it("raise the driver's errors as the reader in the main thread does", async () => {
    // A file without the tables: "no such table", the driver's own error, not STORE_UNAVAILABLE.
    const path = tempPath()
    new Database(path).close()
    const pool = openPool(path, 1)
    const error: unknown = await pool.readPage(...firstPage(1)).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(Database.SqliteError)
    expect(error).toMatchObject({
      code: 'SQLITE_ERROR',
      message: expect.stringMatching(/no such table: items/),
    })
  })

  it('stop every thread on close, and refuse reads after it', async () => {
    const path = tempPath()
    await openStore(path, 0)
    const pool = openPool(path, 2)
    const reads = [pool.readPage(...firstPage(1)), pool.readPage(...firstPage(1))]
    await pool.close()
    // Reads asked for before close are answered, not dropped.
    expect(await Promise.all(reads)).toEqual([[], []])
    expect(pool.threads).toBe(0)
    await expect(pool.readPage(...firstPage(1))).rejects.toThrow(/closed/)
  })

  it('let the process exit after close, and while idle even without it (built dist/)', async () => {
    const path = tempPath()
    const seed = await openStore(path, 0)
    const { id } = await seed.createAccount('acme')
    await putChat(seed, id, 'c1', '{"id":"c1"}')
    const script = (close: boolean) => `
      import { openSqliteStore } from ${JSON.stringify(pathToFileURL(DIST_STORE).href)}
      const store = await openSqliteStore({
        path: ${JSON.stringify(path)},
        clock: { now: () => ${T0 + 1_000_000} },
        readWorkers: 2,
      })
      const rows = await store.readPage({
        accountId: ${id}, stream: 'chats', afterPosition: 0, afterSortId: null, limit: 10,
      })
      process.stdout.write('rows ' + rows.length)
      ${close ? 'await store.close()' : ''}
    `
    for (const close of [true, false]) {
      const { code, out } = await runModuleScript(script(close), `close: ${close}`)
      expect({ close, code, out }).toEqual({ close, code: 0, out: 'rows 1' })
    }
  })
})
