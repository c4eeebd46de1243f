/**
 * Cursor edge cases over real HTTP: ties on one microsecond and one second across page
 * boundaries, limit=1 chains, empty polling pages, updated items reappearing, clients that drop
 * start_id, and imports behind the high-water mark.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { formatIso, parseIso } from '../../src/domain/time.js'
import type { Harness, TestAccount } from '../support/harness.js'
import { exampleItems, startHarness } from '../support/harness.js'

function chat(id: string, updated: string): Record<string, unknown> {
  const base = exampleItems('chats')[0]!
  return { ...base, id, update_timestamp: updated }
}

/** Follows next_page from `path` until a page has count < limit; returns every item and page. */
async function follow(h: Harness, token: string, path: string) {
  const items: any[] = []
  const pages: any[] = []
  let url = `${h.url}${path}`
  for (let i = 0; i < 1000; i++) {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(200)
    const page = await res.json()
    pages.push(page)
    const key = Object.keys(page).find((k) => Array.isArray(page[k]))!
    items.push(...page[key])
    const limit = Number(new URL(url).searchParams.get('limit') ?? 1000)
    if (page.count < limit) return { items, pages, last: page }
    url = page.next_page
  }
  throw new Error('did not catch up')
}

describe('cursor', () => {
  let h: Harness
  let a: TestAccount
  beforeEach(async () => {
    h = await startHarness()
    a = await h.account('cursor')
  })
  afterEach(() => h.close())

  it('many items in one transaction, limit=1 chain: every item exactly once, each at its own position', async () => {
    // Ids out of order: the file's order, not the ids, decides the order of one import.
    const ids = Array.from(
      { length: 25 },
      (_, i) => `2611.1.chat${String((i * 7) % 25).padStart(3, '0')}`,
    )
    const res = await h.importLines(
      a.readWrite,
      'chats',
      ids.map((id) => chat(id, '2020-01-01T00:00:00Z')),
    )
    expect(res.status).toBe(200)
    const { items, pages } = await follow(h, a.owner, '/api/v2/chat/incremental/chats?limit=1')
    expect(items.map((c) => c.id)).toEqual(ids)
    // One position per item (issue 13, finding 4): a restart from any end_time alone repeats at
    // most that one item.
    const times = pages.slice(0, 25).map((p) => p.end_time as number)
    expect(new Set(times).size).toBe(25)
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThan(times[i - 1]!)
    for (const page of pages.slice(0, 24)) {
      const restart = await h.getJson(
        `/api/v2/chat/incremental/chats?start_time=${page.end_time}&limit=2`,
        a.owner,
      )
      expect(restart.chats.map((c: any) => c.id)[0]).toBe(page.end_id)
      expect(
        restart.chats.filter(
          (c: any) =>
            items.findIndex((i) => i.id === c.id) <= items.findIndex((i) => i.id === page.end_id),
        ),
      ).toHaveLength(1)
    }
    expect(pages.at(-1).count).toBe(0)
  })

  it('many items in one second across page boundaries, with preserved timestamps', async () => {
    const items = Array.from({ length: 10 }, (_, i) =>
      chat(`2611.1.s${i}`, '2020-06-01T10:00:00Z'),
    ).concat([chat('2611.1.later', '2020-06-01T10:00:01Z')])
    expect((await h.importLines(a.readWrite, 'chats', items, true)).status).toBe(200)
    for (const limit of [1, 3, 4, 10]) {
      const got = await follow(h, a.owner, `/api/v2/chat/incremental/chats?limit=${limit}`)
      expect(got.items.map((c) => c.id)).toEqual(items.map((c) => c.id))
    }
  })

  it('an empty polling page keeps the cursor and its next_page is the same URL', async () => {
    await h.importLines(a.readWrite, 'chats', [chat('2611.1.a', '2020-01-01T00:00:00Z')])
    const first = await h.getJson('/api/v2/chat/incremental/chats?limit=5', a.owner)
    expect(first.count).toBe(1)
    const poll = await (
      await fetch(first.next_page, { headers: { authorization: `Bearer ${a.owner}` } })
    ).json()
    expect(poll).toEqual({
      chats: [],
      count: 0,
      end_id: first.end_id,
      end_time: first.end_time,
      next_page: first.next_page,
    })
  })

  it('an updated item reappears after the cursor with its new update_timestamp', async () => {
    await h.importLines(a.readWrite, 'chats', [
      chat('2611.1.a', '2020-01-01T00:00:00Z'),
      chat('2611.1.b', '2020-01-01T00:00:00Z'),
    ])
    const first = await h.getJson(
      '/api/v2/chat/incremental/chats?fields=chats(id,update_timestamp)',
      a.owner,
    )
    expect(first.count).toBe(2)
    await h.importLines(a.readWrite, 'chats', [
      { ...chat('2611.1.a', '2020-01-01T00:00:00Z'), tags: ['changed'] },
    ])
    const next = await (
      await fetch(first.next_page, { headers: { authorization: `Bearer ${a.owner}` } })
    ).json()
    expect(next.chats.map((c: any) => c.id)).toEqual(['2611.1.a'])
    expect(parseIso(next.chats[0].update_timestamp)!).toBeGreaterThan(
      parseIso(first.chats[0].update_timestamp)!,
    )
    // The projection kept exactly what was asked.
    expect(Object.keys(next.chats[0]).sort()).toEqual(['id', 'update_timestamp'])
  })

  it('start_time without start_id is inclusive; with start_id it is exclusive', async () => {
    const items = [
      chat('2611.1.a', '2020-01-01T00:00:00Z'),
      chat('2611.1.b', '2020-01-01T00:00:00Z'),
    ]
    await h.importLines(a.readWrite, 'chats', items, true)
    const inclusive = await h.getJson(
      '/api/v2/chat/incremental/chats?start_time=1577836800',
      a.owner,
    )
    expect(inclusive.count).toBe(2)
    const exclusive = await h.getJson(
      '/api/v2/chat/incremental/chats?start_time=1577836800&start_id=2611.1.a',
      a.owner,
    )
    expect(exclusive.chats).toEqual([{ id: '2611.1.b' }])
    const after = await h.getJson(
      '/api/v2/chat/incremental/chats?start_time=1577836800.000001',
      a.owner,
    )
    expect(after.count).toBe(0)
  })

  it('a client that drops start_id and restarts from end_time loses nothing and repeats at most the boundary', async () => {
    const ids = Array.from({ length: 7 }, (_, i) => `2611.1.k${i}`)
    for (const id of ids)
      await h.importLines(a.readWrite, 'chats', [chat(id, '2020-01-01T00:00:00Z')])
    const seen: string[] = []
    let startTime = '0'
    for (let i = 0; i < 20; i++) {
      const page = await h.getJson(
        `/api/v2/chat/incremental/chats?limit=2&start_time=${startTime}`,
        a.owner,
      )
      seen.push(...page.chats.map((c: any) => c.id))
      if (page.count < 2) break
      startTime = String(page.end_time) // the Airbyte 0.1.x way: no start_id
    }
    expect([...new Set(seen)]).toEqual(ids)
    expect(seen.length - ids.length).toBeLessThanOrEqual(6) // at most one repeat per page
  })

  it('imports behind the high-water mark are refused and write nothing', async () => {
    await h.importLines(a.readWrite, 'chats', [chat('2611.1.new', '2021-01-01T00:00:00Z')], true)
    const res = await h.importLines(
      a.readWrite,
      'chats',
      [chat('2611.1.ok', '2022-01-01T00:00:00Z'), chat('2611.1.old', '2020-01-01T00:00:00Z')],
      true,
    )
    expect(res.status).toBe(409)
    const body = await res.json()
    expect(body.details).toEqual([expect.objectContaining({ line: 2 })])
    const all = await h.getJson('/api/v2/chat/incremental/chats', a.owner)
    expect(all.chats).toEqual([{ id: '2611.1.new' }])
    // Without preserving timestamps the same items import fine, at fresh positions.
    expect(
      (await h.importLines(a.readWrite, 'chats', [chat('2611.1.old', '2020-01-01T00:00:00Z')]))
        .status,
    ).toBe(200)
    const after = await h.getJson(
      '/api/v2/chat/incremental/chats?fields=chats(update_timestamp)',
      a.owner,
    )
    expect(after.chats.at(-1).id).toBe('2611.1.old')
    expect(parseIso(after.chats.at(-1).update_timestamp)!).toBeGreaterThan(
      parseIso('2021-01-01T00:00:00Z')!,
    )
  })

  it('a bad import line is reported with its number and nothing is written', async () => {
    const res = await fetch(`${h.url}/api/chat-export/v1/import/chats`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.readWrite}` },
      body: [
        JSON.stringify(chat('2611.1.a', '2020-01-01T00:00:00Z')),
        '{not json',
        JSON.stringify({ id: 5 }),
      ].join('\n'),
    })
    expect(res.status).toBe(400)
    const body = await res.json()
    expect(body.details.map((d: any) => d.line)).toEqual([2, 3])
    expect((await h.getJson('/api/v2/chat/incremental/chats', a.owner)).count).toBe(0)
  })

  it('limit above 1000 is served as 1000 and next_page says so', async () => {
    await h.importLines(a.readWrite, 'chats', [chat('2611.1.a', '2020-01-01T00:00:00Z')])
    const page = await h.getJson('/api/v2/chat/incremental/chats?limit=5000', a.owner)
    expect(new URL(page.next_page).searchParams.get('limit')).toBe('1000')
  })

  it('next_page uses the configured public URL behind a proxy', async () => {
    const h2 = await startHarness({ config: { publicUrl: 'https://chat.example.com' } })
    try {
      const b = await h2.account('proxy')
      const page = await h2.getJson('/api/v2/chat/incremental/chats', b.owner)
      expect(page.next_page).toBe(
        'https://chat.example.com/api/v2/chat/incremental/chats?start_time=0',
      )
    } finally {
      await h2.close()
    }
  })

  it('accounts are isolated: same ids, separate data, no cross-account reads', async () => {
    const b = await h.account('other')
    await h.importLines(a.readWrite, 'chats', [chat('2611.1.same', '2020-01-01T00:00:00Z')])
    await h.importLines(b.readWrite, 'chats', [
      { ...chat('2611.1.same', '2020-01-01T00:00:00Z'), tags: ['b'] },
      chat('2611.1.onlyb', '2020-01-01T00:00:00Z'),
    ])
    for (const stream of [
      'chats',
      'conversions',
      'department_events',
      'agent_timeline',
      'agent_events',
    ]) {
      const pa = await h.getJson(`/api/v2/chat/incremental/${stream}?fields=${stream}(*)`, a.owner)
      const pb = await h.getJson(`/api/v2/chat/incremental/${stream}?fields=${stream}(*)`, b.owner)
      if (stream === 'chats') {
        expect(pa.chats.map((c: any) => c.id)).toEqual(['2611.1.same'])
        expect(pa.chats[0].tags).toEqual([])
        // One position per item, in the order imported.
        expect(pb.chats.map((c: any) => c.id)).toEqual(['2611.1.same', '2611.1.onlyb'])
        expect(pb.chats[0].tags).toEqual(['b'])
      } else {
        expect(pa.count).toBe(0)
        expect(pb.count).toBe(0)
      }
    }
    expect(formatIso(0)).toBe('1970-01-01T00:00:00Z')
  })
})

describe('agent_timeline cursor', () => {
  let h: Harness
  let a: TestAccount
  beforeEach(async () => {
    h = await startHarness()
    a = await h.account('timeline')
  })
  afterEach(() => h.close())

  it('several spans of one agent in one transaction page one by one', async () => {
    const spans = exampleItems('agent_timeline')
    expect((await h.importLines(a.readWrite, 'agent_timeline', spans)).status).toBe(200)
    const { items } = await follow(h, a.owner, '/api/v2/chat/incremental/agent_timeline?limit=1')
    expect(items).toHaveLength(4)
    expect(new Set(items.map((s) => `${s.agent_id}:${s.start_time}`)).size).toBe(4)
  })

  it('preserved spans that would share a cursor point are refused', async () => {
    const span = exampleItems('agent_timeline')[0]!
    const twin = { ...span, start_time: '2018-04-29T10:26:41.957650Z', duration: 64.705271 }
    const res = await h.importLines(a.readWrite, 'agent_timeline', [span, twin], true)
    expect(res.status).toBe(400)
    expect((await res.json()).details[0].line).toBe(2)
  })
})

describe('cursors ahead of the clock', () => {
  it('a next_page a few microseconds ahead of the wall clock stays valid; beyond it is a 400', async () => {
    const { ManualClock } = await import('../../src/domain/clock.js')
    const now = Date.UTC(2026, 0, 1) * 1000
    const h = await startHarness({ clock: new ManualClock(now) })
    try {
      const a = await h.account('ahead')
      // The clock does not move: the second write gets last + 1, one microsecond ahead of it.
      await h.importLines(a.readWrite, 'chats', [chat('2611.1.x', '2020-01-01T00:00:00Z')])
      await h.importLines(a.readWrite, 'chats', [chat('2611.1.y', '2020-01-01T00:00:00Z')])
      const page = await h.getJson('/api/v2/chat/incremental/chats', a.owner)
      expect(page.end_time).toBe((now + 1) / 1e6)
      const next = await h.get(
        new URL(page.next_page).pathname + new URL(page.next_page).search,
        a.owner,
      )
      expect(next.status).toBe(200)
      const beyond = await h.get(
        `/api/v2/chat/incremental/chats?start_time=${(now + 2) / 1e6}`,
        a.owner,
      )
      expect(beyond.status).toBe(400)
    } finally {
      await h.close()
    }
  })
})
