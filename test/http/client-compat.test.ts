/**
 * The request patterns of real clients (../shared/spec/clients.md §2), replayed against the server:
 * each client's way of paging must end with every item exactly once (or, for clients that restart
 * from a time bookmark, every item at least once) and must terminate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Harness, TestAccount } from '../support/harness.js'
import { exampleItems, startHarness } from '../support/harness.js'

const base = exampleItems('chats')[0]!
const N = 2500

describe('real client request patterns', () => {
  let h: Harness
  let a: TestAccount
  const ids: string[] = []

  beforeAll(async () => {
    h = await startHarness()
    a = await h.account('compat')
    // Many chats in few transactions: long runs of equal positions across page boundaries.
    for (let batch = 0; batch < 5; batch++) {
      const items = Array.from({ length: N / 5 }, (_, i) => {
        const id = `2611.9339545.c${String(batch * 1000 + i).padStart(12, '0')}`
        ids.push(id)
        return { ...base, id }
      })
      expect((await h.importLines(a.readWrite, 'chats', items)).status).toBe(200)
    }
    expect(
      (await h.importLines(a.readWrite, 'agent_timeline', exampleItems('agent_timeline'))).status,
    ).toBe(200)
  })
  afterAll(() => h.close())

  const get = async (url: string) => {
    const res = await fetch(url.startsWith('http') ? url : `${h.url}${url}`, {
      headers: { authorization: `Bearer ${a.owner}` },
    })
    expect(res.status).toBe(200)
    return res.json()
  }

  it('Airbyte (manifest, 2025): fields and limit=1000, next_page verbatim, stop when count < 1000', async () => {
    const seen: string[] = []
    let page = await get(
      '/api/v2/chat/incremental/chats?fields=chats%28%2A%29&limit=1000&start_time=0',
    )
    for (let i = 0; i < 10; i++) {
      seen.push(...page.chats.map((c: any) => c.id))
      if (page.count < 1000) break
      page = await get(page.next_page)
    }
    expect(seen).toEqual(ids)
    const timeline = await get(
      '/api/v2/chat/incremental/agent_timeline?fields=agent_timeline(*)&limit=1000&start_time=1443657600000000',
    )
    expect(timeline.count).toBe(4)
  })

  it('Airbyte 0.1.x: start_time=end_time without start_id while count == limit loses nothing and ends', async () => {
    const seen: string[] = []
    let startTime: string | number = 0
    for (let i = 0; i < 20; i++) {
      const page = await get(
        `/api/v2/incremental/chats?fields=chats(*)&limit=1000&start_time=${startTime}`,
      )
      seen.push(...page.chats.map((c: any) => c.id))
      if (page.count !== 1000) break
      startTime = page.end_time
    }
    expect(new Set(seen)).toEqual(new Set(ids))
  })

  it('zenpy: unencoded fields, any parameter order, next_page until a page is empty', async () => {
    const seen: string[] = []
    let page = await get('/api/v2/chat/incremental/chats?fields=chats(*)&start_time=0')
    for (let i = 0; i < 10 && page.chats.length > 0; i++) {
      seen.push(...page.chats.map((c: any) => c.id))
      page = await get(page.next_page)
    }
    expect(page.chats).toEqual([])
    expect(seen).toEqual(ids)
  })

  it('dlt: legacy path, next_page while count > 0', async () => {
    const seen: string[] = []
    let page = await get('/api/v2/incremental/chats?start_time=0&fields=chats(*)&limit=1000')
    for (let i = 0; i < 10 && page.count > 0; i++) {
      seen.push(...page.chats.map((c: any) => c.id))
      page = await get(page.next_page)
    }
    expect(seen).toEqual(ids)
    expect(new URL(page.next_page).pathname).toBe('/api/v2/incremental/chats')
  })

  it('amp-labs: no parameters at all, relying on the default limit of 1000', async () => {
    const seen: string[] = []
    let page = await get('/api/v2/chat/incremental/chats')
    for (let i = 0; i < 10; i++) {
      seen.push(...page.chats.map((c: any) => c.id))
      if (page.count < 1000) break
      page = await get(page.next_page)
    }
    expect(seen).toEqual(ids)
  })

  it('the reference code samples: every parameter present and empty', async () => {
    const page = await get('/api/v2/chat/incremental/chats?fields=&limit=&start_id=&start_time=')
    expect(page.count).toBe(1000)
    expect(page.chats[0]).toEqual({ id: ids[0] })
  })

  it('Pathlight: restarting from end_time read as a float skips nothing', async () => {
    const page = await get('/api/v2/incremental/chats?start_time=0&limit=1000&fields=chats(*)')
    const asFloat = Number(page.end_time) // what Python's json gives it
    const again = await get(
      `/api/v2/incremental/chats?start_time=${asFloat}&limit=1000&fields=chats(*)`,
    )
    // Inclusive restart: it resumes at or before the last item already seen, never after it.
    const lastSeen = ids.indexOf(page.chats.at(-1).id)
    const firstAgain = ids.indexOf(again.chats[0].id)
    expect(firstAgain).toBeGreaterThanOrEqual(0)
    expect(firstAgain).toBeLessThanOrEqual(lastSeen)
  })
})
