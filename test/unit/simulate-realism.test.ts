/**
 * Over simulated days, the activity looks like a real support team's: every outcome occurs in
 * plausible proportions, traffic follows business hours (in the business's time zone), nights
 * and weekends are quieter, agents work shifts with breaks.
 */
import { describe, expect, it } from 'vitest'
import type { EventOf, IngestEvent } from '../../src/domain/events.js'
import { parseIso } from '../../src/domain/time.js'
import { createDirectory } from '../../src/simulate/directory.js'
import { simulate, type SimulateOptions } from '../../src/simulate/simulate-day.js'

const HOUR = 3_600_000_000
const DAY = 24 * HOUR
const TUESDAY = parseIso('2020-12-22T00:00:00Z')!
const SATURDAY = parseIso('2020-12-26T00:00:00Z')!

function day(seed: number, start: number, extra: Partial<SimulateOptions> = {}): IngestEvent[] {
  const directory = createDirectory({ seed, accountNumber: 9339545 })
  return [...simulate({ seed, directory, start, end: start + DAY, drain: true, ...extra })]
}

interface Outcomes {
  chats: number
  served: number
  missed: number
  dropped: number
  offline: number
  transferred: number
  proactive: number
  triggered: number
  rated: { good: number; bad: number }
  commented: number
  taggedAfterEnd: number
  deleted: number
  conversionsAfterChat: number
  conversionsWithoutChat: number
  /** Chat starts plus offline messages, per UTC hour. */
  arrivalsByHour: number[]
}

/** Classifies chats from the events alone (as the export would). */
function outcomes(events: IngestEvent[]): Outcomes {
  const byChat = new Map<string, IngestEvent[]>()
  const o: Outcomes = {
    chats: 0,
    served: 0,
    missed: 0,
    dropped: 0,
    offline: 0,
    transferred: 0,
    proactive: 0,
    triggered: 0,
    rated: { good: 0, bad: 0 },
    commented: 0,
    taggedAfterEnd: 0,
    deleted: 0,
    conversionsAfterChat: 0,
    conversionsWithoutChat: 0,
    arrivalsByHour: new Array<number>(24).fill(0),
  }
  for (const e of events) {
    if (e.type === 'conversion') {
      if (e.chat_id === undefined) o.conversionsWithoutChat++
      else o.conversionsAfterChat++
      continue
    }
    if (!('chat_id' in e)) continue
    const list = byChat.get(e.chat_id) ?? []
    byChat.set(e.chat_id, list)
    list.push(e)
  }
  for (const list of byChat.values()) {
    const first = list[0]!
    o.arrivalsByHour[new Date(first.timestamp).getUTCHours()]!++
    if (first.type === 'offline_message') {
      o.offline++
      continue
    }
    o.chats++
    const started = first as EventOf<'chat.started'>
    if (started.proactive) o.proactive++
    if (started.triggered) o.triggered++
    const agentJoined = list.some((e) => e.type === 'chat.member_joined' && e.member === 'agent')
    const endIndex = list.findIndex((e) => e.type === 'chat.ended')
    const live = list.slice(0, endIndex)
    const messages = live.filter((e): e is EventOf<'chat.message'> => e.type === 'chat.message')
    if (!agentJoined) {
      if (messages.some((m) => m.sender === 'visitor')) o.missed++
    } else {
      o.served++
      if (messages[messages.length - 1]?.sender === 'visitor') o.dropped++
    }
    if (list.some((e) => e.type === 'chat.transferred')) o.transferred++
    if (list.some((e) => e.type === 'chat.commented')) o.commented++
    if (list.some((e) => e.type === 'chat.deleted')) o.deleted++
    if (list.slice(endIndex).some((e) => e.type === 'chat.tags_changed')) o.taggedAfterEnd++
    const rating = list.filter((e): e is EventOf<'chat.rated'> => e.type === 'chat.rated').pop()
    if (rating?.rating === 'good') o.rated.good++
    if (rating?.rating === 'bad') o.rated.bad++
  }
  return o
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0)
}

describe('simulate: realism', () => {
  const weekdays = [1, 2, 3].map((seed) => outcomes(day(seed, TUESDAY)))

  it.each([0, 1, 2])('a weekday (seed %i) has every outcome, in plausible proportions', (i) => {
    const o = weekdays[i]!
    // A team of 8 at 20 chats/hour on average: a few hundred chats.
    expect(o.chats).toBeGreaterThan(250)
    expect(o.chats).toBeLessThan(700)
    expect(o.missed / o.chats).toBeGreaterThan(0.005)
    expect(o.missed / o.chats).toBeLessThan(0.15)
    expect(o.dropped / o.served).toBeGreaterThan(0.01)
    expect(o.dropped / o.served).toBeLessThan(0.15)
    expect(o.offline).toBeGreaterThan(0)
    expect(o.offline / (o.offline + o.chats)).toBeLessThan(0.2)
    expect(o.transferred / o.served).toBeGreaterThan(0.01)
    expect(o.transferred / o.served).toBeLessThan(0.15)
    expect(o.proactive).toBeGreaterThan(0)
    expect(o.triggered).toBeGreaterThan(0)
    const rated = o.rated.good + o.rated.bad
    expect(rated / o.served).toBeGreaterThan(0.15)
    expect(rated / o.served).toBeLessThan(0.5)
    expect(o.rated.bad).toBeGreaterThan(0)
    expect(o.rated.good).toBeGreaterThan(2 * o.rated.bad)
    expect(o.commented).toBeGreaterThan(0)
    expect(o.taggedAfterEnd).toBeGreaterThan(0)
    expect(o.conversionsAfterChat).toBeGreaterThan(0)
    expect(o.conversionsWithoutChat).toBeGreaterThan(0)
  })

  it('some chats are deleted', () => {
    expect(sum(weekdays.map((o) => o.deleted))).toBeGreaterThan(0)
  })

  it('arrivals peak in business hours and are rare at night', () => {
    for (const o of weekdays) {
      const business = sum(o.arrivalsByHour.slice(10, 16)) / 6
      const night = sum(o.arrivalsByHour.slice(0, 6)) / 6
      expect(business).toBeGreaterThan(5 * Math.max(night, 1))
    }
  })

  it('traffic follows the business’s own time zone', () => {
    // New York (UTC-5): the busiest UTC hours move five hours later.
    const ny = outcomes(day(1, TUESDAY, { utcOffsetMinutes: -300 }))
    const utcNoonWindow = sum(ny.arrivalsByHour.slice(10, 13))
    const nyNoonWindow = sum(ny.arrivalsByHour.slice(15, 18))
    expect(nyNoonWindow).toBeGreaterThan(2 * utcNoonWindow)
  })

  it('weekends are quieter than weekdays', () => {
    const saturday = outcomes(day(1, SATURDAY))
    expect(saturday.chats + saturday.offline).toBeLessThan(
      0.7 * (weekdays[0]!.chats + weekdays[0]!.offline),
    )
  })

  it('agents work shifts with breaks, not around the clock', () => {
    const events = day(2, TUESDAY)
    const statuses = events.filter(
      (e): e is EventOf<'agent.status_changed'> => e.type === 'agent.status_changed',
    )
    const onlineAt = (hour: number) => {
      const at = TUESDAY + hour * HOUR
      const current = new Map<number, string>()
      for (const s of statuses) if (parseIso(s.timestamp)! <= at) current.set(s.agent_id, s.status)
      return [...current.values()].filter((s) => s === 'online').length
    }
    expect(onlineAt(3)).toBe(0)
    expect(onlineAt(23.5)).toBe(0)
    // Business hours, sampled every quarter of an hour: staffed throughout, breaks staggered.
    const samples = Array.from({ length: 32 }, (_, k) => onlineAt(9 + k / 4))
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(2)
    expect(sum(samples) / samples.length).toBeGreaterThanOrEqual(3.5)
    expect(Math.max(...samples)).toBeLessThanOrEqual(8)
    const kinds = new Set(statuses.map((s) => s.status))
    expect(kinds).toEqual(new Set(['online', 'away', 'invisible', 'offline']))
  })
})
