/**
 * The store contract: every backend (SQLite, PostgreSQL) must pass this file unchanged. It uses only
 * the Store port, real databases, a ManualClock where exact positions matter and the system clock
 * where real timing matters.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { Clock } from '../../src/domain/clock.js'
import { ManualClock, seededRandom, systemClock } from '../../src/domain/clock.js'
import type { StreamName } from '../../src/domain/streams.js'
import { AppError } from '../../src/domain/errors.js'
import type { PageQuery, Store, StoredRow, WriteTx } from '../../src/store/store.js'
import { DuplicateKeyError } from '../../src/store/store-rules.js'
import type { StoreHandle } from '../support/stores.js'
import { storeContractBackends } from '../support/stores.js'

/** 2023-11-14T22:13:20Z in µs: a realistic position. */
const T0 = 1_700_000_000_000_000

interface Row {
  position: number
  sortId: string
  text: string
}

function decode(row: StoredRow): Row {
  // The port promises the raw UTF-8 bytes of the JSON (spliced into pages without parsing).
  expect(Buffer.isBuffer(row.body)).toBe(true)
  return { position: row.position, sortId: row.sortId, text: row.body.toString('utf8') }
}

function cursorOf(row: { position: number; sortId: string }): [number, string] {
  return [row.position, row.sortId]
}

/** Byte-wise (position, sortId) comparison: the order the port promises. */
function compareCursor(a: [number, string], b: [number, string]): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1
  return Buffer.compare(Buffer.from(a[1], 'utf8'), Buffer.from(b[1], 'utf8'))
}

/** Follows the cursor from the start of a stream to its end, checking every page boundary. */
async function readAll(
  store: Store,
  accountId: number,
  stream: StreamName,
  limit: number,
  maxPosition?: number,
): Promise<Row[]> {
  const rows: Row[] = []
  let afterPosition = 0
  let afterSortId: string | null = null
  for (;;) {
    const page: Row[] = (
      await store.readPage({
        accountId,
        stream,
        afterPosition,
        afterSortId,
        limit,
        ...(maxPosition === undefined ? {} : { maxPosition }),
      })
    ).map(decode)
    expect(page.length).toBeLessThanOrEqual(limit)
    for (const row of page) {
      const previous = rows.at(-1)
      if (previous) expect(compareCursor(cursorOf(previous), cursorOf(row))).toBe(-1)
      rows.push(row)
    }
    const last = page.at(-1)
    if (page.length < limit || !last) return rows
    afterPosition = last.position
    afterSortId = last.sortId
  }
}

function body(key: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ id: key, ...extra })
}

/** Puts an item at the transaction's position (the normal, non-import case). */
async function put(
  tx: WriteTx,
  stream: StreamName,
  key: string,
  options: { sortId?: string; position?: number; text?: string; summary?: string } = {},
): Promise<void> {
  await tx.putItem(stream, {
    key,
    sortId: options.sortId ?? key,
    position: options.position ?? tx.position,
    body: options.text ?? body(key, { at: tx.position }),
    ...(options.summary === undefined ? {} : { summary: options.summary }),
  })
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

for (const backend of storeContractBackends()) {
  const title = backend.variant ? `${backend.name} (${backend.variant})` : backend.name
  describe(`${title} store contract`, () => {
    const handles: StoreHandle[] = []

    async function open(clock: Clock = new ManualClock(T0)): Promise<StoreHandle> {
      const handle = await backend.create(clock)
      handles.push(handle)
      return handle
    }

    async function openWithAccount(
      clock: Clock = new ManualClock(T0),
    ): Promise<{ handle: StoreHandle; store: Store; accountId: number }> {
      const handle = await open(clock)
      const account = await handle.store.createAccount('acme')
      return { handle, store: handle.store, accountId: account.id }
    }

    afterEach(async () => {
      for (const handle of handles.splice(0)) await handle.cleanup()
    })

    describe('accounts', () => {
      it('creates accounts and finds them by name and id', async () => {
        const clock = new ManualClock(T0)
        const { store } = await open(clock)
        const acme = await store.createAccount('acme')
        clock.advance(5)
        const globex = await store.createAccount('globex')

        expect(acme).toEqual({ id: expect.any(Number), name: 'acme', createdAt: T0 })
        expect(globex.createdAt).toBe(T0 + 5)
        expect(globex.id).not.toBe(acme.id)
        expect(await store.getAccountByName('acme')).toEqual(acme)
        expect(await store.getAccountById(globex.id)).toEqual(globex)
        expect(await store.listAccounts()).toEqual([acme, globex])
        expect(await store.getAccountByName('initech')).toBeUndefined()
        expect(await store.getAccountById(acme.id + globex.id + 1000)).toBeUndefined()
        expect(await store.lastPosition(acme.id)).toBe(0)
      })

      it('refuses a second account with the same name', async () => {
        const { store } = await open()
        const acme = await store.createAccount('acme')
        const refusal = store.createAccount('acme')
        await expect(refusal).rejects.toThrow(DuplicateKeyError)
        await expect(refusal).rejects.toMatchObject({
          key: 'account-name',
          message: 'An account named "acme" already exists.',
        })
        expect(await store.listAccounts()).toEqual([acme])
      })
    })

    describe('tokens', () => {
      const hash = (seed: string) => Buffer.alloc(32, seed)

      it('stores a token and finds it by prefix, exactly as inserted', async () => {
        const { store, accountId } = await openWithAccount()
        const owner = await store.insertToken({
          accountId,
          prefix: 'cx_owner01',
          hash: hash('a'),
          role: 'owner',
          scopes: ['read', 'write'],
          label: 'nightly sync',
          createdAt: T0,
          expiresAt: T0 + 86_400_000_000,
        })
        const agent = await store.insertToken({
          accountId,
          prefix: 'cx_agent01',
          hash: hash('b'),
          role: 'agent',
          scopes: ['read'],
          label: null,
          createdAt: T0 + 1,
          expiresAt: null,
        })

        expect(owner).toEqual({
          id: expect.any(Number),
          accountId,
          prefix: 'cx_owner01',
          hash: hash('a'),
          role: 'owner',
          scopes: ['read', 'write'],
          label: 'nightly sync',
          createdAt: T0,
          expiresAt: T0 + 86_400_000_000,
          revokedAt: null,
        })
        expect(await store.getTokenByPrefix('cx_owner01')).toEqual(owner)
        expect(await store.getTokenByPrefix('cx_agent01')).toEqual(agent)
        expect(agent.scopes).toEqual(['read'])
        expect(await store.getTokenByPrefix('cx_nothing')).toBeUndefined()
      })

      it('refuses a duplicate prefix', async () => {
        const { store, accountId } = await openWithAccount()
        const token = {
          accountId,
          prefix: 'cx_same',
          hash: hash('a'),
          role: 'owner' as const,
          scopes: ['read' as const],
          label: null,
          createdAt: T0,
          expiresAt: null,
        }
        await store.insertToken(token)
        const refusal = store.insertToken({ ...token, hash: hash('b') })
        await expect(refusal).rejects.toThrow(DuplicateKeyError)
        await expect(refusal).rejects.toMatchObject({ key: 'token-prefix' })
        expect((await store.getTokenByPrefix('cx_same'))?.hash).toEqual(hash('a'))
      })

      it('lists and revokes tokens only within their account', async () => {
        const { store, accountId: a } = await openWithAccount()
        const b = (await store.createAccount('globex')).id
        const make = (accountId: number, prefix: string) =>
          store.insertToken({
            accountId,
            prefix,
            hash: hash(prefix),
            role: 'administrator',
            scopes: ['read'],
            label: prefix,
            createdAt: T0,
            expiresAt: null,
          })
        const a1 = await make(a, 'cx_a1')
        const b1 = await make(b, 'cx_b1')
        const a2 = await make(a, 'cx_a2')

        expect(await store.listTokens(a)).toEqual([a1, a2])
        expect(await store.listTokens(b)).toEqual([b1])

        // Account B cannot revoke A's token, and an unknown id is reported as such.
        expect(await store.revokeToken(b, a1.id, T0 + 10)).toBe(false)
        expect((await store.getTokenByPrefix('cx_a1'))?.revokedAt).toBeNull()
        expect(await store.revokeToken(a, a1.id + a2.id + b1.id + 1000, T0 + 10)).toBe(false)

        expect(await store.revokeToken(a, a1.id, T0 + 10)).toBe(true)
        expect((await store.getTokenByPrefix('cx_a1'))?.revokedAt).toBe(T0 + 10)
        // Revoking again succeeds and keeps the time access actually ended.
        expect(await store.revokeToken(a, a1.id, T0 + 20)).toBe(true)
        expect((await store.getTokenByPrefix('cx_a1'))?.revokedAt).toBe(T0 + 10)
        expect((await store.getTokenByPrefix('cx_a2'))?.revokedAt).toBeNull()
        expect((await store.getTokenByPrefix('cx_b1'))?.revokedAt).toBeNull()
      })
    })

    describe('positions', () => {
      it('gives each write max(now, last + 1), strictly increasing even when the clock steps back', async () => {
        const clock = new ManualClock(T0)
        const { store, accountId } = await openWithAccount(clock)
        const writeOne = (key: string) =>
          store.write(accountId, async (tx) => {
            await put(tx, 'chats', key)
            return tx.position
          })

        expect(await writeOne('a')).toBe(T0)
        expect(await store.lastPosition(accountId)).toBe(T0)
        expect(await writeOne('b')).toBe(T0 + 1) // clock did not move
        clock.advance(500)
        expect(await writeOne('c')).toBe(T0 + 500) // clock ahead of last + 1
        clock.set(T0 - 60_000_000) // NTP stepped the clock back a minute
        expect(await writeOne('d')).toBe(T0 + 501)
        expect(await store.lastPosition(accountId)).toBe(T0 + 501)

        const rows = await readAll(store, accountId, 'chats', 10)
        expect(rows.map((r) => [r.position, r.sortId])).toEqual([
          [T0, 'a'],
          [T0 + 1, 'b'],
          [T0 + 500, 'c'],
          [T0 + 501, 'd'],
        ])
      })

      it('puts every item of one transaction at the same position', async () => {
        const { store, accountId } = await openWithAccount()
        const position = await store.write(accountId, async (tx) => {
          for (const key of ['c', 'a', 'b']) await put(tx, 'chats', key)
          await put(tx, 'conversions', 'z')
          return tx.position
        })
        const chats = await readAll(store, accountId, 'chats', 10)
        expect(chats.map((r) => [r.position, r.sortId])).toEqual([
          [position, 'a'],
          [position, 'b'],
          [position, 'c'],
        ])
        expect((await readAll(store, accountId, 'conversions', 10))[0]?.position).toBe(position)
      })

      it('raises the clock over preserved positions, so the next write lands above them', async () => {
        const clock = new ManualClock(T0)
        const { store, accountId } = await openWithAccount(clock)
        const future = T0 + 10_000_000
        await store.write(accountId, async (tx) => {
          await put(tx, 'department_events', 'e1', { position: future })
          await put(tx, 'department_events', 'e0', { position: T0 - 3_000_000 })
        })
        expect(await store.lastPosition(accountId)).toBe(future)
        const next = await store.write(accountId, async (tx) => {
          await put(tx, 'chats', 'c1')
          return tx.position
        })
        expect(next).toBe(future + 1)

        // Items preserved below the transaction's own position leave the clock at that position.
        const other = (await store.createAccount('globex')).id
        await store.write(other, (tx) => put(tx, 'conversions', 'old', { position: T0 - 5 }))
        expect(await store.lastPosition(other)).toBe(T0)
        expect(
          await store.write(other, async (tx) => {
            await put(tx, 'conversions', 'new')
            return tx.position
          }),
        ).toBe(T0 + 1)
      })
    })

    describe('readPage', () => {
      it('orders by position, then sortId compared as bytes', async () => {
        const clock = new ManualClock(T0)
        const { store, accountId } = await openWithAccount(clock)
        await store.write(accountId, async (tx) => {
          for (const sortId of ['b', 'a', 'é', 'B', '10', '9']) await put(tx, 'chats', sortId)
        })
        await store.write(accountId, (tx) => put(tx, 'chats', '0'))
        const rows = await readAll(store, accountId, 'chats', 100)
        expect(rows.map((r) => [r.position, r.sortId])).toEqual([
          [T0, '10'],
          [T0, '9'],
          [T0, 'B'],
          [T0, 'a'],
          [T0, 'b'],
          [T0, 'é'],
          [T0 + 1, '0'],
        ])
      })

      it('is inclusive without a sortId, exclusive with one, and honours limit and maxPosition', async () => {
        const clock = new ManualClock(T0)
        const { store, accountId } = await openWithAccount(clock)
        await store.write(accountId, async (tx) => {
          for (const key of ['a', 'b', 'c']) await put(tx, 'chats', key)
        })
        await store.write(accountId, (tx) => put(tx, 'chats', 'd'))
        await store.write(accountId, (tx) => put(tx, 'chats', 'e'))
        await store.write(accountId, (tx) => put(tx, 'conversions', 'x'))

        const page = async (
          afterPosition: number,
          afterSortId: string | null,
          limit = 100,
          maxPosition?: number,
        ) =>
          (
            await store.readPage({
              accountId,
              stream: 'chats',
              afterPosition,
              afterSortId,
              limit,
              ...(maxPosition === undefined ? {} : { maxPosition }),
            })
          ).map((r) => `${r.position - T0}:${r.sortId}`)

        expect(await page(0, null)).toEqual(['0:a', '0:b', '0:c', '1:d', '2:e'])
        expect(await page(T0, null)).toEqual(['0:a', '0:b', '0:c', '1:d', '2:e'])
        expect(await page(T0 + 1, null)).toEqual(['1:d', '2:e'])
        expect(await page(T0, 'a')).toEqual(['0:b', '0:c', '1:d', '2:e'])
        expect(await page(T0, '')).toEqual(['0:a', '0:b', '0:c', '1:d', '2:e'])
        expect(await page(T0, 'zz')).toEqual(['1:d', '2:e'])
        expect(await page(T0 + 2, 'e')).toEqual([])
        expect(await page(T0 + 3, null)).toEqual([])

        expect(await page(T0, null, 2)).toEqual(['0:a', '0:b'])
        expect(await page(T0, 'b', 2)).toEqual(['0:c', '1:d'])

        expect(await page(0, null, 100, T0 + 1)).toEqual(['0:a', '0:b', '0:c', '1:d'])
        expect(await page(T0, 'a', 100, T0)).toEqual(['0:b', '0:c'])
        expect(await page(T0 + 1, null, 100, T0)).toEqual([])
        expect(await page(T0, null, 1, T0 + 2)).toEqual(['0:a'])
      })

      it('returns the stored JSON bytes exactly', async () => {
        const { store, accountId } = await openWithAccount()
        const text = '{"id":"c1","msg":"héllo 👋 \\"quoted\\" \\u0000","n":1.50}'
        await store.write(accountId, (tx) => put(tx, 'chats', 'c1', { text }))
        const [row] = await store.readPage({
          accountId,
          stream: 'chats',
          afterPosition: 0,
          afterSortId: null,
          limit: 10,
        })
        expect(row?.body.equals(Buffer.from(text, 'utf8'))).toBe(true)
        expect(await store.write(accountId, (tx) => tx.getItem('chats', 'c1'))).toBe(text)
      })

      it('reads the same rows without bodies when asked (id-only pages)', async () => {
        const { store, accountId } = await openWithAccount()
        await store.write(accountId, async (tx) => {
          for (const key of ['b', 'a', 'c']) await put(tx, 'chats', key)
        })
        await store.write(accountId, (tx) => put(tx, 'chats', 'd'))
        for (const afterSortId of [null, 'a']) {
          const query = {
            accountId,
            stream: 'chats' as const,
            afterPosition: 0,
            afterSortId,
            limit: 3,
          }
          const full = await store.readPage(query)
          const keys = await store.readPage({ ...query, body: 'none' })
          expect(keys.map(cursorOf)).toEqual(full.map(cursorOf))
          expect(full.every((r) => r.body.length > 0)).toBe(true)
          expect(keys.every((r) => r.body.length === 0)).toBe(true)
        }
      })

      it('serves the stored summary where an item has one and its body where not', async () => {
        const { store, accountId } = await openWithAccount()
        const full = (key: string) => body(key, { history: [{ msg: `long ${key}` }], rating: 1 })
        const small = (key: string) => body(key, { rating: 1 })
        await store.write(accountId, async (tx) => {
          await put(tx, 'chats', 'a', { text: full('a'), summary: small('a') })
          // No summary: what every row stored before summaries existed looks like.
          await put(tx, 'chats', 'b', { text: full('b') })
          await put(tx, 'chats', 'c', { text: full('c'), summary: small('c') })
          await put(tx, 'chats', 'd', { text: full('d') })
          // Replaced within the transaction: the last write wins, summary (or none) included.
          await put(tx, 'chats', 'c', { text: full('c') })
          await put(tx, 'chats', 'd', { text: full('d'), summary: small('d') })
        })
        await store.write(accountId, async (tx) => {
          // Replaced by a later transaction without one: the old version's summary goes too.
          await put(tx, 'chats', 'a', { text: full('a') })
          await put(tx, 'chats', 'e', { text: full('e'), summary: small('e') })
          expect(await tx.getItem('chats', 'e')).toBe(full('e'))
          expect(await tx.getItems('chats', ['d', 'e'])).toEqual(
            new Map([
              ['d', full('d')],
              ['e', full('e')],
            ]),
          )
        })
        const cases: Array<[number, string | null, string[]]> = [
          [0, null, ['b', 'c', 'd', 'a', 'e']],
          [T0, 'b', ['c', 'd', 'a', 'e']],
        ]
        for (const [afterPosition, afterSortId, keys] of cases) {
          const query = {
            accountId,
            stream: 'chats' as const,
            afterPosition,
            afterSortId,
            limit: 9,
          }
          const bodies = (await store.readPage(query)).map(decode)
          expect((await store.readPage({ ...query, body: 'full' })).map(decode)).toEqual(bodies)
          expect(bodies.map((r) => r.text)).toEqual(keys.map(full))
          const summaries = (await store.readPage({ ...query, body: 'summary' })).map(decode)
          expect(summaries.map(cursorOf)).toEqual(bodies.map(cursorOf))
          expect(summaries.map((r) => r.text)).toEqual(
            keys.map((k) => (k === 'd' || k === 'e' ? small(k) : full(k))),
          )
        }
        // Other streams keep summaries apart, and a summary's bytes come back exactly.
        const text = '{"id":"x","msg":"héllo 👋 \\u0000"}'
        await store.write(accountId, (tx) =>
          put(tx, 'conversions', 'x', { text: body('x', { long: true }), summary: text }),
        )
        const [row] = await store.readPage({
          accountId,
          stream: 'conversions',
          afterPosition: 0,
          afterSortId: null,
          limit: 9,
          body: 'summary',
        })
        expect(row?.body.equals(Buffer.from(text, 'utf8'))).toBe(true)
      })

      it('splits runs of equal positions across pages without losing or repeating an item', async () => {
        const clock = new ManualClock(T0)
        const { store, accountId } = await openWithAccount(clock)
        const expected: [number, string][] = []
        for (let t = 0; t < 3; t++) {
          await store.write(accountId, async (tx) => {
            for (const sortId of ['e', 'c', 'a', 'd', 'b']) {
              await put(tx, 'chats', `${t}${sortId}`, { sortId })
              expected.push([tx.position, sortId])
            }
          })
        }
        expected.sort(compareCursor)
        for (const limit of [1, 2, 3, 4, 5, 6, 15, 100]) {
          const rows = await readAll(store, accountId, 'chats', limit)
          expect(rows.map(cursorOf), `limit ${limit}`).toEqual(expected)
        }
        // The same holds when a maxPosition cuts the chain.
        const bounded = await readAll(store, accountId, 'chats', 1, T0 + 1)
        expect(bounded.map(cursorOf)).toEqual(expected.filter(([p]) => p <= T0 + 1))
      })

      it('reads a page as bodies and its last cursor exactly as readPage reads its rows', async () => {
        const clock = new ManualClock(T0)
        const { store, accountId } = await openWithAccount(clock)
        for (let t = 0; t < 3; t++) {
          await store.write(accountId, async (tx) => {
            for (const sortId of ['c', 'a', 'b']) {
              const key = `${t}${sortId}`
              await put(tx, 'chats', key, { sortId, summary: body(key, { small: true }) })
            }
          })
        }
        await store.write(accountId, (tx) => put(tx, 'conversions', 'x'))
        const cursors: Array<[number, string | null]> = [
          [0, null],
          [T0, 'a'],
          [T0 + 1, null],
          [T0 + 1, 'c'],
          [T0 + 2, 'c'],
          [T0 + 9, null],
        ]
        for (const [afterPosition, afterSortId] of cursors) {
          for (const limit of [1, 2, 4, 100]) {
            for (const maxPosition of [undefined, T0 + 1]) {
              for (const pageBody of ['full', 'summary', 'none'] as const) {
                const query = {
                  accountId,
                  stream: 'chats' as const,
                  afterPosition,
                  afterSortId,
                  limit,
                  body: pageBody,
                  ...(maxPosition === undefined ? {} : { maxPosition }),
                }
                const rows = await store.readPage(query)
                const page = await store.readPageBodies(query)
                const what = JSON.stringify(query)
                expect(
                  page.bodies.map((b) => b.toString('utf8')),
                  what,
                ).toEqual(rows.map((r) => r.body.toString('utf8')))
                const last = rows.at(-1)
                expect(page.last, what).toEqual(
                  last && { position: last.position, sortId: last.sortId },
                )
              }
            }
          }
        }
      })

      it('keeps streams apart', async () => {
        const { store, accountId } = await openWithAccount()
        await store.write(accountId, async (tx) => {
          await put(tx, 'chats', 'same-key', { text: body('chat') })
          await put(tx, 'agent_events', 'same-key', { text: body('agent event') })
        })
        expect((await readAll(store, accountId, 'chats', 10)).map((r) => r.text)).toEqual([
          body('chat'),
        ])
        expect((await readAll(store, accountId, 'agent_events', 10)).map((r) => r.text)).toEqual([
          body('agent event'),
        ])
        expect(await readAll(store, accountId, 'conversions', 10)).toEqual([])
      })
    })

    describe('items', () => {
      it('moves an updated item to its new position and keeps nothing of the old version', async () => {
        const clock = new ManualClock(T0)
        const { store, accountId } = await openWithAccount(clock)
        await store.write(accountId, async (tx) => {
          await put(tx, 'chats', 'k1', { sortId: 'k1-old', text: body('k1', { v: 1 }) })
          await put(tx, 'chats', 'k2')
        })
        clock.advance(1000)
        await store.write(accountId, async (tx) => {
          expect(await tx.getItem('chats', 'k1')).toBe(body('k1', { v: 1 }))
          await put(tx, 'chats', 'k1', { sortId: 'k1-new', text: body('k1', { v: 2 }) })
          expect(await tx.getItem('chats', 'k1')).toBe(body('k1', { v: 2 }))
        })

        const rows = await readAll(store, accountId, 'chats', 1)
        expect(rows).toEqual([
          { position: T0, sortId: 'k2', text: body('k2', { at: T0 }) },
          { position: T0 + 1000, sortId: 'k1-new', text: body('k1', { v: 2 }) },
        ])
        // A reader whose cursor already passed the old version still meets the new one.
        const after = await store.readPage({
          accountId,
          stream: 'chats',
          afterPosition: T0,
          afterSortId: 'k2',
          limit: 10,
        })
        expect(after.map(decode).map((r) => r.sortId)).toEqual(['k1-new'])
      })

      it('reports the high-water mark per stream, including the transaction’s own writes', async () => {
        const clock = new ManualClock(T0)
        const { store, accountId } = await openWithAccount(clock)
        const other = (await store.createAccount('globex')).id
        await store.write(accountId, async (tx) => {
          expect(await tx.highWaterMark('chats')).toBe(0)
          await put(tx, 'chats', 'c1')
          expect(await tx.highWaterMark('chats')).toBe(T0)
          await put(tx, 'department_events', 'd1', { position: T0 + 7_000 })
        })
        clock.advance(100)
        await store.write(accountId, (tx) => put(tx, 'conversions', 'v1'))
        await store.write(accountId, async (tx) => {
          expect(await tx.highWaterMark('chats')).toBe(T0)
          expect(await tx.highWaterMark('department_events')).toBe(T0 + 7_000)
          expect(await tx.highWaterMark('conversions')).toBe(T0 + 7_001)
          expect(await tx.highWaterMark('agent_timeline')).toBe(0)
        })
        await store.write(other, async (tx) => {
          expect(await tx.highWaterMark('chats')).toBe(0)
        })
      })
    })

    describe('transactions', () => {
      it('returns the callback’s value', async () => {
        const { store, accountId } = await openWithAccount()
        expect(await store.write(accountId, () => Promise.resolve({ answer: 42 }))).toEqual({
          answer: 42,
        })
      })

      it('commits nothing of a write that throws: items, state, events or clock', async () => {
        const clock = new ManualClock(T0)
        const { store, accountId } = await openWithAccount(clock)
        await store.write(accountId, async (tx) => {
          await put(tx, 'chats', 'keep', { text: body('keep', { v: 1 }) })
          await tx.putState('open_span', 'agent-1', '{"since":1}')
          expect(await tx.markEvent('evt-1')).toBe(true)
        })
        const before = await readAll(store, accountId, 'chats', 10)
        clock.advance(10)

        const failure = new Error('fold failed')
        let failedPosition = 0
        await expect(
          store.write(accountId, async (tx) => {
            failedPosition = tx.position
            await put(tx, 'chats', 'keep', { text: body('keep', { v: 2 }) })
            await put(tx, 'chats', 'new')
            await put(tx, 'department_events', 'later', { position: T0 + 99_000_000 })
            await tx.putState('open_span', 'agent-2', '{"since":2}')
            await tx.deleteState('open_span', 'agent-1')
            expect(await tx.markEvent('evt-2')).toBe(true)
            throw failure
          }),
        ).rejects.toBe(failure)

        expect(await readAll(store, accountId, 'chats', 10)).toEqual(before)
        expect(await readAll(store, accountId, 'department_events', 10)).toEqual([])
        expect(await store.lastPosition(accountId)).toBe(T0)
        await store.write(accountId, async (tx) => {
          // Nothing was consumed: the next write gets the position the failed one had.
          expect(tx.position).toBe(failedPosition)
          expect(await tx.getItem('chats', 'keep')).toBe(body('keep', { v: 1 }))
          expect(await tx.getItem('chats', 'new')).toBeUndefined()
          expect(await tx.getState('open_span', 'agent-1')).toBe('{"since":1}')
          expect(await tx.getState('open_span', 'agent-2')).toBeUndefined()
          expect(await tx.highWaterMark('department_events')).toBe(0)
          expect(await tx.markEvent('evt-1')).toBe(false)
          // The rolled-back event was not recorded, so its retry is processed.
          expect(await tx.markEvent('evt-2')).toBe(true)
        })
      })

      it('records an event id once: later attempts are reported as retries', async () => {
        const { store, accountId } = await openWithAccount()
        await store.write(accountId, async (tx) => {
          expect(await tx.markEvent('evt-1')).toBe(true)
          expect(await tx.markEvent('evt-1')).toBe(false)
          expect(await tx.markEvent('evt-2')).toBe(true)
        })
        await store.write(accountId, async (tx) => {
          expect(await tx.markEvent('evt-1')).toBe(false)
          expect(await tx.markEvent('evt-2')).toBe(false)
          expect(await tx.markEvent('evt-3')).toBe(true)
        })
      })

      it('gets, replaces and deletes folding state', async () => {
        const { store, accountId } = await openWithAccount()
        await store.write(accountId, async (tx) => {
          expect(await tx.getState('queue', 'dept-1')).toBeUndefined()
          await tx.putState('queue', 'dept-1', '{"incoming":1}')
          await tx.putState('queue', 'dept-2', '{"incoming":5}')
          await tx.putState('span', 'dept-1', '"other kind"')
          await tx.putState('queue', 'dept-1', '{"incoming":2}')
          expect(await tx.getState('queue', 'dept-1')).toBe('{"incoming":2}')
        })
        await store.write(accountId, async (tx) => {
          expect(await tx.getState('queue', 'dept-1')).toBe('{"incoming":2}')
          await tx.deleteState('queue', 'dept-1')
          await tx.deleteState('queue', 'never-existed')
          expect(await tx.getState('queue', 'dept-1')).toBeUndefined()
        })
        await store.write(accountId, async (tx) => {
          expect(await tx.getState('queue', 'dept-1')).toBeUndefined()
          expect(await tx.getState('queue', 'dept-2')).toBe('{"incoming":5}')
          expect(await tx.getState('span', 'dept-1')).toBe('"other kind"')
        })
      })

      it('refuses to write items for an account that does not exist', async () => {
        const { store, accountId } = await openWithAccount()
        const missing = accountId + 1000
        await expect(store.write(missing, (tx) => put(tx, 'chats', 'c1'))).rejects.toThrow()
        expect(await store.lastPosition(missing)).toBe(0)
        expect(await readAll(store, missing, 'chats', 10)).toEqual([])
        // The failure left the store usable.
        await store.write(accountId, (tx) => put(tx, 'chats', 'c1'))
        expect(await readAll(store, accountId, 'chats', 10)).toHaveLength(1)
      })
    })

    describe('bulk reads and event marks', () => {
      it('marks events in bulk exactly as one by one: repeats and earlier marks are retries', async () => {
        const { store, accountId } = await openWithAccount()
        const other = (await store.createAccount('globex')).id
        await store.write(accountId, async (tx) => {
          expect(await tx.markEvent('e1')).toBe(true)
          expect(await tx.markEvents([])).toEqual([])
          expect(await tx.markEvents(['e2', 'e1', 'e3', 'e2', 'e2'])).toEqual([
            true,
            false,
            true,
            false,
            false,
          ])
          expect(await tx.markEvent('e3')).toBe(false)
        })
        const failure = new Error('batch failed')
        await expect(
          store.write(accountId, async (tx) => {
            expect(await tx.markEvents(['e3', 'e4'])).toEqual([false, true])
            throw failure
          }),
        ).rejects.toBe(failure)
        await store.write(accountId, async (tx) => {
          // e4 was rolled back with its batch, so its retry is processed.
          expect(await tx.markEvents(['e4', 'e1', 'e2', 'e3'])).toEqual([true, false, false, false])
        })
        await store.write(other, async (tx) => {
          expect(await tx.markEvents(['e1', 'e4'])).toEqual([true, true])
        })
      })

      it('reads items and state in bulk, with the transaction’s own writes and deletions', async () => {
        const { store, accountId } = await openWithAccount()
        const other = (await store.createAccount('globex')).id
        await store.write(accountId, async (tx) => {
          await put(tx, 'chats', 'k1', { text: body('k1', { v: 1 }) })
          await put(tx, 'chats', 'k2', { text: body('k2', { v: 1 }) })
          await put(tx, 'conversions', 'k3')
          await tx.putState('queue', 'd1', '1')
          await tx.putState('queue', 'd2', '2')
          await tx.putState('span', 'd3', '"other kind"')
        })
        await store.write(accountId, async (tx) => {
          await put(tx, 'chats', 'k2', { text: body('k2', { v: 2 }) })
          await put(tx, 'chats', 'k4', { text: body('k4', { v: 1 }) })
          await tx.putState('queue', 'd1', '10')
          await tx.deleteState('queue', 'd2')
          await tx.putState('queue', 'd4', '4')
          expect(await tx.getItems('chats', ['k1', 'k2', 'k3', 'k4', 'k1', 'missing'])).toEqual(
            new Map([
              ['k1', body('k1', { v: 1 })],
              ['k2', body('k2', { v: 2 })],
              ['k4', body('k4', { v: 1 })],
            ]),
          )
          expect(await tx.getItems('conversions', ['k1', 'k3'])).toEqual(
            new Map([['k3', body('k3', { at: T0 })]]),
          )
          expect(await tx.getItems('chats', [])).toEqual(new Map())
          expect(await tx.getStates('queue', ['d1', 'd2', 'd3', 'd4', 'missing'])).toEqual(
            new Map([
              ['d1', '10'],
              ['d4', '4'],
            ]),
          )
          expect(await tx.getStates('span', ['d1', 'd3'])).toEqual(
            new Map([['d3', '"other kind"']]),
          )
        })
        await store.write(accountId, async (tx) => {
          expect(await tx.getStates('queue', ['d1', 'd2', 'd4'])).toEqual(
            new Map([
              ['d1', '10'],
              ['d4', '4'],
            ]),
          )
        })
        await store.write(other, async (tx) => {
          expect(await tx.getItems('chats', ['k1', 'k2'])).toEqual(new Map())
          expect(await tx.getStates('queue', ['d1', 'd4'])).toEqual(new Map())
        })
      })

      it('commits thousands of rows of one transaction, the last write of each key winning', async () => {
        const clock = new ManualClock(T0)
        const { store, accountId } = await openWithAccount(clock)
        // More rows and more text than one multi-row statement carries (PostgreSQL splits them).
        const keys = Array.from({ length: 2100 }, (_, i) => `c${String(i).padStart(5, '0')}`)
        const filler = 'x'.repeat(4000)
        // Summaries flip between the versions: odd keys lose theirs, even keys gain one.
        const summary = (key: string, v: number) => body(key, { v, summary: true })
        const odd = (i: number) => i % 2 === 1
        await store.write(accountId, async (tx) => {
          for (const [i, key] of keys.entries()) {
            await put(tx, 'chats', key, {
              position: T0 + 5,
              text: body(key, { v: 1 }),
              ...(odd(i) ? { summary: summary(key, 1) } : {}),
            })
            await tx.putState('fold', key, '1')
          }
          for (const [i, key] of keys.entries()) {
            await put(tx, 'chats', key, {
              text: body(key, { v: 2, filler }),
              ...(odd(i) ? {} : { summary: summary(key, 2) }),
            })
            await tx.putState('fold', key, '2')
          }
          await tx.deleteState('fold', 'c00007')
          expect(await tx.getItem('chats', 'c00003')).toBe(body('c00003', { v: 2, filler }))
          expect(await tx.getState('fold', 'c00003')).toBe('2')
          expect(await tx.getState('fold', 'c00007')).toBeUndefined()
        })
        const rows = await readAll(store, accountId, 'chats', 1000)
        expect(rows).toHaveLength(keys.length)
        expect(rows.every((r, i) => r.position === T0 && r.sortId === keys[i])).toBe(true)
        expect(rows.every((r, i) => r.text === body(keys[i]!, { v: 2, filler }))).toBe(true)
        const summaries = await store.readPage({
          accountId,
          stream: 'chats',
          afterPosition: 0,
          afterSortId: null,
          limit: 5000,
          body: 'summary',
        })
        expect(summaries.map((r) => r.body.toString('utf8'))).toEqual(
          keys.map((key, i) => (odd(i) ? body(key, { v: 2, filler }) : summary(key, 2))),
        )
        // The first writes' position (T0 + 5) was overwritten, but the clock still covers it.
        expect(await store.lastPosition(accountId)).toBe(T0 + 5)
        await store.write(accountId, async (tx) => {
          const states = await tx.getStates('fold', keys)
          expect(states.size).toBe(keys.length - 1)
          expect(states.has('c00007')).toBe(false)
          expect([...states.values()].every((v) => v === '2')).toBe(true)
        })
      })

      it('reports the high-water mark after the transaction moved the top item down', async () => {
        const { store, accountId } = await openWithAccount()
        await store.write(accountId, async (tx) => {
          await put(tx, 'chats', 'top', { position: T0 + 5_000 })
          await put(tx, 'chats', 'low', { position: T0 + 1_000 })
        })
        await store.write(accountId, async (tx) => {
          expect(await tx.highWaterMark('chats')).toBe(T0 + 5_000)
          await put(tx, 'chats', 'top', { position: T0 + 2_000 })
          expect(await tx.highWaterMark('chats')).toBe(T0 + 2_000)
          await put(tx, 'chats', 'low', { position: T0 + 3_000 })
          expect(await tx.highWaterMark('chats')).toBe(T0 + 3_000)
        })
      })
    })

    describe('accounts are isolated', () => {
      it('keeps items, state, events and positions of two accounts apart', async () => {
        const clock = new ManualClock(T0)
        const { store, accountId: a } = await openWithAccount(clock)
        const b = (await store.createAccount('globex')).id

        await store.write(a, async (tx) => {
          await put(tx, 'chats', 'shared', { text: body('shared', { owner: 'a' }) })
          await put(tx, 'chats', 'only-a')
          await tx.putState('queue', 'd1', '"a"')
          expect(await tx.markEvent('evt')).toBe(true)
        })
        clock.advance(1)
        await store.write(a, (tx) => put(tx, 'chats', 'a-again'))
        await store.write(b, async (tx) => {
          expect(tx.position).toBe(T0 + 1) // B's clock starts from scratch
          expect(await tx.getItem('chats', 'shared')).toBeUndefined()
          expect(await tx.getItem('chats', 'only-a')).toBeUndefined()
          expect(await tx.getState('queue', 'd1')).toBeUndefined()
          expect(await tx.highWaterMark('chats')).toBe(0)
          expect(await tx.markEvent('evt')).toBe(true)
          await put(tx, 'chats', 'shared', { text: body('shared', { owner: 'b' }) })
          await tx.putState('queue', 'd1', '"b"')
        })

        expect((await readAll(store, a, 'chats', 10)).map((r) => r.text)).toEqual([
          body('only-a', { at: T0 }),
          body('shared', { owner: 'a' }),
          body('a-again', { at: T0 + 1 }),
        ])
        expect((await readAll(store, b, 'chats', 10)).map((r) => r.text)).toEqual([
          body('shared', { owner: 'b' }),
        ])
        expect(await store.lastPosition(a)).toBe(T0 + 1)
        expect(await store.lastPosition(b)).toBe(T0 + 1)
        await store.write(a, async (tx) => {
          expect(await tx.getItem('chats', 'shared')).toBe(body('shared', { owner: 'a' }))
          expect(await tx.getState('queue', 'd1')).toBe('"a"')
        })
      })
    })

    describe('resetAccount', () => {
      it('empties one account (items, state, events, clock) and leaves the others alone', async () => {
        const clock = new ManualClock(T0)
        const { store, accountId: a } = await openWithAccount(clock)
        const b = (await store.createAccount('globex')).id
        for (const id of [a, b]) {
          await store.write(id, async (tx) => {
            await put(tx, 'chats', 'c1')
            await put(tx, 'agent_timeline', 't1')
            await tx.putState('queue', 'd1', '"x"')
            expect(await tx.markEvent('evt')).toBe(true)
          })
        }
        clock.advance(10)
        await store.resetAccount(a)
        expect(await store.lastPosition(a)).toBe(0)
        expect(await readAll(store, a, 'chats', 10)).toEqual([])
        expect(await readAll(store, a, 'agent_timeline', 10)).toEqual([])
        expect(await store.lastPosition(b)).toBe(T0)
        expect(await readAll(store, b, 'chats', 10)).toHaveLength(1)
        await store.write(a, async (tx) => {
          expect(tx.position).toBe(T0 + 10)
          expect(await tx.getState('queue', 'd1')).toBeUndefined()
          expect(await tx.markEvent('evt')).toBe(true) // the event may be applied again
          expect(await tx.highWaterMark('chats')).toBe(0)
        })
        await store.write(b, async (tx) => {
          expect(await tx.getState('queue', 'd1')).toBe('"x"')
          expect(await tx.markEvent('evt')).toBe(false)
        })
      })

      it('refills in the same transaction, or keeps the old data when the refill fails', async () => {
        const clock = new ManualClock(T0)
        const { store, accountId } = await openWithAccount(clock)
        await store.write(accountId, (tx) => put(tx, 'chats', 'old'))
        clock.advance(100)
        await expect(
          store.resetAccount(accountId, async (tx) => {
            await put(tx, 'chats', 'half')
            throw new Error('refill failed')
          }),
        ).rejects.toThrow('refill failed')
        expect((await readAll(store, accountId, 'chats', 10)).map((r) => r.sortId)).toEqual(['old'])
        await store.resetAccount(accountId, async (tx) => {
          expect(tx.position).toBe(T0 + 100)
          await put(tx, 'chats', 'seeded-1', { position: T0 - 50 })
          await put(tx, 'chats', 'seeded-2', { position: T0 + 100 })
        })
        const rows = await readAll(store, accountId, 'chats', 10)
        expect(rows.map((r) => [r.sortId, r.position])).toEqual([
          ['seeded-1', T0 - 50],
          ['seeded-2', T0 + 100],
        ])
        expect(await store.lastPosition(accountId)).toBe(T0 + 100)
      })
    })

    describe('concurrency', () => {
      for (const clockKind of ['system', 'frozen'] as const) {
        it(`serialises 50 concurrent writes with increasing positions (${clockKind} clock)`, async () => {
          const clock = clockKind === 'system' ? systemClock() : new ManualClock(T0)
          const { store, accountId } = await openWithAccount(clock)
          let running = 0
          let started = 0
          const results = await Promise.all(
            Array.from({ length: 50 }, (_, i) =>
              store.write(accountId, async (tx) => {
                expect(running).toBe(0)
                running++
                const order = started++
                await yieldToLoop()
                await put(tx, 'chats', `c${i}`)
                await yieldToLoop()
                running--
                return { order, position: tx.position }
              }),
            ),
          )
          results.sort((x, y) => x.order - y.order)
          for (let i = 1; i < results.length; i++) {
            expect(results[i]!.position).toBeGreaterThan(results[i - 1]!.position)
          }
          if (clockKind === 'frozen') expect(results.at(-1)?.position).toBe(T0 + 49)
          const rows = await readAll(store, accountId, 'chats', 7)
          expect(rows.map((r) => r.position)).toEqual(results.map((r) => r.position))
          expect(await store.lastPosition(accountId)).toBe(results.at(-1)?.position)
        })
      }

      it('orders writes from two store instances on one database, even with skewed clocks', async () => {
        const clockA = new ManualClock(T0)
        const clockB = new ManualClock(T0 - 2_000_000) // the other process's clock lags 2 s
        const { handle, store: storeA, accountId } = await openWithAccount(clockA)
        const storeB = await handle.reopen(clockB)

        let seq = 0
        let running = 0
        const records: { start: number; done: number; position: number }[] = []
        const writer = async (store: Store, clock: ManualClock, name: string) => {
          for (let i = 0; i < 15; i++) {
            const { start, position } = await store.write(accountId, async (tx) => {
              expect(running).toBe(0)
              running++
              const start = seq++
              await put(tx, 'chats', `${name}${i}`)
              await yieldToLoop()
              await put(tx, 'conversions', `${name}${i}`)
              running--
              return { start, position: tx.position }
            })
            records.push({ start, done: seq++, position })
            clock.advance(1)
            await yieldToLoop()
          }
        }
        await Promise.all([writer(storeA, clockA, 'a'), writer(storeB, clockB, 'b')])

        expect(new Set(records.map((r) => r.position)).size).toBe(30)
        // Real-time order: a write that began after another finished is above it.
        for (const earlier of records) {
          for (const later of records) {
            if (earlier.done < later.start) expect(later.position).toBeGreaterThan(earlier.position)
          }
        }
        for (const store of [storeA, storeB]) {
          expect(await readAll(store, accountId, 'chats', 4)).toHaveLength(30)
          expect(await store.lastPosition(accountId)).toBe(
            Math.max(...records.map((r) => r.position)),
          )
        }
      })

      for (const seed of [1, 2, 3]) {
        it(`a reader following the cursor during writes gets every version once (seed ${seed})`, async () => {
          const random = seededRandom(seed)
          const pick = <T>(items: readonly T[]): T =>
            items[Math.floor(random.next() * items.length)]!
          // Odd seeds: real clocks. Even seeds: frozen clocks, so positions are all last + 1.
          const clocks: Clock[] =
            seed % 2 === 1
              ? [systemClock(), systemClock()]
              : [new ManualClock(T0), new ManualClock(T0 - 1_000_000)]
          const { handle, store, accountId } = await openWithAccount(clocks[0])
          const stores = [store, await handle.reopen(clocks[1]!)]
          // Enough keys that many versions stay the last of their key: a lost one would show.
          const keys = Array.from({ length: 16 }, (_, i) => `k${i}`)

          // Committed versions: tag -> position and key. Aborted tags must never be seen.
          const committed = new Map<string, { key: string; position: number }>()
          const aborted = new Set<string>()
          let writersDone = false

          const writer = async (w: number) => {
            const target = stores[w % stores.length]!
            for (let n = 0; n < 10; n++) {
              const chosen = [...new Set([pick(keys), pick(keys)])]
              const tag = `w${w}:${n}`
              const abort = random.next() < 0.2
              try {
                const position = await target.write(accountId, async (tx) => {
                  for (const key of chosen) {
                    await put(tx, 'chats', key, { text: JSON.stringify({ id: key, tag }) })
                    await yieldToLoop() // let the reader run while this write is uncommitted
                  }
                  if (abort) throw new Error('aborted on purpose')
                  return tx.position
                })
                for (const key of chosen) committed.set(`${key}@${tag}`, { key, position })
              } catch (error) {
                if (!abort) throw error
                for (const key of chosen) aborted.add(`${key}@${tag}`)
              }
              await yieldToLoop()
            }
          }

          const seen: { key: string; tag: string; position: number }[] = []
          const reader = async () => {
            let afterPosition = 0
            let afterSortId: string | null = null
            for (;;) {
              const finalRound = writersDone
              const limit = pick([1, 2, 3, 5])
              const page: Row[] = (
                await stores[seen.length % 2]!.readPage({
                  accountId,
                  stream: 'chats',
                  afterPosition,
                  afterSortId,
                  limit,
                })
              ).map(decode)
              for (const row of page) {
                const cursor: [number, string] = [afterPosition, afterSortId ?? '']
                expect(compareCursor(cursorOf(row), cursor)).toBeGreaterThanOrEqual(
                  afterSortId === null ? 0 : 1,
                )
                const { id, tag } = JSON.parse(row.text) as { id: string; tag: string }
                seen.push({ key: id, tag, position: row.position })
                afterPosition = row.position
                afterSortId = row.sortId
              }
              if (finalRound && page.length < limit) return
              await yieldToLoop()
            }
          }

          await Promise.all([
            reader(),
            (async () => {
              await Promise.all([0, 1, 2].map(writer))
              writersDone = true
            })(),
          ])

          const seenIds = seen.map((s) => `${s.key}@${s.tag}`)
          expect(new Set(seenIds).size, 'no version delivered twice').toBe(seenIds.length)
          for (const s of seen) {
            expect(aborted.has(`${s.key}@${s.tag}`), 'aborted write visible').toBe(false)
            expect(committed.get(`${s.key}@${s.tag}`)?.position).toBe(s.position)
          }
          // No loss: the last committed version of every key reached the reader.
          for (const key of keys) {
            const versions = [...committed.entries()].filter(([, v]) => v.key === key)
            if (versions.length === 0) continue
            const last = versions.reduce((x, y) => (y[1].position > x[1].position ? y : x))
            expect(seenIds, `final version of ${key}`).toContain(last[0])
          }
        })
      }
    })

    describe('refusals: inputs the port refuses, the same on every store', () => {
      const BAD_POSITIONS = [0, -1, -T0, T0 + 0.5, Number.MAX_SAFE_INTEGER + 1, NaN, Infinity]
      const BAD_LIMITS = [0, -1, 1.5, NaN, Infinity, Number.MAX_SAFE_INTEGER + 1]
      const BAD_ACCOUNT_IDS = [0, -1, 1.5, NaN, Number.MAX_SAFE_INTEGER + 1]

      for (const position of BAD_POSITIONS) {
        it(`refuses an item position of ${position} and commits nothing`, async () => {
          const { store, accountId } = await openWithAccount()
          await expect(
            store.write(accountId, async (tx) => {
              await tx.putState('queue', 'd1', '{}')
              await put(tx, 'chats', 'c1', { position })
            }),
          ).rejects.toThrow(RangeError)
          expect(await readAll(store, accountId, 'chats', 10)).toEqual([])
          expect(await store.lastPosition(accountId)).toBe(0)
          await store.write(accountId, async (tx) => {
            expect(await tx.getState('queue', 'd1')).toBeUndefined()
          })
        })
      }

      it('refuses a page limit that is not an integer >= 1', async () => {
        const { store, accountId } = await openWithAccount()
        await store.write(accountId, (tx) => put(tx, 'chats', 'c1'))
        const query: PageQuery = {
          accountId,
          stream: 'chats',
          afterPosition: 0,
          afterSortId: null,
          limit: 1,
        }
        for (const limit of BAD_LIMITS) {
          await expect(store.readPage({ ...query, limit })).rejects.toThrow(RangeError)
          await expect(store.readPage({ ...query, limit, afterSortId: 'a' })).rejects.toThrow(
            RangeError,
          )
        }
        expect(await store.readPage(query)).toHaveLength(1)
      })

      it('refuses a page cursor position that is negative or not an integer, and a bad maxPosition', async () => {
        const { store, accountId } = await openWithAccount()
        const query: PageQuery = {
          accountId,
          stream: 'chats',
          afterPosition: 0,
          afterSortId: null,
          limit: 10,
        }
        for (const afterPosition of [-1, 0.5, NaN, Infinity, Number.MAX_SAFE_INTEGER + 1]) {
          await expect(store.readPage({ ...query, afterPosition })).rejects.toThrow(RangeError)
        }
        for (const maxPosition of [0.5, NaN, Infinity]) {
          await expect(store.readPage({ ...query, maxPosition })).rejects.toThrow(RangeError)
        }
        expect(await store.readPage({ ...query, maxPosition: 0 })).toEqual([])
      })

      it('refuses an account id that is not a positive integer, on every account-scoped call', async () => {
        const { store } = await openWithAccount()
        for (const accountId of BAD_ACCOUNT_IDS) {
          await expect(store.write(accountId, async () => 1)).rejects.toThrow(RangeError)
          await expect(
            store.readPage({
              accountId,
              stream: 'chats',
              afterPosition: 0,
              afterSortId: null,
              limit: 1,
            }),
          ).rejects.toThrow(RangeError)
          await expect(store.lastPosition(accountId)).rejects.toThrow(RangeError)
          await expect(store.listTokens(accountId)).rejects.toThrow(RangeError)
          await expect(store.revokeToken(accountId, 1, T0)).rejects.toThrow(RangeError)
          await expect(
            store.insertToken({
              accountId,
              prefix: 'cx_bad_account',
              hash: Buffer.alloc(32),
              role: 'owner',
              scopes: ['read'],
              label: null,
              createdAt: T0,
              expiresAt: null,
            }),
          ).rejects.toThrow(RangeError)
        }
      })

      it('finds nothing for lookups by an id or prefix no row can have', async () => {
        const { store, accountId } = await openWithAccount()
        for (const id of BAD_ACCOUNT_IDS) expect(await store.getAccountById(id)).toBeUndefined()
        for (const tokenId of [0, -1, 1.5, NaN]) {
          expect(await store.revokeToken(accountId, tokenId, T0)).toBe(false)
        }
        for (const prefix of ['', 'cx_\0nul', 'x'.repeat(201)]) {
          expect(await store.getTokenByPrefix(prefix)).toBeUndefined()
        }
      })

      it('refuses a write when the clock gives a time beyond the safe integers', async () => {
        const clock = new ManualClock(T0)
        const { store, accountId } = await openWithAccount(clock)
        clock.set(Number.MAX_SAFE_INTEGER + 2)
        await expect(store.write(accountId, (tx) => put(tx, 'chats', 'c1'))).rejects.toThrow(
          RangeError,
        )
        clock.set(T0 + 1)
        await store.write(accountId, (tx) => put(tx, 'chats', 'c1'))
        expect(await store.lastPosition(accountId)).toBe(T0 + 1)
      })

      it('refuses rate-limit requests with a negative or fractional limit or an empty window', async () => {
        const { store } = await open()
        if (store.consumeRateLimit === undefined) return // a single-process store keeps none
        for (const [limit, window] of [
          [-1, 60_000_000],
          [1.5, 60_000_000],
          [NaN, 60_000_000],
          [3, 0],
          [3, -1],
          [3, 0.5],
        ] as const) {
          await expect(store.consumeRateLimit('k', limit, window, T0)).rejects.toThrow(RangeError)
        }
        expect(await store.consumeRateLimit('k', 0, 60_000_000, T0)).toMatchObject({
          allowed: false,
        })
      })
    })

    describe('a database that cannot serve now', () => {
      const unavailable = backend.unavailable?.bind(backend)
      it.skipIf(unavailable === undefined)(
        'raises STORE_UNAVAILABLE (no SQL, a retry delay) on every path that needs it',
        async () => {
          const down = await unavailable!(new ManualClock(T0))
          try {
            const { store, accountId } = down
            const expectUnavailable = async (call: Promise<unknown>) => {
              const error: unknown = await call.then(
                () => undefined,
                (e: unknown) => e,
              )
              expect(error).toBeInstanceOf(AppError)
              expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE', retryAfterSeconds: 1 })
              const description = (error as AppError).description
              expect(description).not.toMatch(/SELECT|INSERT|BEGIN|SQLITE|ECONN|57P|password/i)
            }
            const token = {
              accountId,
              prefix: 'cx_down',
              hash: Buffer.alloc(32),
              role: 'owner' as const,
              scopes: ['read' as const],
              label: null,
              createdAt: T0,
              expiresAt: null,
            }
            // Writes.
            await expectUnavailable(store.write(accountId, (tx) => put(tx, 'chats', 'c1')))
            await expectUnavailable(store.createAccount('globex'))
            await expectUnavailable(store.insertToken(token))
            await expectUnavailable(store.revokeToken(accountId, 1, T0))
            await expectUnavailable(store.migrate())
            if (store.consumeRateLimit !== undefined) {
              await expectUnavailable(store.consumeRateLimit('k', 3, 60_000_000, T0))
            }
            const page = {
              accountId,
              stream: 'chats' as const,
              afterPosition: 0,
              afterSortId: null,
              limit: 10,
            }
            if (down.readsFail) {
              await expectUnavailable(store.readPage(page))
              await expectUnavailable(store.lastPosition(accountId))
              await expectUnavailable(store.getTokenByPrefix('cx_down'))
              await expectUnavailable(store.getAccountByName('acme'))
              await expectUnavailable(store.getAccountById(accountId))
              await expectUnavailable(store.listAccounts())
              await expectUnavailable(store.listTokens(accountId))
            } else {
              // WAL: readers go on while another process holds the write lock.
              expect(await store.readPage(page)).toEqual([])
              expect(await store.getTokenByPrefix('cx_down')).toBeUndefined()
            }
          } finally {
            await down.cleanup()
          }
        },
        30_000,
      )
    })

    describe('durability', () => {
      it('keeps everything across close and reopen', async () => {
        const clock = new ManualClock(T0)
        const { handle, store, accountId } = await openWithAccount(clock)
        const token = await store.insertToken({
          accountId,
          prefix: 'cx_durable',
          hash: Buffer.alloc(32, 7),
          role: 'owner',
          scopes: ['read'],
          label: null,
          createdAt: T0,
          expiresAt: null,
        })
        await store.write(accountId, async (tx) => {
          await put(tx, 'chats', 'c1')
          await put(tx, 'agent_timeline', 't1', { position: T0 + 50 })
          await tx.putState('queue', 'd1', '{"incoming":3}')
          await tx.markEvent('evt-1')
        })
        const rows = await readAll(store, accountId, 'chats', 10)
        await store.close()
        await store.close() // closing twice is harmless
        await expect(store.lastPosition(accountId)).rejects.toThrow()

        const reopened = await handle.reopen(clock)
        expect(await reopened.getAccountByName('acme')).toMatchObject({ id: accountId })
        expect(await reopened.getTokenByPrefix('cx_durable')).toEqual(token)
        expect(await readAll(reopened, accountId, 'chats', 10)).toEqual(rows)
        expect(await readAll(reopened, accountId, 'agent_timeline', 10)).toHaveLength(1)
        expect(await reopened.lastPosition(accountId)).toBe(T0 + 50)
        await reopened.write(accountId, async (tx) => {
          expect(tx.position).toBe(T0 + 51)
          expect(await tx.getState('queue', 'd1')).toBe('{"incoming":3}')
          expect(await tx.markEvent('evt-1')).toBe(false)
        })
      })
    })
  })
}
