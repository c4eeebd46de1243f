/**
 * WAL checkpoints in a worker thread (src/store/sqlite/sqlite-checkpointer.ts): with
 * `checkpointInWorker`, what the server commits reaches the database file itself within about a
 * second, although no commit of the writer checkpoints; without it, small commits stay in the WAL
 * until SQLite's automatic threshold (the control: it shows the file copy below can tell).
 */
import { copyFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/domain/clock.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { Store } from '../../src/store/store.js'
import { runModuleScript } from '../support/module-script.js'
import { scratch } from '../support/scratch.js'

const T0 = 1_700_000_000_000_000
const DIST_STORE = fileURLToPath(
  new URL('../../dist/store/sqlite/sqlite-store.js', import.meta.url),
)

const temp = scratch('chat-export-checkpoint-')

async function open(checkpointInWorker: boolean): Promise<{ store: Store; path: string }> {
  const dir = temp.dir()
  const path = join(dir, 'store.db')
  const store = await openSqliteStore({ path, clock: new ManualClock(T0), checkpointInWorker })
  temp.closeAfter(() => store.close())
  await store.migrate()
  return { store, path }
}

/** The account names in the database file alone (a copy without its WAL), or null: no table. */
function namesInFileAlone(path: string): string[] | null {
  const copy = `${path}.alone`
  copyFileSync(path, copy)
  const db = new Database(copy, { readonly: true })
  try {
    const rows = db.prepare(`SELECT name FROM accounts ORDER BY name`).all() as { name: string }[]
    return rows.map((r) => r.name)
  } catch {
    return null
  } finally {
    db.close()
    rmSync(copy, { force: true })
  }
}

async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  for (;;) {
    if (check()) return true
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('SQLite checkpoints in a worker', () => {
  it('copies committed writes into the database file within about a second', async () => {
    const { store, path } = await open(true)
    await store.createAccount('acme')
    await store.createAccount('globex')
    const copied = await eventually(() => namesInFileAlone(path)?.join(',') === 'acme,globex', 5000)
    expect(copied).toBe(true)
    // And again for a later commit: the worker keeps at it.
    await store.createAccount('initech')
    expect(
      await eventually(() => namesInFileAlone(path)?.join(',') === 'acme,globex,initech', 5000),
    ).toBe(true)
  })

  it('(control) leaves small commits in the WAL when the writer checkpoints for itself', async () => {
    const { store, path } = await open(false)
    await store.createAccount('acme')
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(namesInFileAlone(path) ?? []).not.toContain('acme')
  })

  it('closes cleanly and leaves a file that opens with every commit', async () => {
    const { store, path } = await open(true)
    await store.createAccount('acme')
    await store.close()
    const db = new Database(path, { readonly: true })
    try {
      expect(db.prepare(`SELECT name FROM accounts`).all()).toEqual([{ name: 'acme' }])
    } finally {
      db.close()
    }
  })

  it('lets the process exit while idle, closed or not (built dist/)', async () => {
    const dir = temp.dir()
    const script = (close: boolean) => `
      import { openSqliteStore } from ${JSON.stringify(pathToFileURL(DIST_STORE).href)}
      const store = await openSqliteStore({
        path: ${JSON.stringify(join(dir, 'exit.db'))},
        clock: { now: () => ${T0} },
        checkpointInWorker: true,
      })
      await store.migrate()
      await store.createAccount(${JSON.stringify(close ? 'closed' : 'open')})
      await new Promise((resolve) => setTimeout(resolve, 300))
      process.stdout.write('written')
      ${close ? 'await store.close()' : ''}
    `
    for (const close of [true, false]) {
      const { code, out } = await runModuleScript(script(close), `close: ${close}`)
      expect({ close, code, out }).toEqual({ close, code: 0, out: 'written' })
    }
  })
})
