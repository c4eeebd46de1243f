/**
 * The directory routes over a real store (tokens, accounts, write transactions) with the
 * in-memory reference of the directory port (test/support/memory-directory.ts). Phase 2 swaps
 * the reference for each store's own implementation and keeps these assertions.
 */
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { issueToken } from '../../src/auth/tokens.js'
import { ManualClock } from '../../src/domain/clock.js'
import { createApp } from '../../src/http/app.js'
import type { Role, Scope } from '../../src/store/store.js'
import { memoryDirectory } from '../support/memory-directory.js'
import type { StoreHandle } from '../support/stores.js'
import { storeBackends } from '../support/stores.js'

const NOW = 1_710_000_000_000_000

for (const backend of storeBackends()) {
  describe(`${backend.name}: REST directory routes`, () => {
    const clock = new ManualClock(NOW)
    let handle: StoreHandle
    let app: ReturnType<typeof createApp>
    let a: {
      id: number
      rw: string
      read: string
      agent: string
      adminRw: string
      writeOnly: string
    }
    let b: { id: number; rw: string }

    const token = (accountId: number, role: Role, scopes: Scope[]) =>
      issueToken(handle.store, { accountId, role, scopes, now: clock.now() }).then((t) => t.token)

    beforeAll(async () => {
      handle = await backend.create(clock)
      app = createApp({
        store: handle.store,
        clock,
        logger: pino({ level: 'silent' }),
        // The store's own directory; the in-memory reference only where a store has none yet.
        directory: handle.store.directory ?? memoryDirectory(handle.store),
      })
      const accountA = await handle.store.createAccount('rest-a')
      const accountB = await handle.store.createAccount('rest-b')
      a = {
        id: accountA.id,
        rw: await token(accountA.id, 'owner', ['read', 'write']),
        read: await token(accountA.id, 'owner', ['read']),
        agent: await token(accountA.id, 'agent', ['read', 'write']),
        adminRw: await token(accountA.id, 'administrator', ['read', 'write']),
        writeOnly: await token(accountA.id, 'owner', ['write']),
      }
      b = { id: accountB.id, rw: await token(accountB.id, 'owner', ['read', 'write']) }
    })
    afterAll(async () => handle.cleanup())

    const call = async (method: string, path: string, tok: string, body?: unknown) => {
      const res = await app.request(path, {
        method,
        headers: {
          authorization: `Bearer ${tok}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined
          ? {}
          : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      })
      const text = await res.text()
      return {
        status: res.status,
        body: text === '' ? undefined : JSON.parse(text),
        headers: res.headers,
      }
    }
    const get = (path: string, tok = a.read) => call('GET', path, tok)

    it('empty collections are 200 [] on both path shapes, bans two empty arrays, never 404', async () => {
      for (const prefix of ['/api/v2/chat', '/api/v2']) {
        for (const path of [
          'agents',
          'departments',
          'goals',
          'roles',
          'skills',
          'shortcuts',
          'triggers',
          'bans/ip',
        ]) {
          const res = await get(`${prefix}/${path}?limit=100`)
          expect([path, res.status, res.body]).toEqual([path, 200, []])
        }
        expect((await get(`${prefix}/agents?since_id=0&limit=100`)).body).toEqual([])
        expect((await get(`${prefix}/bans?since_id=0&limit=100`)).body).toEqual({
          ip_address: [],
          visitor: [],
        })
        expect((await get(`${prefix}/routing_settings/agents`)).body).toEqual({ data: [] })
      }
    })

    it("serves the account and routing settings before anything is written (Airbyte's check)", async () => {
      const routing = await get('/api/v2/chat/routing_settings/account')
      expect(routing.status).toBe(200)
      expect(routing.body.data.routing_mode).toBe('assigned')
      expect(routing.body.data.chat_limit).toEqual({
        enabled: false,
        limit: 3,
        limit_type: 'account',
        allow_agent_override: false,
      })
      const account = await get('/api/v2/account')
      expect(account.status).toBe(200)
      expect(account.body.status).toBe('active')
      expect(account.body.create_date).toMatch(/Z$/)
      expect(account.body.plan.max_departments).toBe('unlimited')
    })

    it('writes need the write scope and the owner or administrator role', async () => {
      const body = { name: 'Sales' }
      const readOnly = await call('POST', '/api/v2/chat/departments', a.read, body)
      expect([readOnly.status, readOnly.body.error]).toEqual([403, 'Forbidden'])
      expect(readOnly.body.description).toMatch(/"write" scope/)
      const agentRole = await call('POST', '/api/v2/chat/departments', a.agent, body)
      expect(agentRole.status).toBe(403)
      expect(agentRole.body.description).toMatch(/role is agent/)
      expect((await call('GET', '/api/v2/chat/departments', a.writeOnly)).status).toBe(403)
      expect((await call('GET', '/api/v2/chat/departments', a.agent)).status).toBe(403)
      const none = await app.request('/api/v2/chat/agents')
      expect(none.status).toBe(401)
      expect((await get('/api/v2/chat/departments')).body).toEqual([])
    })

    it('creates (201), reads, updates (PUT and PATCH, dotted keys), deletes (204) a department', async () => {
      const created = await call('POST', '/api/v2/chat/departments', a.adminRw, {
        name: 'Sales',
        enabled: 1,
      })
      expect(created.status).toBe(201)
      expect(created.body).toMatchObject({ name: 'Sales', enabled: true, members: [] })
      const id = created.body.id as number
      expect(Number.isInteger(id)).toBe(true)
      expect((await get(`/api/v2/departments/${id}`)).body).toEqual(created.body)
      expect((await get('/api/v2/chat/departments/name/Sales')).body.id).toBe(id)
      const put = await call('PUT', `/api/v2/chat/departments/${id}`, a.rw, {
        'settings.chat_enabled': false,
        description: 'EU',
      })
      expect(put.status).toBe(200)
      expect(put.body.settings.chat_enabled).toBe(false)
      expect(put.body.description).toBe('EU')
      const patch = await call('PATCH', `/api/v2/departments/${id}`, a.rw, {
        department: { enabled: false },
      })
      expect(patch.body.enabled).toBe(false)
      expect((await get('/api/v2/chat/departments')).body).toEqual([patch.body])
      const dup = await call('POST', '/api/v2/chat/departments', a.rw, { name: 'Sales' })
      expect(dup.status).toBe(409)
      const del = await call('DELETE', `/api/v2/chat/departments/${id}`, a.rw)
      expect([del.status, del.body]).toEqual([204, undefined])
      expect((await get(`/api/v2/chat/departments/${id}`)).status).toBe(404)
      expect((await call('DELETE', `/api/v2/chat/departments/${id}`, a.rw)).status).toBe(404)
      expect((await get('/api/v2/chat/departments')).body).toEqual([])
    })

    it('refuses bad bodies with 400 naming the field', async () => {
      const unknown = await call('POST', '/api/v2/chat/goals', a.rw, { name: 'G', colour: 'red' })
      expect([unknown.status, unknown.body.error]).toEqual([400, 'Bad Request'])
      expect(unknown.body.description).toMatch(/"colour"/)
      const typed = await call('POST', '/api/v2/chat/goals', a.rw, {
        name: 'G',
        attribution_period: 99,
      })
      expect(typed.body.description).toMatch(/goal\.attribution_period/)
      expect((await call('POST', '/api/v2/chat/goals', a.rw, '{not json')).status).toBe(400)
      expect(
        (
          await call('PATCH', '/api/v2/chat/routing_settings/account', a.rw, {
            routing_mode: 'random',
          })
        ).body.description,
      ).toMatch(/data\.routing_mode/)
      expect((await get('/api/v2/chat/goals')).body).toEqual([])
    })

    it('pages agents by id: since_id inclusive, max_id, limit caps, beyond the end is []', async () => {
      const ids: number[] = []
      for (let i = 0; i < 12; i++) {
        const res = await call('POST', '/api/v2/chat/agents', a.rw, {
          email: `agent${i}@example.com`,
          password: 'secret12',
          display_name: `Agent ${i}`,
          enabled: i % 2,
        })
        expect(res.status).toBe(201)
        expect(res.body).not.toHaveProperty('password')
        ids.push(res.body.id)
      }
      const all = (await get('/api/v2/chat/agents')).body as { id: number; enabled: unknown }[]
      expect(all.map((x) => x.id)).toEqual(ids)
      expect(all.every((x) => typeof x.enabled === 'boolean')).toBe(true)
      expect((await get('/api/v2/chat/agents?limit=100')).body).toHaveLength(12)
      // Default window limit is 10 once any pagination parameter is present.
      expect((await get('/api/v2/chat/agents?since_id=0')).body).toHaveLength(10)
      const page = (await get(`/api/v2/chat/agents?since_id=${ids[3]}&limit=4`)).body as {
        id: number
      }[]
      expect(page.map((x) => x.id)).toEqual(ids.slice(3, 7))
      const back = (await get(`/api/v2/chat/agents?max_id=${ids[5]}&limit=3`)).body as {
        id: number
      }[]
      expect(back.map((x) => x.id)).toEqual(ids.slice(3, 6))
      expect((await get(`/api/v2/chat/agents?since_id=${ids[11]! + 1}&limit=100`)).body).toEqual([])
      expect((await get('/api/v2/chat/agents?limit=5000')).body).toHaveLength(12)
      expect((await get('/api/v2/chat/agents?since_id=x')).status).toBe(400)
      expect((await get('/api/v2/chat/agents?limit=0')).status).toBe(400)
      // Airbyte's loop: since_id = last id + 1 until an empty page.
      const seen: number[] = []
      let since = 0
      for (;;) {
        const p = (await get(`/api/v2/chat/agents?limit=5&since_id=${since}`)).body as {
          id: number
        }[]
        if (p.length === 0) break
        seen.push(...p.map((x) => x.id))
        since = p[p.length - 1]!.id + 1
      }
      expect(seen).toEqual(ids)
      const byEmail = await get('/api/v2/chat/agents/email/AGENT3@example.com')
      expect(byEmail.body.id).toBe(ids[3])
      const renamed = await call('PUT', `/api/v2/chat/agents/${ids[3]}`, a.rw, {
        'agent.display_name': 'Renamed',
      })
      expect(renamed.body.display_name).toBe('Renamed')
      expect((await get(`/api/v2/agents/${ids[3]}`)).body.display_name).toBe('Renamed')
      expect(
        (
          await call('POST', '/api/v2/chat/agents', a.rw, {
            email: 'agent3@EXAMPLE.com',
            password: 'secret12',
          })
        ).status,
      ).toBe(409)
      expect(
        (await call('POST', '/api/v2/chat/agents', a.rw, { email: 'new@example.com' })).body
          .description,
      ).toMatch(/password/)
      // /agents/me stands for the owner; none of these agents is one.
      expect((await get('/api/v2/chat/agents/me')).status).toBe(404)
      const routing = await get(`/api/v2/chat/routing_settings/agents/${ids[0]}`)
      expect(routing.body).toEqual({
        data: { id: ids[0], chat_limit: { enabled: false, limit: 3 } },
      })
      const patched = await call('PATCH', `/api/v2/chat/routing_settings/agents/${ids[0]}`, a.rw, {
        chat_limit: { enabled: true },
      })
      expect(patched.body.data.chat_limit).toEqual({ enabled: true, limit: 3 })
      expect((await get('/api/v2/chat/routing_settings/agents')).body.data).toHaveLength(12)
      expect((await get('/api/v2/chat/routing_settings/agents/999999')).status).toBe(404)
    })

    it('bans: two arrays, one id window over both, /bans/ip, delete', async () => {
      const ip = await call('POST', '/api/v2/chat/bans', a.rw, {
        ip_address: '192.123.123.5',
        reason: 'Spammer',
      })
      const visitor = await call('POST', '/api/v2/chat/bans', a.rw, {
        visitor_id: `${a.id}.abc`,
        visitor_name: 'V',
      })
      const ip2 = await call('POST', '/api/v2/chat/bans', a.rw, { ip_address: '10.0.0.1' })
      expect([ip.status, visitor.status, ip2.status]).toEqual([201, 201, 201])
      expect(ip.body).toEqual({
        id: ip.body.id,
        reason: 'Spammer',
        created_at: '2024-03-09T16:00:00Z',
        type: 'ip_address',
        ip_address: '192.123.123.5',
      })
      expect((await get('/api/v2/chat/bans')).body).toEqual({
        ip_address: [ip.body, ip2.body],
        visitor: [visitor.body],
      })
      expect((await get(`/api/v2/chat/bans?since_id=${visitor.body.id}&limit=100`)).body).toEqual({
        ip_address: [ip2.body],
        visitor: [visitor.body],
      })
      expect((await get(`/api/v2/chat/bans?since_id=0&limit=1`)).body).toEqual({
        ip_address: [ip.body],
        visitor: [],
      })
      expect((await get('/api/v2/bans/ip')).body).toEqual([ip.body, ip2.body])
      expect((await get(`/api/v2/chat/bans/${visitor.body.id}`)).body).toEqual(visitor.body)
      expect(
        (await call('PUT', `/api/v2/chat/bans/${ip.body.id}`, a.rw, { reason: 'x' })).status,
      ).toBe(405)
      expect((await call('DELETE', `/api/v2/chat/bans/${ip.body.id}`, a.rw)).status).toBe(204)
      expect((await get('/api/v2/chat/bans')).body.ip_address).toEqual([ip2.body])
    })

    it('shortcuts by name, triggers by id or name, skills by name, roles, goals, visitors', async () => {
      const sc = await call('POST', '/api/v2/chat/shortcuts', a.rw, {
        name: 'goodbye',
        message: 'Bye',
        tags: ['goodbye_survey'],
      })
      expect(sc.body.id).toBe('goodbye')
      expect((await get('/api/v2/chat/shortcuts/goodbye')).body).toEqual(sc.body)
      expect(
        (await call('PUT', '/api/v2/chat/shortcuts/goodbye', a.rw, { message: 'Thanks' })).body
          .message,
      ).toBe('Thanks')
      expect(
        (await call('POST', '/api/v2/chat/shortcuts', a.rw, { name: 'goodbye', message: 'x' }))
          .status,
      ).toBe(409)
      const tr = await call('POST', '/api/v2/chat/triggers', a.rw, {
        name: 'Checkout Page',
        enabled: 0,
        definition: {
          event: 'page_enter',
          condition: ['and', ['stillOnPage', 60]],
          actions: [['sendMessageToVisitor', 'S', 'Hi']],
        },
      })
      expect(tr.status).toBe(201)
      expect(tr.body.enabled).toBe(false)
      expect((await get(`/api/v2/chat/triggers/${tr.body.id}`)).body).toEqual(tr.body)
      expect((await get('/api/v2/chat/triggers/Checkout%20Page')).body).toEqual(tr.body)
      expect(
        (await call('PUT', '/api/v2/chat/triggers/Checkout%20Page', a.rw, { enabled: true })).body
          .enabled,
      ).toBe(true)
      expect((await call('DELETE', '/api/v2/chat/triggers/Checkout%20Page', a.rw)).status).toBe(204)
      const sk = await call('POST', '/api/v2/chat/skills', a.rw, { name: 'english' })
      expect((await get('/api/v2/chat/skills/name/english')).body).toEqual(sk.body)
      const role = await call('POST', '/api/v2/chat/roles', a.rw, {
        name: 'Agent (limited)',
        permissions: { view_past_chats: 'own', edit_chat_tags: true },
      })
      expect(role.body).toMatchObject({ members_count: 0, enabled: true })
      expect((await call('DELETE', `/api/v2/chat/roles/${role.body.id}`, a.rw)).status).toBe(405)
      const goal = await call('POST', '/api/v2/chat/goals', a.rw, {
        name: 'Checkout',
        settings: { conditions: [{ type: 'url', operator: 'contains', value: '/cart' }] },
      })
      expect((await get('/api/v2/chat/goals')).body).toEqual([goal.body])
      const v = await call('POST', '/api/v2/chat/visitors', a.rw, {
        name: 'Vi',
        email: 'v@example.com',
      })
      expect(v.status).toBe(201)
      expect(v.body.id).toMatch(new RegExp(`^${a.id}\\.`))
      expect(v.body.banned).toBe(false)
      expect((await get(`/api/v2/visitors/${v.body.id}`)).body).toEqual(v.body)
      expect(
        (await call('PUT', `/api/v2/chat/visitors/${v.body.id}`, a.rw, { notes: 'vip' })).body
          .notes,
      ).toBe('vip')
      expect((await get('/api/v2/chat/visitors/nope')).status).toBe(404)
      const account = await call('PUT', '/api/v2/chat/account', a.rw, {
        account: { billing: { city: 'Oslo' } },
      })
      expect(account.body.billing.city).toBe('Oslo')
      expect((await get('/api/v2/chat/account')).body.billing.city).toBe('Oslo')
    })

    it('keeps accounts apart: another account sees none of it, and cannot address it by id', async () => {
      const mine = (await get('/api/v2/chat/agents')).body as { id: number }[]
      expect(mine.length).toBeGreaterThan(0)
      expect((await call('GET', '/api/v2/chat/agents', b.rw)).body).toEqual([])
      expect((await call('GET', `/api/v2/chat/agents/${mine[0]!.id}`, b.rw)).status).toBe(404)
      expect((await call('DELETE', `/api/v2/chat/agents/${mine[0]!.id}`, b.rw)).status).toBe(404)
      expect((await call('GET', '/api/v2/chat/shortcuts/goodbye', b.rw)).status).toBe(404)
      expect((await call('GET', '/api/v2/chat/account', b.rw)).body.billing.city).toBe('')
      expect((await call('GET', '/api/v2/chat/bans', b.rw)).body).toEqual({
        ip_address: [],
        visitor: [],
      })
      // The same email is free in another account.
      expect(
        (
          await call('POST', '/api/v2/chat/agents', b.rw, {
            email: 'agent3@example.com',
            password: 'secret12',
          })
        ).status,
      ).toBe(201)
    })

    it("replays Airbyte's check and its 10 directory streams (manifest @027fa46a) to completion", async () => {
      const base = '/api/v2/chat'
      // check: CheckStream on routing_settings, record selector [data].
      const check = await get(`${base}/routing_settings/account`)
      expect([check.status, typeof check.body.data]).toEqual([200, 'object'])
      // accounts: whole body is one record, PK account_key.
      expect(typeof (await get(`${base}/account`)).body.account_key).toBe('string')
      // agents, bans: limit=100&since_id=<state, start 0>, then last id + 1, stop on an empty page.
      for (const path of ['agents', 'bans']) {
        let since = 0
        const seen: number[] = []
        for (let requests = 0; requests < 50; requests++) {
          const res = await get(`${base}/${path}?limit=100&since_id=${since}`)
          expect(res.status).toBe(200)
          const records = (
            path === 'bans' ? [...res.body.ip_address, ...res.body.visitor] : res.body
          ) as { id: number; created_at?: unknown }[]
          if (records.length === 0) break
          if (path === 'bans') for (const r of records) expect(r).toHaveProperty('created_at')
          seen.push(...records.map((r) => r.id))
          since = Math.max(...records.map((r) => r.id)) + 1
        }
        expect(seen.length).toBe(new Set(seen).size)
        expect(seen.length).toBeGreaterThan(0)
      }
      // departments, goals, roles, shortcuts, skills, triggers: one request, bare array, PK id.
      for (const path of ['departments', 'goals', 'roles', 'shortcuts', 'skills', 'triggers']) {
        const res = await get(`${base}/${path}`)
        expect([path, res.status, Array.isArray(res.body)]).toEqual([path, 200, true])
        for (const r of res.body as { id: unknown }[]) expect(r.id).toBeDefined()
      }
    })

    it('a missing single resource is a catalogued 404; an unserved method a 405 with Allow', async () => {
      const missing = await get('/api/v2/chat/goals/424242')
      expect(missing.status).toBe(404)
      expect(missing.body).toEqual({
        error: 'Not Found',
        description: expect.stringMatching(/no goal "424242"/),
      })
      const wrong = await call('DELETE', '/api/v2/chat/account', a.rw)
      expect(wrong.status).toBe(405)
      expect(wrong.headers.get('allow')).toBe('GET, PUT, PATCH')
    })
  })
}
