/**
 * Live ingest over real HTTP: events become chats, spans, agent and department events; batches are
 * all-or-nothing and idempotent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Harness, TestAccount } from '../support/harness.js'
import { startHarness } from '../support/harness.js'

const T = (s: number) => new Date(Date.UTC(2026, 10, 27, 9, 0, 0) + s * 1000).toISOString()

const visitor = {
  id: '9339545.11mjg3Gvk0uhEiK',
  name: 'Visitor 1',
  email: '',
  phone: '',
  notes: '',
}
const session = { id: '261127.9339545.7MmWjNbx50y3nMJBz', start_date: T(0), browser: 'Chrome' }

function conversation(chatId: string, prefix: string, offset = 0) {
  return [
    {
      id: `${prefix}-1`,
      type: 'agent.upserted',
      timestamp: T(offset),
      agent_id: 383486450414,
      display_name: 'David Foo',
      full_name: 'David Foo',
    },
    {
      id: `${prefix}-2`,
      type: 'agent.status_changed',
      timestamp: T(offset),
      agent_id: 383486450414,
      status: 'online',
    },
    {
      id: `${prefix}-3`,
      type: 'chat.started',
      timestamp: T(offset + 1),
      chat_id: chatId,
      visitor,
      session,
    },
    {
      id: `${prefix}-4`,
      type: 'chat.member_joined',
      timestamp: T(offset + 1),
      chat_id: chatId,
      member: 'visitor',
    },
    {
      id: `${prefix}-5`,
      type: 'chat.message',
      timestamp: T(offset + 2),
      chat_id: chatId,
      sender: 'visitor',
      msg: 'hello',
      msg_id: '1',
    },
    {
      id: `${prefix}-6`,
      type: 'chat.member_joined',
      timestamp: T(offset + 5),
      chat_id: chatId,
      member: 'agent',
      agent_id: 383486450414,
    },
    {
      id: `${prefix}-7`,
      type: 'chat.message',
      timestamp: T(offset + 8),
      chat_id: chatId,
      sender: 'agent',
      agent_id: 383486450414,
      msg: 'hi, how can I help?',
    },
    {
      id: `${prefix}-8`,
      type: 'chat.member_left',
      timestamp: T(offset + 20),
      chat_id: chatId,
      member: 'visitor',
    },
    { id: `${prefix}-9`, type: 'chat.ended', timestamp: T(offset + 20), chat_id: chatId },
  ]
}

async function post(h: Harness, token: string, body: string, type = 'application/json') {
  return fetch(`${h.url}/api/chat-export/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': type },
    body,
  })
}

describe('ingest', () => {
  let h: Harness
  let a: TestAccount
  beforeAll(async () => {
    h = await startHarness()
    a = await h.account('ingest')
  })
  afterAll(() => h.close())

  it('folds a conversation into a chat, timeline spans and agent events', async () => {
    const res = await post(
      h,
      a.readWrite,
      JSON.stringify(conversation('2611.9339545.AAAAAAAAAAAA1', 'c1')),
    )
    expect(res.status, await res.clone().text()).toBe(200)
    expect(await res.json()).toMatchObject({ accepted: 9, duplicates: 0 })
    const page = await h.getJson('/api/v2/chat/incremental/chats?fields=chats(*)', a.owner)
    expect(page.count).toBe(1)
    const chat = page.chats[0]
    expect(chat).toMatchObject({
      id: '2611.9339545.AAAAAAAAAAAA1',
      type: 'chat',
      count: { visitor: 1, agent: 1, total: 2 },
      agent_ids: ['383486450414'],
      agent_names: ['David Foo'],
      missed: false,
      deleted: false,
    })
    expect(chat.response_time.first).toBe(6)
    expect(chat.history.map((e: any) => e.type)).toContain('chat.msg')
    expect(chat.update_timestamp).toMatch(/Z$/)
    const events = await h.getJson('/api/v2/chat/incremental/agent_events', a.owner)
    expect(events.agent_events.map((e: any) => e.field_name)).toContain('status')
  })

  it('a retried batch changes nothing', async () => {
    const before = await h.getJson('/api/v2/chat/incremental/chats?fields=chats(*)', a.owner)
    const res = await post(
      h,
      a.readWrite,
      JSON.stringify(conversation('2611.9339545.AAAAAAAAAAAA1', 'c1')),
    )
    expect(await res.json()).toMatchObject({ accepted: 0, duplicates: 9 })
    const poll = await h.getJson(
      new URL(before.next_page).pathname + new URL(before.next_page).search,
      a.owner,
    )
    expect(poll.count).toBe(0)
  })

  it('accepts JSON lines', async () => {
    const lines = conversation('2611.9339545.AAAAAAAAAAAA2', 'c2', 100)
      .slice(2)
      .map((e) => JSON.stringify(e))
      .join('\n')
    const res = await post(h, a.readWrite, lines, 'application/x-ndjson')
    expect(res.status, await res.clone().text()).toBe(200)
    expect(await res.json()).toMatchObject({ accepted: 7 })
  })

  it('an event for an unknown chat rejects the whole batch with a clear error', async () => {
    const batch = [
      ...conversation('2611.9339545.AAAAAAAAAAAA3', 'c3', 200).slice(2, 5),
      {
        id: 'c3-x',
        type: 'chat.message',
        timestamp: T(205),
        chat_id: '2611.9339545.NOPE',
        sender: 'visitor',
        msg: 'x',
      },
    ]
    const res = await post(h, a.readWrite, JSON.stringify(batch))
    expect(res.status).toBe(400)
    const body = await res.json()
    expect(body.error).toBe('Bad Request')
    expect(body.details).toEqual([expect.objectContaining({ index: 3, id: 'c3-x' })])
    const all = await h.getJson('/api/v2/chat/incremental/chats', a.owner)
    expect(all.chats.map((c: any) => c.id)).not.toContain('2611.9339545.AAAAAAAAAAAA3')
    // The valid part can be sent again later: nothing of it was recorded as applied.
    const again = await post(h, a.readWrite, JSON.stringify(batch.slice(0, 3)))
    expect(await again.json()).toMatchObject({ accepted: 3, duplicates: 0 })
  })

  it('invalid events are listed by index', async () => {
    const res = await post(
      h,
      a.readWrite,
      JSON.stringify([{ id: 'bad-1', type: 'chat.teleported' }, { type: 'chat.ended' }]),
    )
    expect(res.status).toBe(400)
    const body = await res.json()
    expect(body.details.map((d: any) => d.index)).toEqual([0, 1])
  })

  it('needs the write scope and an owner or administrator', async () => {
    expect((await post(h, a.owner, '[]')).status).toBe(403)
    const agentWriter = await h.token(a.id, 'agent', ['read', 'write'])
    expect((await post(h, agentWriter, '[]')).status).toBe(403)
  })

  it('an empty or malformed body is a 400 that says what to send', async () => {
    const empty = await post(h, a.readWrite, '')
    expect(empty.status).toBe(400)
    expect((await empty.json()).description).toMatch(/JSON array/)
    expect((await post(h, a.readWrite, '[{"id":')).status).toBe(400)
  })
})

describe('ingest: timeline spans of one batch', () => {
  it('several spans of one agent closed in one batch page one by one', async () => {
    const h = await startHarness()
    try {
      const a = await h.account('spans')
      const statuses = ['online', 'away', 'online', 'invisible', 'offline']
      const batch = statuses.map((status, i) => ({
        id: `s-${i}`,
        type: 'agent.status_changed',
        timestamp: T(i * 10),
        agent_id: 42,
        status,
      }))
      expect((await post(h, a.readWrite, JSON.stringify(batch))).status).toBe(200)
      const seen: any[] = []
      let url = `${h.url}/api/v2/chat/incremental/agent_timeline?limit=1`
      for (let i = 0; i < 10; i++) {
        const page = await (
          await fetch(url, { headers: { authorization: `Bearer ${a.owner}` } })
        ).json()
        seen.push(...page.agent_timeline)
        if (page.count < 1) break
        url = page.next_page
      }
      expect(seen.map((s) => s.status)).toEqual(['online', 'away', 'online', 'invisible'])
    } finally {
      await h.close()
    }
  })
})

describe('ingest: event clocks', () => {
  it('refuses events stamped well in the future, naming them, and applies nothing', async () => {
    const h = await startHarness()
    try {
      const a = await h.account('clocks')
      const soon = new Date(Date.now() + 5 * 60_000).toISOString()
      const later = new Date(Date.now() + 2 * 3_600_000).toISOString()
      const batch = [
        { id: 'k-1', type: 'agent.status_changed', timestamp: soon, agent_id: 7, status: 'online' },
        { id: 'k-2', type: 'agent.status_changed', timestamp: later, agent_id: 7, status: 'away' },
      ]
      const res = await post(h, a.readWrite, JSON.stringify(batch))
      expect(res.status).toBe(400)
      const body = await res.json()
      expect(body.details).toEqual([
        expect.objectContaining({ index: 1, id: 'k-2', code: 'timestamp_in_future' }),
      ])
      expect(body.description).toMatch(/future/)
      // A few minutes of skew is fine.
      expect((await post(h, a.readWrite, JSON.stringify(batch.slice(0, 1)))).status).toBe(200)
    } finally {
      await h.close()
    }
  })
})
