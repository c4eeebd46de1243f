/**
 * `PUT /chats/{id}` and `DELETE /chats/{id}` on both stores: each write is a change of the
 * account like any other, so the chats export then serves the chat with a new update_timestamp
 * (a deleted chat with `deleted: true`), the REST reads and the search see it, a folded chat's
 * history records it, and the routes refuse what the exports refuse.
 */
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { issueToken } from '../../src/auth/tokens.js'
import { ManualClock } from '../../src/domain/clock.js'
import { formatIso } from '../../src/domain/time.js'
import { createApp } from '../../src/http/app.js'
import { chatWriter } from '../../src/ingest/chat-writes.js'
import { ingestService } from '../../src/ingest/ingest-events.js'
import type { Role, Scope } from '../../src/store/store.js'
import { exampleItems } from '../support/harness.js'
import type { StoreHandle } from '../support/stores.js'
import { storeBackends } from '../support/stores.js'

const NOW = Date.UTC(2026, 10, 28, 12) * 1000
const IMPORTED = '2012.9339545.SJs7biGpcbveH'
const FOLDED = '2611.9339545.folded'
const T = (s: string) => `2026-11-27T09:${s}Z`

const foldedEvents = [
  {
    id: 'f-1',
    type: 'chat.started',
    timestamp: T('00:00'),
    chat_id: FOLDED,
    visitor: { id: '9339545.v1', name: 'Vera Visitor', email: 'vera@example.com' },
    session: { id: 's1', start_date: T('00:00') },
  },
  {
    id: 'f-2',
    type: 'chat.member_joined',
    timestamp: T('00:00'),
    chat_id: FOLDED,
    member: 'visitor',
  },
  {
    id: 'f-3',
    type: 'chat.message',
    timestamp: T('00:04'),
    chat_id: FOLDED,
    sender: 'visitor',
    msg: 'hello',
  },
  { id: 'f-4', type: 'chat.ended', timestamp: T('05:00'), chat_id: FOLDED },
]

for (const backend of storeBackends()) {
  describe(`${backend.name}: chat writes`, () => {
    const clock = new ManualClock(NOW)
    let handle: StoreHandle
    let app: ReturnType<typeof createApp>
    let rw: string
    let readOnly: string
    let agent: string
    let other: string

    beforeAll(async () => {
      handle = await backend.create(clock)
      const store = handle.store
      app = createApp({
        store,
        clock,
        logger: pino({ level: 'silent' }),
        directory: store.directory,
        chats: store.chats,
        chatWrites: chatWriter(store),
        ingestEvents: ingestService(store, clock),
      })
      const a = await store.createAccount('writes-a')
      const b = await store.createAccount('writes-b')
      const tok = (id: number, role: Role, scopes: Scope[]) =>
        issueToken(store, { accountId: id, role, scopes, now: NOW }).then((t) => t.token)
      rw = await tok(a.id, 'administrator', ['read', 'write'])
      readOnly = await tok(a.id, 'owner', ['read'])
      agent = await tok(a.id, 'agent', ['read', 'write'])
      other = await tok(b.id, 'owner', ['read', 'write'])
      const imported = await call('POST', '/api/chat-export/v1/import/chats', rw, undefined, {
        'content-type': 'application/x-ndjson',
        body: exampleItems('chats')
          .map((c) => JSON.stringify(c))
          .join('\n'),
      })
      expect(imported.status).toBeLessThan(300)
      const ingested = await call('POST', '/api/chat-export/v1/events', rw, foldedEvents)
      expect(ingested.status).toBeLessThan(300)
    })
    afterAll(async () => handle.cleanup())

    async function call(
      method: string,
      path: string,
      tok: string,
      json?: unknown,
      raw?: { 'content-type': string; body: string },
    ) {
      const res = await app.request(`http://chat.test${path}`, {
        method,
        headers: {
          authorization: `Bearer ${tok}`,
          'content-type': raw?.['content-type'] ?? 'application/json',
        },
        ...(raw ? { body: raw.body } : json === undefined ? {} : { body: JSON.stringify(json) }),
      })
      const text = await res.text()
      return { status: res.status, body: text === '' ? null : JSON.parse(text) }
    }

    /** The chats export from `since` (µs), by chat id. */
    const exported = async (since: number) => {
      const seconds = (since / 1e6).toFixed(6)
      const { body } = await call(
        'GET',
        `/api/v2/chat/incremental/chats?fields=chats(*)&start_time=${seconds}`,
        rw,
      )
      return new Map<string, Record<string, any>>(
        (body.chats as Record<string, any>[]).map((c) => [c.id as string, c]),
      )
    }

    it('PUT changes an imported chat: the reply, the reads, the search and the export show it', async () => {
      clock.set(NOW + 1_000_000)
      const before = NOW + 1_000_000
      const res = await call('PUT', `/api/v2/chat/chats/${IMPORTED}`, rw, {
        tags: ['vip', 'refund'],
        rating: 'bad',
        'visitor.name': 'Renamed Visitor',
        unread: 0,
        id: IMPORTED,
      })
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ id: IMPORTED, rating: 'bad', unread: false })
      expect(res.body.visitor.name).toBe('Renamed Visitor')
      expect(res.body).not.toHaveProperty('update_timestamp')
      const read = await call('GET', `/api/v2/chats/${IMPORTED}`, rw)
      expect(read.body.tags).toEqual(expect.arrayContaining(['vip', 'refund']))
      const found = await call(
        'GET',
        `/api/v2/chat/chats/search?q=${encodeURIComponent('tags:vip AND visitor_name:"renamed visitor"')}`,
        rw,
      )
      expect(found.body.results.map((r: { id: string }) => r.id)).toEqual([IMPORTED])
      const item = (await exported(before)).get(IMPORTED)
      expect(item?.rating).toBe('bad')
      expect(Date.parse(item?.update_timestamp)).toBeGreaterThanOrEqual(before / 1000)
      // The same values again change nothing: no new position, the export does not repeat it.
      const last = await handle.store.lastPosition(
        (await handle.store.getAccountByName('writes-a'))!.id,
      )
      clock.set(NOW + 2_000_000)
      await call('PUT', `/api/v2/chat/chats/${IMPORTED}`, rw, { rating: 'bad' })
      expect(
        await handle.store.lastPosition((await handle.store.getAccountByName('writes-a'))!.id),
      ).toBe(last)
    })

    it('PUT on a folded chat goes through the fold: its history records the tag and rating', async () => {
      clock.set(NOW + 3_000_000)
      const res = await call('PUT', `/api/v2/chats/${FOLDED}`, rw, {
        chat: { tags: ['pricing'], rating: 'good', comment: 'Thanks' },
      })
      expect(res.status).toBe(200)
      const item = (await exported(NOW + 3_000_000)).get(FOLDED)
      expect(item).toMatchObject({ tags: ['pricing'], rating: 'good', comment: 'Thanks' })
      expect(item?.update_timestamp).toBe(formatIso(NOW + 3_000_000))
      const kinds = (item?.history as { type: string }[]).map((h) => h.type)
      expect(kinds).toEqual(expect.arrayContaining(['chat.tag', 'chat.rating', 'chat.comment']))
    })

    it('DELETE: 204, then 404 on reads, gone from list and search, deleted: true in the export', async () => {
      for (const [id, at] of [
        [FOLDED, NOW + 4_000_000],
        [IMPORTED, NOW + 5_000_000],
      ] as const) {
        clock.set(at)
        expect((await call('DELETE', `/api/v2/chat/chats/${id}`, rw)).status).toBe(204)
        expect((await call('GET', `/api/v2/chat/chats/${id}`, rw)).status).toBe(404)
        expect((await call('DELETE', `/api/v2/chat/chats/${id}`, rw)).status).toBe(404)
        expect((await call('PUT', `/api/v2/chat/chats/${id}`, rw, { unread: true })).status).toBe(
          404,
        )
        const item = (await exported(at)).get(id)
        expect(item).toMatchObject({ id, deleted: true, update_timestamp: formatIso(at) })
      }
      const list = await call('GET', '/api/v2/chat/chats', rw)
      expect(list.body.chats.map((c: { id: string }) => c.id)).not.toContain(IMPORTED)
      const search = await call('GET', '/api/v2/chat/chats/search?q=tags:vip', rw)
      expect(search.body.count).toBe(0)
      // A folded chat that was deleted takes no more events either.
      const late = await call('POST', '/api/chat-export/v1/events', rw, [
        { id: 'f-9', type: 'chat.rated', timestamp: T('59:00'), chat_id: FOLDED, rating: 'bad' },
      ])
      expect(late.status).toBe(400)
    })

    it('refuses without the write scope or the role, bad bodies, and other accounts', async () => {
      const id = '2012.9339545.SJsAIFAY09HB1'
      expect(
        (await call('PUT', `/api/v2/chat/chats/${id}`, readOnly, { unread: true })).status,
      ).toBe(403)
      expect((await call('PUT', `/api/v2/chat/chats/${id}`, agent, { unread: true })).status).toBe(
        403,
      )
      expect((await call('DELETE', `/api/v2/chat/chats/${id}`, agent)).status).toBe(403)
      const unknown = await call('PUT', `/api/v2/chat/chats/${id}`, rw, { duration: 5 })
      expect(unknown.status).toBe(400)
      expect(unknown.body.description).toContain('chat.duration')
      expect((await call('PUT', `/api/v2/chat/chats/${id}`, rw, { rating: 'meh' })).status).toBe(
        400,
      )
      expect((await call('PUT', `/api/v2/chat/chats/${id}`, other, { unread: true })).status).toBe(
        404,
      )
      expect((await call('DELETE', `/api/v2/chat/chats/${id}`, other)).status).toBe(404)
      expect((await call('GET', `/api/v2/chat/chats/${id}`, rw)).body.unread).not.toBe(true)
    })
  })
}
