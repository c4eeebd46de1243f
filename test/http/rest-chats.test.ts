/**
 * `/chats`, `/chats/{id}`, `/chats?ids=` and `/chats/search` over the chats the export stores
 * (imported through the real import route), on both path shapes.
 */
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { issueToken } from '../../src/auth/tokens.js'
import { ManualClock } from '../../src/domain/clock.js'
import { createApp } from '../../src/http/app.js'
import { exampleItems } from '../support/harness.js'
import { memoryDirectory, scanChatReader } from '../support/memory-directory.js'
import type { StoreHandle } from '../support/stores.js'
import { storeBackends } from '../support/stores.js'

const NOW = 1_710_000_000_000_000
const [FIRST, SECOND] = ['2012.9339545.SJs7biGpcbveH', '2012.9339545.SJsAIFAY09HB1']

for (const backend of storeBackends()) {
  describe(`${backend.name}: chats outside the export`, () => {
    const clock = new ManualClock(NOW)
    let handle: StoreHandle
    let app: ReturnType<typeof createApp>
    let read: string
    let other: string

    beforeAll(async () => {
      handle = await backend.create(clock)
      app = createApp({
        store: handle.store,
        clock,
        logger: pino({ level: 'silent' }),
        directory: handle.store.directory ?? memoryDirectory(handle.store),
        chats: scanChatReader(handle.store),
      })
      const account = await handle.store.createAccount('chats-a')
      const b = await handle.store.createAccount('chats-b')
      const tok = (id: number, scopes: ('read' | 'write')[]) =>
        issueToken(handle.store, { accountId: id, role: 'owner', scopes, now: NOW }).then(
          (t) => t.token,
        )
      read = await tok(account.id, ['read'])
      other = await tok(b.id, ['read'])
      const res = await app.request('/api/chat-export/v1/import/chats', {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await tok(account.id, ['write'])}`,
          'content-type': 'application/x-ndjson',
        },
        body: exampleItems('chats')
          .map((c) => JSON.stringify(c))
          .join('\n'),
      })
      expect(res.status).toBeLessThan(300)
    })
    afterAll(async () => handle.cleanup())

    const get = async (path: string, tok = read) => {
      const res = await app.request(`http://chat.test${path}`, {
        headers: { authorization: `Bearer ${tok}` },
      })
      return { status: res.status, body: JSON.parse(await res.text()) }
    }

    it('serves one chat without the export-only fields; 404 for an unknown one', async () => {
      const { status, body } = await get(`/api/v2/chat/chats/${FIRST}`)
      expect(status).toBe(200)
      expect(body.id).toBe(FIRST)
      expect(body).not.toHaveProperty('engagements')
      expect(body).not.toHaveProperty('update_timestamp')
      expect(body).not.toHaveProperty('deleted')
      expect(body.visitor.name).toBe('Visitor 25396546')
      expect((await get('/api/v2/chats/nope')).status).toBe(404)
    })

    it('bulk read: docs keyed by id, count, unknown ids left out', async () => {
      const { body } = await get(`/api/v2/chats?ids=${FIRST},nope,${SECOND}`)
      expect(Object.keys(body.docs).sort()).toEqual([FIRST, SECOND])
      expect(body.count).toBe(2)
      expect(body.docs[SECOND].id).toBe(SECOND)
    })

    it('lists with next_url on full pages and null on the last; a foreign cursor is a 400', async () => {
      const first = await get('/api/v2/chat/chats?limit=1')
      expect(first.body.chats.map((c: { id: string }) => c.id)).toEqual([FIRST])
      expect(first.body.count).toBe(1)
      expect(first.body.next_url).toMatch(
        /^http:\/\/chat\.test\/api\/v2\/chat\/chats\?limit=1&cursor=/,
      )
      const second = await get(
        new URL(first.body.next_url).pathname + new URL(first.body.next_url).search,
      )
      expect(second.body.chats.map((c: { id: string }) => c.id)).toEqual([SECOND])
      const third = await get(
        new URL(second.body.next_url).pathname + new URL(second.body.next_url).search,
      )
      expect(third.body).toEqual({ chats: [], count: 0, next_url: null })
      const all = await get('/api/v2/chats')
      expect(all.body.count).toBe(2)
      expect(all.body.next_url).toBeNull()
      expect((await get('/api/v2/chats?cursor=%%%')).status).toBe(400)
    })

    it("searches with singer's and embulk's queries; results carry the chat's own URL", async () => {
      const singer = await get(
        `/api/v2/chat/chats/search?q=${encodeURIComponent('type:chat AND end_timestamp:[2020-12-22T04:54:59 TO 2020-12-22T05:00:00]')}`,
      )
      expect(singer.body).toEqual({
        results: [
          {
            id: FIRST,
            type: 'chat',
            timestamp: '2020-12-22T04:54:16Z',
            preview: 'deded',
            url: `http://chat.test/api/v2/chat/chats/${FIRST}`,
          },
        ],
        count: 1,
        next_url: null,
      })
      const embulk = await get(
        `/api/v2/chats/search?q=${encodeURIComponent('timestamp:[2020-12-22T00:00:00Z TO *]')}&page=1`,
      )
      expect(embulk.body.count).toBe(2)
      expect(embulk.body.results[1].url).toBe(`http://chat.test/api/v2/chats/${SECOND}`)
      expect((await get('/api/v2/chat/chats/search?q=goodbye_survey')).body.count).toBe(1)
      expect(
        (await get('/api/v2/chat/chats/search?q=%22hello%20again%22')).body.results[0].id,
      ).toBe(SECOND)
      expect((await get('/api/v2/chat/chats/search?q=colour:red')).status).toBe(400)
      expect((await get('/api/v2/chat/chats/search?q=type:chat&page=251')).status).toBe(400)
    })

    it('another account sees none of these chats', async () => {
      expect((await get('/api/v2/chat/chats', other)).body).toEqual({
        chats: [],
        count: 0,
        next_url: null,
      })
      expect((await get(`/api/v2/chat/chats/${FIRST}`, other)).status).toBe(404)
      expect((await get(`/api/v2/chats?ids=${FIRST}`, other)).body).toEqual({ docs: {}, count: 0 })
      expect((await get('/api/v2/chat/chats/search?q=type:chat', other)).body.count).toBe(0)
    })
  })
}
