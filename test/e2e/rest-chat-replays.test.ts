/**
 * The request sequences real clients send to the chats outside the export (chat-rest-api.md
 * §1 rows 19–22, §3.12; clients.md §2.5), replayed over real HTTP on loopback against `serve`'s
 * own wiring (startServer) on each store: singer-io/tap-zendesk-chat's discovery and its 14-day
 * search windows followed by bulk reads, zenpy's chat API calls, and embulk-input-zendesk's paged
 * search. Each must complete and see every chat of the account exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/domain/clock.js'
import { formatIso } from '../../src/domain/time.js'
import type { Harness } from '../support/harness.js'
import { exampleItems, startHarness } from '../support/harness.js'
import { storeBackends } from '../support/stores.js'

const DAY = 86_400_000_000
const START = Date.UTC(2024, 0, 1) * 1000
const CHATS = 200
const OFFLINE = 12
/** Off every window boundary (whole days), so inclusive ranges cannot count a chat twice. */
const OFFSET = (37 * 60 + 13) * 1_000_000

/** The account's chats: clones of the reference chat, every 8 hours, plus offline messages. */
function chats(): Record<string, unknown>[] {
  const [template] = exampleItems('chats')
  const out: Record<string, unknown>[] = []
  for (let i = 0; i < CHATS + OFFLINE; i++) {
    const offline = i >= CHATS
    const at = START + Math.floor((i * DAY) / 3) + OFFSET
    out.push({
      ...template,
      id: `2401.${String(i).padStart(5, '0')}.replay`,
      type: offline ? 'offline_msg' : 'chat',
      timestamp: formatIso(at),
      ...(offline
        ? { message: `Offline message ${i}`, started_by: 'visitor' }
        : { end_timestamp: formatIso(at + 600_000_000) }),
      update_timestamp: formatIso(at + 600_000_000),
    })
  }
  return out
}

/** Naive ISO (Python's `datetime.isoformat()` of a UTC datetime without tzinfo). */
const naive = (micros: number) => formatIso(micros).replace(/Z$/, '')

for (const backend of storeBackends()) {
  describe(`${backend.name}: chat API replays over HTTP`, () => {
    let h: Harness
    let token: string
    const all = chats()
    const chatIds = all.filter((c) => c['type'] === 'chat').map((c) => c['id'] as string)
    const everyId = all.map((c) => c['id'] as string)

    beforeAll(async () => {
      h = await startHarness({ backend, clock: new ManualClock(START + 200 * DAY) })
      const account = await h.account('replays')
      token = account.readWrite
      const imported = await h.importLines(account.readWrite, 'chats', all)
      expect(imported.status, await imported.clone().text()).toBeLessThan(300)
      // Another account's chats with the same ids must not show.
      const other = await h.account('replays-other')
      await h.importLines(other.readWrite, 'chats', all.slice(0, 5))
    })
    afterAll(async () => h.close())

    /** GET an absolute URL (as clients follow next_url) or a path, Bearer auth, JSON answer. */
    const get = async (target: string) => {
      const url = target.startsWith('http') ? target : `${h.url}${target}`
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
      const text = await res.text()
      return { status: res.status, body: JSON.parse(text) as Record<string, any> }
    }

    it('singer: probe, discovery, then 14-day search windows with next_url and bulk reads', async () => {
      // http.py: the subdomain host's agents probe decides the base URL.
      expect((await get('/api/v2/chat/agents')).status).toBe(200)
      // discover.py: GET /chats and GET /account (403 there would drop the account stream).
      expect((await get('/api/v2/chat/chats')).status).toBe(200)
      expect((await get('/api/v2/chat/account')).status).toBe(200)

      const seen = new Map<string, number>()
      let requests = 0
      for (const [type, field] of [
        ['chat', 'end_timestamp'],
        ['offline_msg', 'timestamp'],
      ] as const) {
        for (let from = START; from < START + 90 * DAY; from += 14 * DAY) {
          const q = `type:${type} AND ${field}:[${naive(from)} TO ${naive(from + 14 * DAY)}]`
          let page = await get(`/api/v2/chat/chats/search?q=${encodeURIComponent(q)}`)
          for (;;) {
            requests++
            expect(page.status).toBe(200)
            const ids = (page.body['results'] as { id: string }[]).map((r) => r.id)
            if (ids.length > 0) {
              const bulk = await get(`/api/v2/chat/chats?ids=${ids.join(',')}`)
              expect(bulk.body['count']).toBe(ids.length)
              for (const chat of Object.values(bulk.body['docs'] as Record<string, any>)) {
                expect(chat.type).toBe(type)
                seen.set(chat.id, (seen.get(chat.id) ?? 0) + 1)
              }
            }
            const next = page.body['next_url'] as string | null
            if (!next) break
            // Followed verbatim: absolute, on this server.
            expect(next.startsWith(h.url)).toBe(true)
            page = await get(next)
          }
        }
      }
      expect([...seen.keys()].sort()).toEqual([...everyId].sort())
      expect([...seen.values()].every((n) => n === 1)).toBe(true)
      // Windows of more than 40 chats (42 here) took a second page.
      expect(requests).toBeGreaterThan(14)
    })

    it('zenpy: chats(), chats(id=), chats(ids=), search, and the directory lists', async () => {
      // ChatResultGenerator: next_url verbatim until it is null.
      const listed: string[] = []
      let page = await get('/api/v2/chat/chats')
      for (;;) {
        expect(page.body['chats'].length).toBeLessThanOrEqual(40)
        listed.push(...(page.body['chats'] as { id: string }[]).map((c) => c.id))
        if (!page.body['next_url']) break
        page = await get(page.body['next_url'] as string)
      }
      expect(listed).toEqual([...everyId].sort())

      const one = await get(`/api/v2/chat/chats/${everyId[7]}`)
      expect(one.body['id']).toBe(everyId[7])
      expect(one.body).not.toHaveProperty('update_timestamp')
      const some = await get(`/api/v2/chat/chats?ids=${everyId.slice(0, 3).join(',')}`)
      expect(Object.keys(some.body['docs']).sort()).toEqual(everyId.slice(0, 3))

      const found: string[] = []
      let search = await get(`/api/v2/chat/chats/search?q=${encodeURIComponent('type:chat')}`)
      expect(search.body['count']).toBe(CHATS)
      for (;;) {
        found.push(...(search.body['results'] as { id: string; url: string }[]).map((r) => r.id))
        if (!search.body['next_url']) break
        search = await get(search.body['next_url'] as string)
      }
      expect(found).toEqual([...chatIds].sort())

      for (const path of ['agents', 'departments', 'goals', 'shortcuts']) {
        const list = await get(`/api/v2/chat/${path}`)
        expect(list.status, path).toBe(200)
        expect(Array.isArray(list.body), path).toBe(true)
      }
    })

    it('embulk: legacy paths, timestamp range with page=N, then bulk reads by id', async () => {
      const q = `timestamp:[${formatIso(START)} TO ${formatIso(START + 200 * DAY)}]`
      const seen: string[] = []
      for (let page = 1; ; page++) {
        const res = await get(`/api/v2/chats/search?q=${encodeURIComponent(q)}&page=${page}`)
        expect(res.status).toBe(200)
        expect(res.body['count']).toBe(CHATS + OFFLINE)
        const results = res.body['results'] as { id: string; url: string }[]
        if (results.length === 0) break
        for (const r of results) expect(r.url).toBe(`${h.url}/api/v2/chats/${r.id}`)
        const bulk = await get(`/api/v2/chats?ids=${results.map((r) => r.id).join(',')}`)
        expect(bulk.body['count']).toBeGreaterThan(0)
        seen.push(...Object.keys(bulk.body['docs'] as Record<string, unknown>))
      }
      expect(seen.sort()).toEqual([...everyId].sort())
    })
  })
}
