/**
 * The simulator publishes a directory consistent with its chats: after a simulated day posted
 * through the HTTP event API, on each store, every agent id in the chats and the agent timeline
 * resolves through `/agents/{id}`, every department id through `/departments/{id}`, every
 * conversion goal id through `/goals/{id}`, and the names the chats show are the records' names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseIso } from '../../src/domain/time.js'
import { createDirectory } from '../../src/simulate/directory.js'
import { simulate } from '../../src/simulate/simulate-day.js'
import type { Harness, TestAccount } from '../support/harness.js'
import { startHarness } from '../support/harness.js'
import { storeBackends } from '../support/stores.js'

const START = parseIso('2020-12-22T00:00:00Z')!
const HOURS = 10

type Json = Record<string, any>

for (const backend of storeBackends()) {
  describe(`${backend.name}: a simulated day's directory`, () => {
    let h: Harness
    let acc: TestAccount

    /** Every item of a stream, following next_page until a short page. */
    const exportAll = async (stream: string, fields: string): Promise<Json[]> => {
      const items: Json[] = []
      let url = `/api/v2/chat/incremental/${stream}?start_time=0&limit=1000&fields=${encodeURIComponent(fields)}`
      for (;;) {
        const page = await h.getJson(url, acc.owner)
        items.push(...(page[stream] as Json[]))
        if (page.count < 1000) return items
        url = new URL(page.next_page as string).pathname + new URL(page.next_page as string).search
      }
    }
    const status = async (path: string) => (await h.get(`/api/v2/chat${path}`, acc.owner)).status

    beforeAll(async () => {
      h = await startHarness({ backend })
      acc = await h.account('sim-directory')
      const directory = createDirectory({ seed: 5, accountNumber: 9339545 })
      const events = [
        ...simulate({
          seed: 5,
          directory,
          start: START,
          end: START + HOURS * 3_600_000_000,
          drain: true,
        }),
      ]
      for (let i = 0; i < events.length; i += 1000) {
        const res = await fetch(`${h.url}/api/chat-export/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${acc.readWrite}`, 'content-type': 'application/json' },
          body: JSON.stringify(events.slice(i, i + 1000)),
        })
        if (res.status !== 200) throw new Error(`batch ${i}: ${res.status} ${await res.text()}`)
      }
    }, 120_000)
    afterAll(async () => h?.close())

    it('every id the exports use resolves through the REST directory', async () => {
      const chats = await exportAll('chats', 'chats(*)')
      const timeline = await exportAll('agent_timeline', 'agent_timeline(*)')
      const conversions = await exportAll('conversions', 'conversions(*)')
      expect(chats.length).toBeGreaterThan(20)
      expect(timeline.length).toBeGreaterThan(0)
      expect(conversions.length).toBeGreaterThan(0)

      const agentIds = new Set<number>([
        ...chats.flatMap((c) => ((c.agent_ids ?? []) as string[]).map(Number)),
        ...chats.flatMap((c) => ((c.engagements ?? []) as Json[]).map((e) => Number(e.agent_id))),
        ...timeline.map((s) => Number(s.agent_id)),
      ])
      const departmentIds = new Set<number>(
        chats.flatMap((c) => (c.department_id === null ? [] : [Number(c.department_id)])),
      )
      const goalIds = new Set<number>(conversions.map((c) => Number(c.goal_id)))
      expect(agentIds.size).toBeGreaterThan(1)
      expect(departmentIds.size).toBeGreaterThan(1)

      const agents = new Map<number, Json>()
      for (const id of agentIds) {
        const res = await h.get(`/api/v2/chat/agents/${id}`, acc.owner)
        expect(res.status, `agent ${id}`).toBe(200)
        agents.set(id, (await res.json()) as Json)
      }
      for (const id of departmentIds)
        expect(await status(`/departments/${id}`), `department ${id}`).toBe(200)
      for (const id of goalIds) expect(await status(`/goals/${id}`), `goal ${id}`).toBe(200)

      // The names chats show are the records' names.
      const names = new Set([...agents.values()].map((a) => a.display_name as string))
      for (const chat of chats)
        for (const name of (chat.agent_names ?? []) as string[]) expect(names).toContain(name)
      const departments = (await h.getJson('/api/v2/chat/departments', acc.owner)) as Json[]
      const byId = new Map(departments.map((d) => [d.id as number, d.name as string]))
      for (const chat of chats) {
        if (chat.department_id !== null)
          expect(chat.department_name).toBe(byId.get(Number(chat.department_id)))
      }
      // Members and agent departments agree; the owner answers /agents/me.
      for (const d of departments) {
        for (const member of d.members as number[]) {
          const agent = (await h.getJson(`/api/v2/chat/agents/${member}`, acc.owner)) as Json
          expect(agent.departments).toContain(d.id)
        }
      }
      expect((await h.getJson('/api/v2/chat/agents/me', acc.owner)).roles.owner).toBe(true)
      const bans = await h.getJson('/api/v2/chat/bans', acc.owner)
      expect(bans.ip_address.length + bans.visitor.length).toBeGreaterThan(0)
      for (const path of ['/skills', '/roles', '/shortcuts', '/triggers']) {
        expect(
          ((await h.getJson(`/api/v2/chat${path}`, acc.owner)) as Json[]).length,
          path,
        ).toBeGreaterThan(0)
      }
      expect(
        (await h.getJson('/api/v2/chat/routing_settings/account', acc.owner)).data.routing_mode,
      ).toBe('assigned')
    })
  })
}
