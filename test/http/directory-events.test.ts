/**
 * Directory events over real HTTP on both stores: created / updated / deleted records become what
 * the REST routes serve, in the same all-or-nothing, idempotent batch as the chat events; a
 * renamed agent is what later chats show; a bad record names the event and the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Harness, TestAccount } from '../support/harness.js'
import { startHarness } from '../support/harness.js'
import { storeBackends } from '../support/stores.js'

const T = (s: number) => new Date(Date.UTC(2024, 2, 5, 9, 0, 0) + s * 1000).toISOString()
const AGENT = 383486450414
const DEPT = 123456
const GOAL = 1863

const visitor = {
  id: '9339545.11mjg3Gvk0uhEiK',
  name: 'Visitor 1',
  email: '',
  phone: '',
  notes: '',
}
const session = { id: '240305.9339545.7MmWjNbx50y3nMJBz', start_date: T(0) }

const directory = (p: string) => [
  {
    id: `${p}-d`,
    type: 'department.created',
    timestamp: T(0),
    department: { id: DEPT, name: 'Support', members: [AGENT] },
  },
  {
    id: `${p}-a`,
    type: 'agent.created',
    timestamp: T(0),
    agent: {
      id: AGENT,
      email: 'david@example.com',
      display_name: 'David F.',
      first_name: 'David',
      last_name: 'Foo',
      roles: { administrator: true, owner: true },
      departments: [DEPT],
      enabled_departments: [DEPT],
    },
  },
  {
    id: `${p}-g`,
    type: 'goal.created',
    timestamp: T(0),
    goal: { id: GOAL, name: 'add to cart', attribution_period: 7 },
  },
  {
    id: `${p}-s`,
    type: 'skill.created',
    timestamp: T(0),
    skill: { id: 5, name: 'english', members: [AGENT] },
  },
  { id: `${p}-r`, type: 'role.created', timestamp: T(0), role: { id: 9, name: 'Administrator' } },
  {
    id: `${p}-sh`,
    type: 'shortcut.created',
    timestamp: T(0),
    shortcut: { name: 'goodbye', message: 'Thanks for chatting with us.' },
  },
  {
    id: `${p}-t`,
    type: 'trigger.created',
    timestamp: T(0),
    trigger: { id: 66, name: 'Checkout Page' },
  },
  {
    id: `${p}-b`,
    type: 'ban.created',
    timestamp: T(0),
    ban: { id: 70, ip_address: '192.0.2.5', reason: 'Spammer' },
  },
  { id: `${p}-acc`, type: 'account.updated', timestamp: T(0), account: { status: 'active' } },
  {
    id: `${p}-rs`,
    type: 'routing_settings.updated',
    timestamp: T(0),
    routing_settings: { routing_mode: 'broadcast', chat_limit: { limit: 5 } },
  },
]

/** A chat the agent joins and speaks in. */
const chat = (p: string, chatId: string, at: number) => [
  {
    id: `${p}-1`,
    type: 'agent.status_changed',
    timestamp: T(at),
    agent_id: AGENT,
    status: 'online',
  },
  {
    id: `${p}-2`,
    type: 'chat.started',
    timestamp: T(at + 1),
    chat_id: chatId,
    visitor,
    session,
    department_id: DEPT,
  },
  {
    id: `${p}-3`,
    type: 'chat.member_joined',
    timestamp: T(at + 1),
    chat_id: chatId,
    member: 'visitor',
  },
  {
    id: `${p}-4`,
    type: 'engagement.assigned',
    timestamp: T(at + 2),
    chat_id: chatId,
    agent_id: AGENT,
  },
  {
    id: `${p}-5`,
    type: 'engagement.accepted',
    timestamp: T(at + 3),
    chat_id: chatId,
    agent_id: AGENT,
  },
  {
    id: `${p}-6`,
    type: 'chat.member_joined',
    timestamp: T(at + 3),
    chat_id: chatId,
    member: 'agent',
    agent_id: AGENT,
  },
  {
    id: `${p}-7`,
    type: 'chat.message',
    timestamp: T(at + 4),
    chat_id: chatId,
    sender: 'agent',
    agent_id: AGENT,
    msg: 'Hi!',
  },
]

for (const backend of storeBackends()) {
  describe(`${backend.name}: directory events`, () => {
    let h: Harness
    let acc: TestAccount

    const post = async (events: unknown[]) => {
      const res = await fetch(`${h.url}/api/chat-export/v1/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${acc.readWrite}`, 'content-type': 'application/json' },
        body: JSON.stringify(events),
      })
      return { status: res.status, body: await res.json() }
    }
    const get = (path: string) => h.getJson(`/api/v2/chat${path}`, acc.readWrite)
    const status = async (path: string) =>
      (await h.get(`/api/v2/chat${path}`, acc.readWrite)).status
    const chatItem = async (chatId: string) => {
      const page = await h.getJson(
        '/api/v2/chat/incremental/chats?start_time=0&fields=chats(*)',
        acc.owner,
      )
      return page.chats.find((c: { id: string }) => c.id === chatId)
    }

    beforeAll(async () => {
      h = await startHarness({ backend })
      acc = await h.account('dir-events')
    })
    afterAll(async () => h?.close())

    it('a batch publishes every resource and the chats that use it, in one transaction', async () => {
      const res = await post([...directory('x'), ...chat('c1', '2403.9339545.A1', 10)])
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      expect(res.body.accepted).toBe(17)

      const agent = await get(`/agents/${AGENT}`)
      expect(agent).toMatchObject({
        id: AGENT,
        display_name: 'David F.',
        email: 'david@example.com',
        enabled: true,
        roles: { administrator: true, owner: true },
        departments: [DEPT],
        create_date: '2024-03-05T09:00:00Z',
      })
      expect((await get('/agents/me')).id).toBe(AGENT)
      expect(await get(`/departments/${DEPT}`)).toMatchObject({ name: 'Support', members: [AGENT] })
      expect(await get(`/goals/${GOAL}`)).toMatchObject({
        name: 'add to cart',
        attribution_period: 7,
      })
      expect(await get('/skills')).toEqual([
        { id: 5, name: 'english', description: '', enabled: true, members: [AGENT] },
      ])
      expect((await get('/roles/9')).name).toBe('Administrator')
      expect((await get('/shortcuts/goodbye')).id).toBe('goodbye')
      expect((await get('/triggers/66')).name).toBe('Checkout Page')
      expect((await get('/bans')).ip_address).toEqual([
        {
          id: 70,
          reason: 'Spammer',
          created_at: '2024-03-05T09:00:00Z',
          type: 'ip_address',
          ip_address: '192.0.2.5',
        },
      ])
      const routing = (await get('/routing_settings/account')).data
      expect(routing.routing_mode).toBe('broadcast')
      expect(routing.chat_limit).toEqual({
        enabled: false,
        limit: 5,
        limit_type: 'account',
        allow_agent_override: false,
      })

      const item = await chatItem('2403.9339545.A1')
      expect(item.agent_names).toEqual(['David F.'])
      expect(item.department_name).toBe('Support')
    })

    it('a retried batch changes nothing', async () => {
      const res = await post(directory('x'))
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ accepted: 0, duplicates: 10 })
    })

    it('an agent renamed is what later chats show; earlier chats keep the name they had', async () => {
      const res = await post([
        {
          id: 'rn-1',
          type: 'agent.updated',
          timestamp: T(100),
          agent: { id: AGENT, display_name: 'Dave' },
        },
        ...chat('c2', '2403.9339545.A2', 100).slice(1),
      ])
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      expect(await get(`/agents/${AGENT}`)).toMatchObject({
        display_name: 'Dave',
        first_name: 'David',
      })
      const later = await chatItem('2403.9339545.A2')
      expect(later.agent_names).toEqual(['Dave'])
      expect(
        later.history.find(
          (e: { type: string; name: string }) => e.type === 'chat.msg' && e.name !== 'Visitor 1',
        ).name,
      ).toBe('Dave')
      expect((await chatItem('2403.9339545.A1')).agent_names).toEqual(['David F.'])
    })

    it('a rename through the REST write API is what later chats show too', async () => {
      const put = await fetch(`${h.url}/api/v2/chat/agents/${AGENT}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${acc.readWrite}`, 'content-type': 'application/json' },
        body: JSON.stringify({ display_name: 'D. Foo' }),
      })
      expect(put.status).toBe(200)
      const res = await post(chat('c3', '2403.9339545.A3', 150).slice(1))
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      expect((await chatItem('2403.9339545.A3')).agent_names).toEqual(['D. Foo'])
    })

    it('a record the resource schema refuses names the event and the field; nothing applies', async () => {
      const res = await post([
        { id: 'bad-0', type: 'skill.created', timestamp: T(200), skill: { id: 6, name: 'german' } },
        {
          id: 'bad-1',
          type: 'agent.created',
          timestamp: T(200),
          agent: { id: 17, email: 'not an email' },
        },
      ])
      expect(res.status).toBe(400)
      expect(res.body.details[0]).toMatchObject({ index: 1, id: 'bad-1', code: 'invalid_resource' })
      expect(res.body.details[0].message).toContain('agent.email')
      expect(await status('/skills/6')).toBe(404)
    })

    it('an update is checked against the stored record, inside the batch transaction', async () => {
      const res = await post([
        { id: 'up-0', type: 'skill.created', timestamp: T(300), skill: { id: 7, name: 'french' } },
        {
          id: 'up-1',
          type: 'goal.updated',
          timestamp: T(300),
          goal: { id: GOAL, attribution_period: 90 },
        },
      ])
      expect(res.status).toBe(400)
      expect(res.body.details[0]).toMatchObject({ index: 1, code: 'invalid_resource' })
      expect(res.body.details[0].message).toContain('goal.attribution_period')
      expect(await status('/skills/7')).toBe(404)

      const missing = await post([
        {
          id: 'up-2',
          type: 'department.updated',
          timestamp: T(300),
          department: { id: 999, name: 'X' },
        },
      ])
      expect(missing.status).toBe(400)
      expect(missing.body.details[0]).toMatchObject({ index: 0, code: 'unknown_record' })

      const clash = await post([
        {
          id: 'up-3',
          type: 'agent.created',
          timestamp: T(300),
          agent: { id: 18, email: 'DAVID@example.com' },
        },
      ])
      expect(clash.status).toBe(400)
      expect(clash.body.details[0]).toMatchObject({ index: 0, code: 'resource_conflict' })
    })

    it('import accepts directory records, atomically, with line-numbered errors', async () => {
      const send = async (resource: string, lines: unknown[]) => {
        const res = await h.importLines(acc.readWrite, resource as 'chats', lines)
        return { status: res.status, body: await res.json() }
      }
      const bad = await send('departments', [
        { id: 777, name: 'Returns' },
        { id: 778, name: 'Refunds', enabled: 'yes' },
      ])
      expect(bad.status).toBe(400)
      expect(bad.body.details).toEqual([
        { line: 2, message: expect.stringContaining('department.enabled') },
      ])
      expect(await status('/departments/777')).toBe(404)

      const good = await send('departments', [{ id: 777, name: 'Returns', enabled: 1 }])
      expect(good.status, JSON.stringify(good.body)).toBe(200)
      expect(good.body).toMatchObject({ resource: 'departments', imported: 1 })
      expect(await get('/departments/777')).toMatchObject({ name: 'Returns', enabled: true })

      // The imported department names the chats that use it.
      const events = chat('c4', '2403.9339545.A4', 250).slice(1)
      ;(events[0] as Record<string, unknown>)['department_id'] = 777
      const res = await post(events)
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      expect((await chatItem('2403.9339545.A4')).department_name).toBe('Returns')

      const clash = await send('agents', [{ id: 19, email: 'david@example.com' }])
      expect(clash.status).toBe(400)
      expect(clash.body.details[0]).toMatchObject({ line: 1 })
    })

    it('deleted records are gone from the REST routes', async () => {
      const res = await post([
        { id: 'del-1', type: 'ban.deleted', timestamp: T(400), ban_id: 70 },
        { id: 'del-2', type: 'shortcut.deleted', timestamp: T(400), shortcut_id: 'goodbye' },
      ])
      expect(res.status, JSON.stringify(res.body)).toBe(200)
      expect(await status('/bans/70')).toBe(404)
      expect(await get('/shortcuts')).toEqual([])
    })
  })
}
