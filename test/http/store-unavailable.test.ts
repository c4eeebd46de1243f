/**
 * 503: when the store cannot serve (here: another process holds the SQLite write lock for longer
 * than the store waits), the answer is a 503 with Retry-After, and nothing is half-written.
 */
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { systemClock } from '../../src/domain/clock.js'
import type { StoreBackend } from '../support/stores.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { exampleItems, startHarness } from '../support/harness.js'

const dir = mkdtempSync(join(tmpdir(), 'chat-export-503-'))
const path = join(dir, 'locked.db')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const fixedFile: StoreBackend = {
  name: 'sqlite',
  async create(clock) {
    const store = await openSqliteStore({ path, clock })
    await store.migrate()
    return { store, reopen: async () => store, cleanup: () => store.close() }
  },
}

describe('store unavailable', () => {
  it('answers 503 with Retry-After while the database is locked, and writes nothing', async () => {
    const h = await startHarness({ backend: fixedFile, clock: systemClock() })
    try {
      const a = await h.account('locked')
      const other = new Database(path)
      other.exec('BEGIN IMMEDIATE')
      try {
        const res = await h.importLines(a.readWrite, 'chats', exampleItems('chats'))
        expect(res.status).toBe(503)
        expect(res.headers.get('retry-after')).toMatch(/^\d+$/)
        const body = await res.json()
        expect(body.error).toBe('Service Unavailable')
        expect(JSON.stringify(body)).not.toMatch(/SQLITE|sqlite|BEGIN/)
        // Reads still work while a writer holds the lock (WAL).
        expect((await h.get('/api/v2/chat/incremental/chats', a.owner)).status).toBe(200)
      } finally {
        other.exec('ROLLBACK')
        other.close()
      }
      const after = await h.getJson('/api/v2/chat/incremental/chats', a.owner)
      expect(after.count).toBe(0)
      expect((await h.importLines(a.readWrite, 'chats', exampleItems('chats'))).status).toBe(200)
    } finally {
      await h.close()
    }
  }, 30_000)
})
