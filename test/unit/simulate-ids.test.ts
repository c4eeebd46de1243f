/**
 * Simulated ids and directory entries have the shapes of real Zendesk Chat data (see
 * reference-notes.md): chat ids `YYMM.<account>.<13>` dated by the chat, visitor and session ids,
 * visitor msg_ids in epoch milliseconds, agent ids in Zendesk's ranges.
 */
import { describe, expect, it } from 'vitest'
import {
  createdRecord,
  directoryChange,
  isDirectoryEvent,
} from '../../src/domain/directory-events.js'
import type { EventOf, IngestEvent } from '../../src/domain/events.js'
import { parseIso } from '../../src/domain/time.js'
import { createDirectory, directoryEvents, directoryRecords } from '../../src/simulate/directory.js'
import { simulate } from '../../src/simulate/simulate-day.js'

const HOUR = 3_600_000_000
const START = parseIso('2021-04-30T20:00:00Z')!
const ACCOUNT = 9339545

function ofType<T extends IngestEvent['type']>(events: IngestEvent[], type: T): EventOf<T>[] {
  return events.filter((e): e is EventOf<T> => e.type === type)
}

function yymm(iso: string): string {
  return iso.slice(2, 4) + iso.slice(5, 7)
}

describe('simulate: ids and directory', () => {
  const directory = createDirectory({ seed: 9, accountNumber: ACCOUNT })
  // Across a month boundary, so the date parts of ids must follow the events' own dates.
  const events = [...simulate({ seed: 9, directory, start: START, end: START + 8 * HOUR })]

  it('chat and offline message ids are YYMM.<account>.<13 base62>, dated by the chat', () => {
    const starts = [...ofType(events, 'chat.started'), ...ofType(events, 'offline_message')]
    expect(starts.length).toBeGreaterThan(10)
    const months = new Set<string>()
    for (const s of starts) {
      expect(s.chat_id).toMatch(new RegExp(`^\\d{4}\\.${ACCOUNT}\\.[0-9A-Za-z]{13}$`))
      expect(s.chat_id.slice(0, 4)).toBe(yymm(s.timestamp))
      months.add(s.chat_id.slice(0, 4))
    }
    expect(months).toEqual(new Set(['2104', '2105']))
  })

  it('visitors, sessions and messages carry Zendesk-shaped ids and coherent details', () => {
    for (const s of ofType(events, 'chat.started')) {
      expect(s.visitor.id).toMatch(new RegExp(`^${ACCOUNT}\\.[0-9A-Za-z]{15}$`))
      const sessionDay = s.session.start_date.slice(2, 10).replace(/-/g, '')
      expect(s.session.id).toBe(`${sessionDay}.${ACCOUNT}.${s.session.id.split('.')[2]}`)
      expect(s.session.id).toMatch(/^\d{6}\.\d+\.[0-9A-Za-z]{17}$/)
      expect(parseIso(s.session.start_date)!).toBeLessThanOrEqual(parseIso(s.timestamp)!)
      expect(s.session.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/)
      expect(s.session.user_agent).toMatch(/^Mozilla\/5\.0 /)
      if (s.session.platform === 'iOS') expect(s.session.user_agent).toContain('iPhone')
      if (s.session.platform === 'Android') expect(s.session.user_agent).toContain('Android')
      expect(s.session.country_code).toMatch(/^[A-Z]{2}$/)
      expect(s.webpath.length).toBeGreaterThan(0)
      expect(s.webpath[0]!.to.startsWith(directory.siteUrl)).toBe(true)
      if (s.visitor.email === '') expect(s.visitor.name).toMatch(/^Visitor \d{8}$/)
    }
    for (const m of ofType(events, 'chat.message')) {
      if (m.sender !== 'visitor') continue
      expect(m.msg_id).toBe(String(Math.floor(parseIso(m.timestamp)! / 1000)))
    }
  })

  it('conversion ids are YYMM.<account>.v.<goal>.<22 base62>', () => {
    const conversions = ofType(events, 'conversion')
    expect(conversions.length).toBeGreaterThan(0)
    for (const c of conversions) {
      expect(c.conversion_id).toMatch(
        new RegExp(`^${yymm(c.timestamp)}\\.${ACCOUNT}\\.v\\.${c.goal_id}\\.[0-9A-Za-z]{22}$`),
      )
    }
  })

  it('the directory has Zendesk-range ids, names, departments and goals', () => {
    const d = createDirectory({ seed: 9, accountNumber: ACCOUNT, agents: 20 })
    expect(new Set(d.agents.map((a) => a.id)).size).toBe(20)
    for (const a of d.agents) {
      expect(String(a.id)).toMatch(/^(\d{6,7}|3\d{11})$/)
      expect(a.fullName).toMatch(/^\S+ \S/)
      expect(a.fullName.startsWith(a.firstName)).toBe(true)
      expect(a.departmentIds.length).toBeGreaterThan(0)
      expect(a.capacity).toBeGreaterThanOrEqual(2)
    }
    // Both id ranges appear in a team of 20.
    expect(d.agents.some((a) => a.id < 1e8)).toBe(true)
    expect(d.agents.some((a) => a.id > 1e11)).toBe(true)
    expect(d.departments.map((x) => x.name)).toEqual(['Sales', 'Support', 'Billing'])
    for (const dep of d.departments) {
      expect(d.agents.some((a) => a.departmentIds.includes(dep.id))).toBe(true)
    }
    expect(d.goals.map((g) => g.name)).toEqual(['add to cart', 'place order', 'newsletter signup'])
    const placeOrder = d.goals[1]!
    expect(placeOrder.after).toBe(d.goals[0]!.id)

    const upserts = directoryEvents(
      d,
      START,
      (() => {
        let n = 0
        return () => `dir-${n++}`
      })(),
    )
    const records = directoryRecords(d)
    expect(upserts.map((e) => e.type)).toEqual([
      ...records.roles.map(() => 'role.created'),
      ...records.skills.map(() => 'skill.created'),
      ...d.departments.map(() => 'department.created'),
      ...d.agents.map(() => 'agent.created'),
      ...d.goals.map(() => 'goal.created'),
      ...records.shortcuts.map(() => 'shortcut.created'),
      ...records.triggers.map(() => 'trigger.created'),
      ...records.bans.map(() => 'ban.created'),
      'routing_settings.updated',
    ])
    // Every record is valid by the REST resource schemas, as the server checks it.
    for (const event of upserts) {
      if (!isDirectoryEvent(event)) throw new Error(`not a directory event: ${event.type}`)
      const change = directoryChange(event)
      if (change.action !== 'created') continue
      expect(() => createdRecord(change, { accountId: 1, at: START })).not.toThrow()
    }
    // The records agree with the team the simulation uses.
    expect(records.agents.map((a) => a['id'])).toEqual(d.agents.map((a) => a.id))
    expect(records.departments.map((x) => x['id'])).toEqual(d.departments.map((x) => x.id))
    expect(records.goals.map((g) => g['id'])).toEqual(d.goals.map((g) => g.id))
    for (const dep of records.departments) {
      for (const agentId of dep['members'] as number[]) {
        const agent = records.agents.find((a) => a['id'] === agentId)
        expect(agent?.['departments']).toContain(dep['id'])
      }
    }
    expect(records.agents.filter((a) => (a['roles'] as { owner: boolean }).owner)).toHaveLength(1)
    expect(new Set(records.agents.map((a) => a['email'])).size).toBe(d.agents.length)
  })

  it('custom departments and goals are honoured', () => {
    const d = createDirectory({
      seed: 1,
      accountNumber: 1730415,
      agents: 3,
      departments: ['Pre-sales', 'Technical'],
      goals: ['sign up'],
    })
    expect(d.departments.map((x) => [x.name, x.topics])).toEqual([
      ['Pre-sales', 'sales'],
      ['Technical', 'support'],
    ])
    expect(d.goals.map((g) => g.name)).toEqual(['sign up'])
    expect(() => createDirectory({ seed: 1, accountNumber: 0 })).toThrow(/accountNumber/)
  })
})
