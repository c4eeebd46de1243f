/**
 * Projections over real HTTP: whatever `fields` names, a page holds exactly the bytes of projecting
 * each whole chat as `fields=chats(*)` serves it, whether the server read each chat's small
 * summary or the whole item. Chats come from imports and from live ingest (both store summaries)
 * and from a database written before summaries existed (none stored: the whole item is read).
 */
import Database from 'better-sqlite3'
import fc from 'fast-check'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { syntheticChats } from '../../src/bench/bench-data.js'
import type { Clock } from '../../src/domain/clock.js'
import { ManualClock } from '../../src/domain/clock.js'
import { CHAT_ATTRIBUTES } from '../../src/domain/chat-attributes.js'
import { parseFields, projectItem } from '../../src/domain/fields.js'
import { CHAT_SUMMARY_OMITS, streamSpec } from '../../src/domain/streams.js'
import { parseIso } from '../../src/domain/time.js'
import { createDirectory } from '../../src/simulate/directory.js'
import { simulate } from '../../src/simulate/simulate-day.js'
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import type { Store } from '../../src/store/store.js'
import type { Harness } from '../support/harness.js'
import { exampleItems, startHarness } from '../support/harness.js'
import { freshPostgresDatabase } from '../support/postgres.js'
import type { StoreBackend, StoreHandle } from '../support/stores.js'
import { storeBackends } from '../support/stores.js'

const NOW = Date.UTC(2026, 10, 27) * 1000
const CHATS = streamSpec('chats')
const PAGE = '/api/v2/chat/incremental/chats'

/** Chats of every shape at hand: the reference examples, synthetic chats like the benchmark's. */
function importedChats(seed: number): Record<string, unknown>[] {
  const synthetic = syntheticChats(20, NOW - 3_600_000_000, seed) as Record<string, unknown>[]
  // A chat whose attributes come in an unusual order, with one the reference does not know.
  const reordered = { ...Object.fromEntries(Object.entries(synthetic[0]!).reverse()), note: 'x' }
  // Ids start with the seed, so tests can tell apart the chats of each call.
  return [...exampleItems('chats'), ...synthetic, reordered].map((chat, i) => ({
    ...chat,
    id: `${seed}.${i}`,
  }))
}

/** A few hours of a simulated team's events: chats folded from live activity. */
function simulatedEvents(): unknown[] {
  const directory = createDirectory({ seed: 5, accountNumber: 9339545, agents: 4 })
  const start = parseIso('2026-11-24T08:00:00Z')!
  return [...simulate({ seed: 5, directory, start, end: start + 3 * 3_600_000_000, drain: true })]
}

/** A `fields` value naming attributes of the Chat object, nested ones included. */
const selectionArb: fc.Arbitrary<string> = fc
  .array(
    fc.constantFrom(...Object.keys(CHAT_ATTRIBUTES)).chain((name) => {
      const children = CHAT_ATTRIBUTES[name]
      if (children === null || children === undefined) return fc.constant(name)
      const names = Object.keys(children)
      return fc.oneof(
        fc.constant(name),
        fc.constant(`${name}.*`),
        fc.constantFrom(...names).map((child) => `${name}.${child}`),
        fc
          .uniqueArray(fc.constantFrom(...names), { minLength: 1, maxLength: 3 })
          .map((list) => `${name}(${list.join(',')})`),
      )
    }),
    { minLength: 1, maxLength: 5 },
  )
  .map((paths) => `chats(${paths.join(',')})`)

const FIXED_SELECTIONS = [
  'chats(id,rating,response_time.max)',
  'chats(id)',
  'chats(update_timestamp,deleted,type)',
  'chats(visitor(id,name),session.*,count.total)',
  'chats(message,comment,started_by)',
  'chats(history.msg)',
  'chats(id,engagements(rating,response_time.max))',
  'chats(conversions,webpath)',
]

/** The items part of a page's bytes: between `{"chats":[` and `],"count":`. */
function itemsText(page: string): string {
  const head = '{"chats":['
  expect(page.startsWith(head)).toBe(true)
  return page.slice(head.length, page.lastIndexOf('],"count":'))
}

async function pageText(h: Harness, token: string, fields: string): Promise<string> {
  const res = await h.get(`${PAGE}?limit=1000&fields=${encodeURIComponent(fields)}`, token)
  const text = await res.text()
  expect(res.status, text).toBe(200)
  return text
}

/** Every selection's page equals projecting the whole items, byte for byte, key order included. */
async function expectProjectionsMatch(h: Harness, token: string, runs: number): Promise<void> {
  const whole = JSON.parse(await pageText(h, token, 'chats(*)')) as { chats: unknown[] }
  expect(whole.chats.length).toBeGreaterThan(20)
  const check = async (fields: string) => {
    const selection = parseFields(fields, CHATS)
    const expected = whole.chats.map((chat) => JSON.stringify(projectItem(chat, selection)))
    expect(itemsText(await pageText(h, token, fields)), fields).toBe(expected.join(','))
  }
  for (const fields of FIXED_SELECTIONS) await check(fields)
  await fc.assert(fc.asyncProperty(selectionArb, check), { numRuns: runs })
}

/** What a chat's summary must be: its stored JSON without the omitted attributes, same order. */
function expectedSummary(body: string): string {
  const chat = JSON.parse(body) as Record<string, unknown>
  return JSON.stringify(
    Object.fromEntries(Object.entries(chat).filter(([key]) => !CHAT_SUMMARY_OMITS.has(key))),
  )
}

/** Every stored chat of the account: its body and what a summary page reads for it. */
async function storedChats(store: Store, accountId: number) {
  const query = { accountId, stream: 'chats' as const, afterPosition: 0, afterSortId: null }
  const bodies = await store.readPage({ ...query, limit: 10_000 })
  const summaries = await store.readPage({ ...query, limit: 10_000, body: 'summary' })
  expect(summaries.map((r) => r.sortId)).toEqual(bodies.map((r) => r.sortId))
  return bodies.map((row, i) => ({
    id: row.sortId,
    body: row.body.toString('utf8'),
    read: summaries[i]!.body.toString('utf8'),
  }))
}

/**
 * A backend whose database holds chats written before summaries existed: migrated, taken back to
 * schema version 1 (no summary column), given chats the way the old import stored them, then
 * opened and migrated again, as an upgraded server would.
 */
function upgradedBackend(
  name: 'sqlite' | 'postgres',
  old: Record<string, unknown>[],
  onAccount: (id: number) => void,
): StoreBackend {
  const oldRows = (accountId: number, position: number) =>
    old.map((raw) => {
      const item = CHATS.prepare(raw)
      return [accountId, 'chats', item.key, item.sortId, position, item.render(position).body]
    })
  const insertSql = `INSERT INTO items (account_id, stream, item_key, sort_id, position, body)`
  return {
    name,
    async create(clock: Clock): Promise<StoreHandle> {
      const position = clock.now()
      if (name === 'sqlite') {
        const dir = mkdtempSync(join(tmpdir(), 'chat-export-projection-'))
        const path = join(dir, 'old.db')
        const first = await openSqliteStore({ path, clock })
        await first.migrate()
        const account = await first.createAccount('before-summaries')
        await first.close()
        const db = new Database(path)
        db.exec(
          'ALTER TABLE items DROP COLUMN summary; DELETE FROM schema_migrations WHERE version = 2',
        )
        const insert = db.prepare(`${insertSql} VALUES (?, ?, ?, ?, ?, ?)`)
        for (const row of oldRows(account.id, position)) {
          insert.run(...row.slice(0, 5), Buffer.from(row[5] as string, 'utf8'))
        }
        db.prepare('UPDATE account_clock SET last_position = ? WHERE account_id = ?').run(
          position,
          account.id,
        )
        db.close()
        onAccount(account.id)
        const store = await openSqliteStore({ path, clock })
        await store.migrate()
        return {
          store,
          reopen: () => Promise.reject(new Error('not needed')),
          async cleanup() {
            await store.close()
            rmSync(dir, { recursive: true, force: true })
          },
        }
      }
      const database = await freshPostgresDatabase()
      const first = await openPostgresStore({ url: database.url, clock })
      await first.migrate()
      const account = await first.createAccount('before-summaries')
      await first.close()
      const admin = new pg.Client({ connectionString: database.adminUrl })
      await admin.connect()
      try {
        await admin.query(
          'ALTER TABLE items DROP COLUMN summary; DELETE FROM schema_migrations WHERE version = 2',
        )
        for (const row of oldRows(account.id, position)) {
          await admin.query(`${insertSql} VALUES ($1, $2, $3, $4, $5, $6)`, row)
        }
        await admin.query(
          `INSERT INTO account_clock (account_id, last_position) VALUES ($1, $2)
           ON CONFLICT (account_id) DO UPDATE SET last_position = EXCLUDED.last_position`,
          [account.id, position],
        )
      } finally {
        await admin.end()
      }
      onAccount(account.id)
      const store = await openPostgresStore({ url: database.url, clock })
      await store.migrate()
      return {
        store,
        reopen: () => Promise.reject(new Error('not needed')),
        cleanup: () => store.close(),
      }
    },
  }
}

for (const backend of storeBackends()) {
  describe(`${backend.name}: projections`, () => {
    let h: Harness
    let owner: string
    let accountId: number
    beforeAll(async () => {
      h = await startHarness({ backend, clock: new ManualClock(NOW) })
      const account = await h.account('projection')
      owner = account.owner
      accountId = account.id
      const imported = await h.importLines(account.readWrite, 'chats', importedChats(1))
      expect(imported.status, await imported.text()).toBe(200)
      const events = simulatedEvents()
      // Several batches: chats are folded again, and rewritten, as later events arrive.
      for (let i = 0; i < events.length; i += 400) {
        const res = await fetch(`${h.url}/api/chat-export/v1/events`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${account.readWrite}`,
            'content-type': 'application/json',
          },
          body: JSON.stringify(events.slice(i, i + 400)),
        })
        expect(res.status, await res.text()).toBe(200)
      }
    })
    afterAll(() => h.close())

    it('stores each imported and ingested chat’s summary: its JSON minus the large arrays', async () => {
      const chats = await storedChats(h.store, accountId)
      expect(chats.length).toBeGreaterThan(40)
      for (const chat of chats) {
        // update_timestamp included: the summary is the very item the body is.
        expect(chat.read, chat.id).toBe(expectedSummary(chat.body))
        expect(chat.read.length, chat.id).toBeLessThan(chat.body.length)
      }
    })

    it('gives every selection exactly the bytes of projecting the whole chats', async () => {
      await expectProjectionsMatch(h, owner, 60)
    })
  })

  describe(`${backend.name}: projections over chats stored before summaries existed`, () => {
    let h: Harness
    let owner: string
    let accountId = 0
    beforeAll(async () => {
      const upgraded = upgradedBackend(backend.name, importedChats(2), (id) => (accountId = id))
      h = await startHarness({ backend: upgraded, clock: new ManualClock(NOW) })
      owner = await h.token(accountId, 'owner', ['read'])
      // And some written since: one page mixes rows with and without a summary.
      const writer = await h.token(accountId, 'owner', ['write'])
      const imported = await h.importLines(writer, 'chats', importedChats(3).slice(0, 10))
      expect(imported.status, await imported.text()).toBe(200)
    })
    afterAll(() => h.close())

    it('reads the whole item of the old chats and the summary of the new ones', async () => {
      const chats = await storedChats(h.store, accountId)
      const old = chats.filter((c) => c.id.startsWith('2.'))
      const fresh = chats.filter((c) => c.id.startsWith('3.'))
      expect(old).toHaveLength(23)
      expect(fresh).toHaveLength(10)
      for (const chat of old) expect(chat.read, chat.id).toBe(chat.body)
      for (const chat of fresh) expect(chat.read, chat.id).toBe(expectedSummary(chat.body))
    })

    it('gives every selection exactly the bytes of projecting the whole chats', async () => {
      await expectProjectionsMatch(h, owner, 30)
    })
  })
}
