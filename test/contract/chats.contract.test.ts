/**
 * The chat reader's contract (src/store/directory-port.ts `ChatReader`): each store's own reader,
 * which reads through its chat index, must answer exactly as the reference model (a scan of the
 * chats export stream with the domain's `matchesChatSearch`, test/support/memory-directory.ts)
 * for random chats and random searches; and the index follows every replaced item in the same
 * transaction, across accounts, restarts and an upgrade from a database without the index.
 */
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/domain/clock.js'
import type { ChatSearchQuery } from '../../src/domain/rest/chat-search.js'
import { parseChatSearchQuery } from '../../src/domain/rest/chat-search.js'
import { renderChat, streamSpec } from '../../src/domain/streams.js'
import { formatIso } from '../../src/domain/time.js'
import type { ChatReader } from '../../src/store/directory-port.js'
import type { Store } from '../../src/store/store.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { searchSql } from '../../src/store/sqlite/sqlite-chats.js'
import { chatIndexFilter, MAX_TEXT_SEARCH_CHATS } from '../../src/domain/rest/chat-index.js'
import { AppError } from '../../src/domain/errors.js'
import pg from 'pg'
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js'
import { scanChatReader } from '../support/memory-directory.js'
import { freshPostgresDatabase, postgresTestServerAvailable } from '../support/postgres.js'
import type { StoreHandle } from '../support/stores.js'
import { storeBackends } from '../support/stores.js'

const T0 = 1_700_000_000_000_000
const HOUR = 3_600_000_000
const NAMES = ['Ann Lee', 'bob', 'Çelik', 'Dana']
const TAGS = ['vip', 'Refund', 'bug']
const WORDS = ['hello', 'refund please', 'Danke', 'order 42']

type Chat = Record<string, unknown>

const chatArb = (index: number) =>
  fc
    .record({
      offline: fc.boolean(),
      start: fc.integer({ min: 0, max: 48 }),
      length: fc.option(fc.integer({ min: 0, max: 5 })),
      visitor: fc.constantFrom(...NAMES),
      agents: fc.subarray(NAMES),
      tags: fc.subarray(TAGS),
      rating: fc.constantFrom(null, 'good', 'bad'),
      messages: fc.subarray(WORDS),
      deleted: fc.boolean(),
    })
    .map((c): Chat => ({
      id: `2012.${String(index).padStart(4, '0')}.k`,
      type: c.offline ? 'offline_msg' : 'chat',
      timestamp: formatIso(T0 + c.start * HOUR),
      ...(c.length === null ? {} : { end_timestamp: formatIso(T0 + (c.start + c.length) * HOUR) }),
      visitor: { name: c.visitor, email: `${c.visitor.split(' ')[0]}@Example.com` },
      agent_names: c.agents,
      tags: c.tags,
      rating: c.rating,
      comment: null,
      department_name: 'Sales',
      history: c.messages.map((msg) => ({ type: 'chat.msg', msg })),
      deleted: c.deleted,
    }))

const queryArb: fc.Arbitrary<string> = fc
  .tuple(
    fc.option(
      fc.tuple(
        fc.constantFrom('timestamp', 'end_timestamp'),
        fc.option(fc.integer({ min: 0, max: 50 })),
        fc.option(fc.integer({ min: 0, max: 50 })),
      ),
    ),
    fc.option(fc.constantFrom('type:chat', 'type:offline_msg')),
    fc.option(
      fc.oneof(
        fc.constantFrom(...TAGS).map((t) => `tags:${t.toUpperCase()}`),
        fc.constantFrom(...NAMES).map((n) => `agent_names:"${n}"`),
        fc.constantFrom(...NAMES).map((n) => `visitor_name:"${n.toLowerCase()}"`),
        fc.constantFrom('rating:good', 'rating:bad', 'visitor_email:ann@example.com'),
      ),
    ),
    fc.option(fc.constantFrom('hello', '"refund please"', 'danke', 'ann', 'vip', 'zzz')),
  )
  .map(([range, type, value, text]) => {
    const terms: string[] = []
    if (range) {
      const [field, a, b] = range
      const lo = a === null ? '*' : formatIso(T0 + Math.min(a, b ?? a) * HOUR).replace('Z', '')
      const hi = b === null ? '*' : formatIso(T0 + Math.max(a ?? b, b) * HOUR)
      terms.push(`${field}:[${lo} TO ${hi}]`)
    }
    for (const t of [type, value, text]) if (t !== null) terms.push(t)
    return terms.length === 0 ? 'type:chat' : terms.join(' AND ')
  })

async function putChats(store: Store, accountId: number, chats: readonly Chat[]): Promise<void> {
  const spec = streamSpec('chats')
  await store.write(accountId, async (tx) => {
    for (const chat of chats) {
      await tx.putItem('chats', {
        ...spec.itemIds(chat as { id: string }),
        position: tx.position,
        ...renderChat(chat, tx.position),
      })
    }
  })
}

const ids = (bodies: readonly string[]) => bodies.map((b) => (JSON.parse(b) as Chat)['id'])

for (const backend of storeBackends()) {
  describe(`${backend.name}: chat reader`, () => {
    const clock = new ManualClock(T0 + 100 * HOUR)
    let handle: StoreHandle
    let reader: ChatReader
    let reference: ChatReader
    let a: number
    let b: number

    beforeAll(async () => {
      handle = await backend.create(clock)
      if (!handle.store.chats) throw new Error(`The ${backend.name} store has no chat reader.`)
      reader = handle.store.chats
      reference = scanChatReader(handle.store)
      a = (await handle.store.createAccount('chats-a')).id
      b = (await handle.store.createAccount('chats-b')).id
    })
    afterAll(async () => handle.cleanup())

    it('answers every list, bulk read and search as the reference scan does', async () => {
      const chats = fc.sample(fc.tuple(...Array.from({ length: 60 }, (_, i) => chatArb(i))), {
        numRuns: 1,
        seed: 7,
      })[0] as Chat[]
      await putChats(handle.store, a, chats.slice(0, 30))
      await putChats(handle.store, a, chats.slice(30))
      // The other account holds the same ids with other content: nothing of it may show.
      await putChats(
        handle.store,
        b,
        chats.map((c) => ({ ...c, deleted: false, tags: ['vip'], visitor: { name: 'Other' } })),
      )

      const live = chats.filter((c) => c['deleted'] !== true).map((c) => c['id'])
      for (const limit of [1, 7, 100]) {
        const seen: unknown[] = []
        let after: string | null = null
        for (;;) {
          const page = await reader.listChats(a, after, limit)
          expect(page.length).toBeLessThanOrEqual(limit)
          seen.push(...ids(page))
          if (page.length < limit) break
          after = String(seen[seen.length - 1])
        }
        expect(seen).toEqual([...live].sort())
      }

      const wanted = [String(chats[3]?.['id']), 'nope', String(chats[40]?.['id'])]
      expect([...(await reader.getChats(a, wanted)).keys()].sort()).toEqual(
        [...(await reference.getChats(a, wanted)).keys()].sort(),
      )

      await fc.assert(
        fc.asyncProperty(queryArb, fc.integer({ min: 0, max: 3 }), async (q, page) => {
          const query: ChatSearchQuery = parseChatSearchQuery(q)
          const got = await reader.searchChats(a, query, page * 5, 5)
          const want = await reference.searchChats(a, query, page * 5, 5)
          expect({ q, total: got.total, ids: ids(got.chats) }).toEqual({
            q,
            total: want.total,
            ids: ids(want.chats),
          })
        }),
        { numRuns: 150, seed: 11 },
      )
    })

    it('follows a replaced item: a chat deleted, retagged or re-timed is found as it is now', async () => {
      const id = '2012.9999.z'
      const chat: Chat = {
        id,
        type: 'chat',
        timestamp: formatIso(T0),
        visitor: { name: 'Zed', email: 'zed@x.io' },
        tags: ['old'],
        history: [],
      }
      await putChats(handle.store, a, [chat])
      const search = (q: string) => reader.searchChats(a, parseChatSearchQuery(q), 0, 40)
      expect((await search('tags:old visitor_name:zed')).total).toBe(1)
      await putChats(handle.store, a, [{ ...chat, tags: ['new'], timestamp: formatIso(T0 + HOUR) }])
      expect((await search('tags:old visitor_name:zed')).total).toBe(0)
      expect(
        ids((await search(`tags:new AND timestamp:[${formatIso(T0 + HOUR)} TO *]`)).chats),
      ).toEqual([id])
      // A transaction that fails leaves the index as the items: unchanged.
      await expect(
        handle.store.write(a, async (tx) => {
          await tx.putItem('chats', {
            key: id,
            sortId: id,
            position: tx.position,
            ...renderChat({ ...chat, tags: ['rolled-back'] } as Chat, tx.position),
          })
          throw new Error('abort')
        }),
      ).rejects.toThrow('abort')
      expect((await search('tags:rolled-back')).total).toBe(0)
      await putChats(handle.store, a, [{ ...chat, deleted: true }])
      expect((await search('visitor_name:zed')).total).toBe(0)
      expect(ids(await reader.listChats(a, '2012.9998', 10))).not.toContain(id)
      // Deleted chats are still read by id (the routes answer 404 for them, the export shows them).
      expect(JSON.parse((await reader.getChats(a, [id])).get(id) ?? '{}').deleted).toBe(true)
    })

    it('a reopened store reads the same index', async () => {
      const again = await handle.reopen(clock)
      expect(await again.chats?.listChats(a, null, 1000)).toEqual(
        await reader.listChats(a, null, 1000),
      )
    })
  })
}

describe('sqlite: the chat index is what searches read', () => {
  let dir: string
  let path: string
  let store: Store
  let accountId: number
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'chat-export-index-'))
    path = join(dir, 'index.db')
    store = await openSqliteStore({ path, clock: new ManualClock(T0) })
    await store.migrate()
    accountId = (await store.createAccount('big')).id
    const many: Chat[] = []
    for (let i = 0; i <= MAX_TEXT_SEARCH_CHATS; i++) {
      many.push({
        id: `c${String(i).padStart(6, '0')}`,
        type: 'chat',
        timestamp: formatIso(T0 + i * 1_000_000),
        history: [{ type: 'chat.msg', msg: 'hello' }],
      })
    }
    await putChats(store, accountId, many)
  })
  afterAll(async () => {
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('a time range is a range of a time index, never a scan of the table', () => {
    const raw = new Database(path, { readonly: true })
    try {
      for (const [q, index] of [
        [
          'type:chat AND end_timestamp:[2024-01-01T00:00:00 TO 2024-01-15T00:00:00]',
          'chat_index_by_end',
        ],
        ['timestamp:[2018-09-15T05:00:00Z TO 2019-09-29T05:00:00Z]', 'chat_index_by_timestamp'],
      ] as const) {
        const sql = searchSql(chatIndexFilter(parseChatSearchQuery(q)))
        for (const text of [sql.count, sql.page]) {
          const plan = raw
            .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${text}`)
            .all(accountId, ...sql.params, ...(text === sql.page ? [40, 0] : []))
            .map((r) => r.detail)
          expect(plan.join(' | '), q).toContain(`USING INDEX ${index}`)
          expect(
            plan.some((d) => /^SCAN /.test(d)),
            plan.join(' | '),
          ).toBe(false)
        }
      }
    } finally {
      raw.close()
    }
  })

  it('free text over more chats than the bound is refused; within a window it is served', async () => {
    const reader = store.chats!
    const refused = await reader
      .searchChats(accountId, parseChatSearchQuery('hello'), 0, 40)
      .catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(AppError)
    expect((refused as AppError).code).toBe('INVALID_SEARCH_QUERY')
    const windowed = await reader.searchChats(
      accountId,
      parseChatSearchQuery(
        `hello AND timestamp:[${formatIso(T0)} TO ${formatIso(T0 + 99_000_000)}]`,
      ),
      0,
      40,
    )
    expect(windowed.total).toBe(100)
    // Without free text, any size is answered from the index.
    expect(
      (await reader.searchChats(accountId, parseChatSearchQuery('type:chat'), 0, 40)).total,
    ).toBe(MAX_TEXT_SEARCH_CHATS + 1)
  })
})

describe('sqlite: upgrading a database without the chat index', () => {
  it('backfills the index for the chats already stored', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-export-upgrade-'))
    const path = join(dir, 'old.db')
    const clock = new ManualClock(T0)
    try {
      let store = await openSqliteStore({ path, clock })
      await store.migrate()
      const account = await store.createAccount('old')
      await putChats(store, account.id, [
        { id: 'c1', type: 'chat', timestamp: formatIso(T0), tags: ['x'], history: [] },
        { id: 'c2', type: 'chat', timestamp: formatIso(T0), history: [] },
      ])
      await store.close()
      // As a database of the release before the index: no chat_index table, migration 5 unknown.
      const raw = new Database(path)
      raw.exec('DROP TABLE chat_index; DELETE FROM schema_migrations WHERE version = 5')
      raw.close()
      store = await openSqliteStore({ path, clock })
      await store.migrate()
      expect(ids((await store.chats?.listChats(account.id, null, 10)) ?? [])).toEqual(['c1', 'c2'])
      expect(
        (await store.chats?.searchChats(account.id, parseChatSearchQuery('tags:x'), 0, 40))?.total,
      ).toBe(1)
      await store.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe.skipIf(!postgresTestServerAvailable())('postgres: the chat index', () => {
  it('a 14-day end_timestamp window is a range of its index, under row-level security', async () => {
    const db = await freshPostgresDatabase()
    const store = await openPostgresStore({ url: db.url, clock: new ManualClock(T0) })
    await store.migrate()
    const account = await store.createAccount('plans')
    // A year of chats, one an hour: with statistics the planner picks by real selectivity.
    const year: Chat[] = Array.from({ length: 24 * 365 }, (_, i) => ({
      id: `p${String(i).padStart(5, '0')}`,
      type: 'chat',
      timestamp: formatIso(T0 + i * HOUR),
      end_timestamp: formatIso(T0 + i * HOUR + 600_000_000),
      history: [],
    }))
    await putChats(store, account.id, year)
    await store.close()
    const admin = new pg.Client({ connectionString: db.adminUrl })
    await admin.connect()
    try {
      await admin.query('ANALYZE chat_index')
      const { rows } = await admin.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT count(*) FROM chat_index c WHERE c.account_id = $1 AND NOT c.deleted
           AND c.end_timestamp IS NOT NULL AND c.end_timestamp >= $2 AND c.end_timestamp <= $3`,
        [account.id, T0 + 100 * 24 * HOUR, T0 + 114 * 24 * HOUR],
      )
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n')
      expect(plan).toContain('chat_index_by_end')
      expect(plan).toMatch(/Index Cond: .*end_timestamp >=/)
      expect(plan).not.toContain('Seq Scan')
      const rls = await admin.query<{ relrowsecurity: boolean; relforcerowsecurity: boolean }>(
        "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = 'chat_index'",
      )
      expect(rls.rows[0]).toEqual({ relrowsecurity: true, relforcerowsecurity: true })
    } finally {
      await admin.end()
    }
  })

  it('an upgrade backfills the index for the chats already stored', async () => {
    const db = await freshPostgresDatabase()
    const clock = new ManualClock(T0)
    let store = await openPostgresStore({ url: db.url, clock })
    await store.migrate()
    const account = await store.createAccount('old')
    const many: Chat[] = Array.from({ length: 1203 }, (_, i) => ({
      id: `c${String(i).padStart(5, '0')}`,
      type: 'chat',
      timestamp: formatIso(T0),
      tags: i % 2 === 0 ? ['even'] : [],
      history: [],
    }))
    await putChats(store, account.id, many)
    await store.close()
    const admin = new pg.Client({ connectionString: db.adminUrl })
    await admin.connect()
    await admin.query('DROP TABLE chat_index; DELETE FROM schema_migrations WHERE version = 5')
    await admin.end()
    store = await openPostgresStore({ url: db.url, clock })
    try {
      await store.migrate()
      const listed = await store.chats.listChats(account.id, null, 2000)
      expect(listed.length).toBe(1203)
      const even = await store.chats.searchChats(
        account.id,
        parseChatSearchQuery('tags:even'),
        0,
        40,
      )
      expect(even.total).toBe(602)
    } finally {
      await store.close()
    }
  })
})
