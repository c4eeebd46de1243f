/**
 * Every example response of the reference document, reproduced by importing its items (keeping
 * their timestamps) and querying with the same parameters. Differences are only the documented
 * corrections (semantics.md §8): chats end_time is the last update_timestamp; department_events
 * end_time is the last event's time; agent_timeline carries end_id/start_id like every stream.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Harness, TestAccount } from '../support/harness.js'
import { exampleItems, startHarness } from '../support/harness.js'
import { storeBackends } from '../support/stores.js'

for (const backend of storeBackends()) {
  describe(`${backend.name}: reference examples`, () => {
    let h: Harness
    let acct: TestAccount

    beforeAll(async () => {
      h = await startHarness({ backend })
      acct = await h.account('examples')
      for (const stream of [
        'chats',
        'agent_timeline',
        'conversions',
        'department_events',
      ] as const) {
        const res = await h.importLines(acct.readWrite, stream, exampleItems(stream), true)
        expect(res.status, await res.clone().text()).toBe(200)
      }
    })
    afterAll(() => h.close())

    it('chats with fields=chats(*)', async () => {
      const body = await h.getJson('/api/v2/chat/incremental/chats?fields=chats(*)', acct.owner)
      expect(body).toEqual({
        chats: exampleItems('chats'),
        count: 2,
        end_id: '2012.9339545.SJsAIFAY09HB1',
        end_time: 1608615725, // 2020-12-22T05:42:05Z, the last update_timestamp (the example printed a start time)
        next_page: `${h.url}/api/v2/chat/incremental/chats?fields=chats%28%2A%29&start_time=1608615725&start_id=2012.9339545.SJsAIFAY09HB1`,
      })
    })

    it('chats without fields are ids only', async () => {
      const body = await h.getJson('/api/v2/chat/incremental/chats', acct.owner)
      expect(body.chats).toEqual([
        { id: '2012.9339545.SJs7biGpcbveH' },
        { id: '2012.9339545.SJsAIFAY09HB1' },
      ])
      expect(body.next_page).toBe(
        `${h.url}/api/v2/chat/incremental/chats?start_time=1608615725&start_id=2012.9339545.SJsAIFAY09HB1`,
      )
    })

    it('agent_timeline with limit=7', async () => {
      const body = await h.getJson('/api/v2/chat/incremental/agent_timeline?limit=7', acct.owner)
      expect(body).toEqual({
        agent_timeline: exampleItems('agent_timeline'),
        count: 4,
        end_id: '980824',
        end_time: 1525010407403712,
        next_page: `${h.url}/api/v2/chat/incremental/agent_timeline?limit=7&start_time=1525010407403712&start_id=980824`,
      })
    })

    it('conversions with fields=conversions(*)', async () => {
      const body = await h.getJson(
        '/api/v2/chat/incremental/conversions?fields=conversions%28%2A%29',
        acct.owner,
      )
      expect(body).toEqual({
        conversions: exampleItems('conversions'),
        count: 3,
        end_id: '1805.2234024.v.1865.4rUmpcFFfUBCkBqDru9j6V',
        end_time: 1525690658,
        next_page: `${h.url}/api/v2/chat/incremental/conversions?fields=conversions%28%2A%29&start_time=1525690658&start_id=1805.2234024.v.1865.4rUmpcFFfUBCkBqDru9j6V`,
      })
    })

    it('department_events', async () => {
      const body = await h.getJson('/api/v2/chat/incremental/department_events', acct.owner)
      expect(body).toEqual({
        count: 2,
        department_events: exampleItems('department_events'),
        end_id: 'R3J4l7Q.department:456.ccf4LG',
        end_time: 1512172860.657078, // the example printed an unrelated value; next_page had this one
        next_page: `${h.url}/api/v2/chat/incremental/department_events?start_time=1512172860.657078&start_id=R3J4l7Q.department:456.ccf4LG`,
      })
    })

    it('end_time is written exactly, digit for digit', async () => {
      const res = await h.get('/api/v2/chat/incremental/department_events', acct.owner)
      expect(await res.text()).toContain('"end_time":1512172860.657078,')
    })

    it('following next_page after the example pages gives an empty polling page', async () => {
      for (const stream of ['chats', 'agent_timeline', 'conversions', 'department_events']) {
        const first = await h.getJson(`/api/v2/chat/incremental/${stream}`, acct.owner)
        const next = await h.getJson(
          new URL(first.next_page).pathname + new URL(first.next_page).search,
          acct.owner,
        )
        expect(next.count).toBe(0)
        expect(next[stream]).toEqual([])
        expect(next.next_page).toBe(first.next_page)
        expect(next.end_time).toBe(first.end_time)
      }
    })

    it('the legacy path shape serves the same and keeps its shape in next_page', async () => {
      const body = await h.getJson('/api/v2/incremental/chats?fields=chats(*)&limit=1', acct.owner)
      expect(body.count).toBe(1)
      expect(body.chats[0].id).toBe('2012.9339545.SJs7biGpcbveH')
      expect(body.next_page).toBe(
        `${h.url}/api/v2/incremental/chats?fields=chats%28%2A%29&limit=1&start_time=1608613536&start_id=2012.9339545.SJs7biGpcbveH`,
      )
    })
  })
}
