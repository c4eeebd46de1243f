/**
 * The `item-lines` layout (`Prefer: item-lines`): the same JSON as a compact page, with each item
 * on a line of its own, said in `Preference-Applied` and `Vary`; a request without the preference
 * gets exactly the compact bytes. And the client that asks for it (raw items) gets the same items
 * as one that parses every page whole.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { syntheticChats } from '../../src/bench/bench-data.js'
import { ExportClient } from '../../src/client/export-client.js'
import type { FetchLike } from '../../src/client/index.js'
import type { Harness, TestAccount } from '../support/harness.js'
import { startHarness } from '../support/harness.js'
import { storeBackends } from '../support/stores.js'

const CHATS = '/api/v2/chat/incremental/chats'

for (const backend of storeBackends()) {
  describe(`item-lines pages (${backend.name})`, () => {
    let h: Harness
    let a: TestAccount
    const get = async (path: string, prefer?: string) => {
      const res = await h.get(path, a.owner, {
        'accept-encoding': 'identity',
        ...(prefer === undefined ? {} : { prefer }),
      })
      expect(res.status).toBe(200)
      return { headers: res.headers, text: await res.text() }
    }

    beforeAll(async () => {
      h = await startHarness({ backend })
      a = await h.account('item-lines')
      const chats = syntheticChats(30, Date.UTC(2026, 10, 1) * 1000, 5)
      expect((await h.importLines(a.readWrite, 'chats', chats)).status).toBe(200)
    })
    afterAll(() => h.close())

    for (const query of [
      '?fields=chats(*)&limit=20',
      '?limit=20',
      '?fields=chats(id,rating,response_time.max)&limit=20',
    ]) {
      it(`puts each item on its own line when asked, and only then (${query})`, async () => {
        const compact = await get(`${CHATS}${query}`)
        const lines = await get(`${CHATS}${query}`, 'respond-async, item-lines')
        expect(compact.text).not.toContain('\n')
        expect(compact.headers.get('preference-applied')).toBeNull()
        expect(lines.headers.get('preference-applied')).toBe('item-lines')
        expect(lines.headers.get('vary')).toMatch(/\bPrefer\b/)
        expect(compact.headers.get('vary')).toMatch(/\bPrefer\b/)
        // The same bytes but for the newlines, so the same JSON.
        expect(lines.text.replaceAll('\n', '')).toBe(compact.text)
        const page = JSON.parse(compact.text) as { chats: unknown[]; count: number }
        expect(page.count).toBe(20)
        const body = lines.text
        const region = body.slice(body.indexOf('[') + 1, body.lastIndexOf('],"'))
        const rows = region.split('\n')
        // "\n{…},\n…\n{…}\n": an empty first and last piece around one line per item.
        expect(rows.at(0)).toBe('')
        expect(rows.at(-1)).toBe('')
        const items = rows.slice(1, -1).map((row, i, all) => {
          expect(row.endsWith(i === all.length - 1 ? '}' : '},')).toBe(true)
          return JSON.parse(row.replace(/,$/, '')) as unknown
        })
        expect(items).toEqual(page.chats)
      })
    }

    it('writes an empty page the same either way', async () => {
      const all = JSON.parse((await get(`${CHATS}?fields=chats(*)`)).text) as { next_page: string }
      const next = new URL(all.next_page)
      const query = `${next.pathname}${next.search}`
      const compact = await get(query)
      const lines = await get(query, 'item-lines')
      expect(JSON.parse(compact.text)).toMatchObject({ chats: [], count: 0 })
      expect(lines.text).toBe(compact.text)
    })

    it('is what the client asks for with raw items, and the items are those of whole parsing', async () => {
      const seen: { prefer: string | null; applied: string | null }[] = []
      const recording: FetchLike = async (input, init) => {
        const res = await fetch(input, init)
        seen.push({
          prefer: new Headers(init.headers).get('prefer'),
          applied: res.headers.get('preference-applied'),
        })
        return res
      }
      const client = (fetchFn?: FetchLike) =>
        new ExportClient({
          baseUrl: `${h.url}/api/v2/chat`,
          token: a.owner,
          limit: 7,
          ...(fetchFn === undefined ? {} : { fetch: fetchFn }),
        })
      const raw: unknown[] = []
      for await (const page of client(recording).pages('chats', { rawItems: true }))
        for (const item of page.rawItems ?? []) raw.push(JSON.parse(item.json))
      const whole: unknown[] = []
      for await (const item of client().items('chats')) whole.push(item)
      expect(whole).toHaveLength(30)
      expect(raw).toEqual(whole)
      expect(seen.length).toBeGreaterThan(4)
      for (const s of seen) expect(s).toEqual({ prefer: 'item-lines', applied: 'item-lines' })
    })
  })
}
