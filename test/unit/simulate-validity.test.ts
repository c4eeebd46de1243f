/**
 * The simulation's events form a valid history: every event parses, ids are unique, timestamps
 * never go back, chats follow their life cycle, agents respect status and capacity. Checked on
 * a full day, on random runs (fast-check), on an overloaded team, and by folding a whole day with
 * the real fold.
 */
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ingestEventSchema, type EventOf, type IngestEvent } from '../../src/domain/events.js'
import { isDirectoryEvent } from '../../src/domain/directory-events.js'
import { foldEvent } from '../../src/domain/fold/fold-event.js'
import { MemoryFoldState } from '../../src/domain/fold/fold-state.js'
import { parseIso, type Micros } from '../../src/domain/time.js'
import { createDirectory, type Directory } from '../../src/simulate/directory.js'
import { simulate, type SimulateOptions } from '../../src/simulate/simulate-day.js'

const HOUR = 3_600_000_000
const DAY = 24 * HOUR
const TUESDAY = parseIso('2020-12-22T00:00:00Z')!

/** Events that may still change a chat after chat.ended (edits in the archive). */
const AFTER_END = new Set(['chat.rated', 'chat.commented', 'chat.tags_changed', 'chat.deleted'])

interface ChatTrack {
  offline: boolean
  visitor: 'none' | 'in' | 'out'
  agents: Set<number>
  assigned: Set<number>
  accepted: Set<number>
  everJoined: boolean
  ended: boolean
  deleted: boolean
  startedAt: Micros
}

interface Stats {
  /** Highest number of simultaneous engagements any agent had, and that agent's capacity. */
  peakLoad: { agentId: number; load: number; capacity: number }
}

/**
 * Checks the validity rules independently of the simulator's own bookkeeping; returns one line
 * per violation (empty = valid).
 */
function validate(
  events: readonly IngestEvent[],
  directory: Directory,
  options: { drained: boolean },
): { problems: string[]; stats: Stats } {
  const problems: string[] = []
  const fail = (i: number, message: string) => {
    if (problems.length < 30) problems.push(`#${i} ${events[i]?.type}: ${message}`)
  }
  const capacity = new Map(directory.agents.map((a) => [a.id, a.capacity]))
  const departments = new Set(directory.departments.map((d) => d.id))
  const goals = new Set(directory.goals.map((g) => g.id))
  const ids = new Set<string>()
  const status = new Map<number, string>()
  const engaged = new Map<number, Set<string>>()
  const chats = new Map<string, ChatTrack>()
  const lastQueue = new Map<number | null, string>()
  const stats: Stats = { peakLoad: { agentId: 0, load: 0, capacity: 0 } }
  let last = -Infinity

  const isOnline = (agentId: number) => status.get(agentId) === 'online'
  const engage = (i: number, agentId: number, chatId: string) => {
    const set = engaged.get(agentId) ?? new Set<string>()
    engaged.set(agentId, set)
    set.add(chatId)
    const cap = capacity.get(agentId) ?? 0
    if (set.size > cap) fail(i, `agent ${agentId} has ${set.size} chats, capacity ${cap}`)
    if (set.size > stats.peakLoad.load) stats.peakLoad = { agentId, load: set.size, capacity: cap }
  }

  events.forEach((event, i) => {
    const parsed = ingestEventSchema.safeParse(event)
    if (!parsed.success) return fail(i, `does not parse: ${parsed.error.message}`)
    // Every field is explicit: parsing adds no defaults.
    if (!isDeepStrictEqual(parsed.data, event))
      fail(i, 'parsing changed the event (implicit defaults)')
    if (ids.has(event.id)) fail(i, `duplicate id ${event.id}`)
    ids.add(event.id)
    const at = parseIso(event.timestamp)!
    if (at < last) fail(i, `timestamp ${event.timestamp} goes back in time`)
    last = at
    if ('agent_id' in event && event.agent_id !== undefined && !capacity.has(event.agent_id)) {
      fail(i, `unknown agent ${event.agent_id}`)
    }

    // The directory the simulator publishes first (ids checked against `directory` elsewhere).
    if (isDirectoryEvent(event)) return
    switch (event.type) {
      case 'agent.upserted':
      case 'department.upserted':
      case 'goal.upserted':
        return
      case 'agent.status_changed':
        if (event.status === 'offline' && (engaged.get(event.agent_id)?.size ?? 0) > 0) {
          fail(i, `agent ${event.agent_id} goes offline with chats open`)
        }
        status.set(event.agent_id, event.status)
        return
      case 'department.queue_sizes': {
        if (event.department_id !== null && !departments.has(event.department_id)) {
          fail(i, `unknown department ${event.department_id}`)
        }
        const key = `${event.incoming}/${event.assigned}`
        if (lastQueue.get(event.department_id) === key) fail(i, 'queue sizes did not change')
        lastQueue.set(event.department_id, key)
        return
      }
      case 'conversion': {
        if (!goals.has(event.goal_id)) fail(i, `unknown goal ${event.goal_id}`)
        if (event.chat_id !== undefined) {
          const chat = chats.get(event.chat_id)
          if (chat === undefined || chat.offline) fail(i, 'conversion names an unknown chat')
          else if (!chat.everJoined) fail(i, 'conversion attributed to a chat nobody served')
          else if (chat.deleted) fail(i, 'conversion names a deleted chat')
        }
        return
      }
      case 'chat.started':
      case 'offline_message': {
        if (chats.has(event.chat_id)) return fail(i, `chat ${event.chat_id} starts twice`)
        if (event.department_id !== null && !departments.has(event.department_id)) {
          fail(i, `unknown department ${event.department_id}`)
        }
        chats.set(event.chat_id, {
          offline: event.type === 'offline_message',
          visitor: 'none',
          agents: new Set(),
          assigned: new Set(),
          accepted: new Set(),
          everJoined: false,
          ended: event.type === 'offline_message',
          deleted: false,
          startedAt: at,
        })
        return
      }
      case 'chat.member_joined':
      case 'chat.member_left':
      case 'chat.message':
      case 'chat.tags_changed':
      case 'chat.rated':
      case 'chat.commented':
      case 'chat.transferred':
      case 'chat.ended':
      case 'chat.deleted':
      case 'engagement.assigned':
      case 'engagement.accepted':
      case 'engagement.ended':
        break
    }

    const chat = chats.get(event.chat_id)
    if (chat === undefined) return fail(i, `chat ${event.chat_id} before its chat.started`)
    if (chat.deleted) return fail(i, 'event after chat.deleted')
    if (chat.offline && event.type !== 'chat.deleted') return fail(i, 'event on an offline message')
    if (chat.ended && !AFTER_END.has(event.type)) return fail(i, 'event after chat.ended')

    switch (event.type) {
      case 'chat.member_joined':
        if (event.member === 'visitor') {
          if (chat.visitor !== 'none') fail(i, 'visitor joins twice')
          chat.visitor = 'in'
          return
        }
        if (event.agent_id === undefined) return fail(i, 'agent join without agent_id')
        if (!isOnline(event.agent_id)) fail(i, `agent ${event.agent_id} joins while not online`)
        if (chat.agents.has(event.agent_id)) fail(i, 'agent joins twice')
        if (!chat.accepted.has(event.agent_id) && event.source !== 'chat.invite') {
          fail(i, 'agent joins without accepting an assignment or inviting')
        }
        chat.agents.add(event.agent_id)
        chat.everJoined = true
        engage(i, event.agent_id, event.chat_id)
        return
      case 'chat.member_left':
        if (event.member === 'visitor') {
          if (chat.visitor !== 'in') fail(i, 'visitor leaves without being in the chat')
          chat.visitor = 'out'
          return
        }
        if (event.agent_id === undefined || !chat.agents.has(event.agent_id)) {
          return fail(i, 'agent leaves a chat they are not in')
        }
        if (engaged.get(event.agent_id)?.has(event.chat_id)) {
          fail(i, 'agent leaves before engagement.ended')
        }
        chat.agents.delete(event.agent_id)
        return
      case 'chat.message':
        if (event.sender === 'visitor') {
          if (chat.visitor !== 'in') fail(i, 'visitor message while not in the chat')
          if (!/^\d{13}$/.test(event.msg_id ?? '')) fail(i, `visitor msg_id ${event.msg_id}`)
        } else if (event.agent_id === undefined || !chat.agents.has(event.agent_id)) {
          fail(i, `agent ${event.agent_id} writes in a chat they have not joined`)
        }
        if (event.msg.trim() === '') fail(i, 'empty message')
        return
      case 'chat.transferred':
        if (!departments.has(event.department_id)) fail(i, 'transfer to an unknown department')
        if (event.agent_id === undefined || !chat.agents.has(event.agent_id)) {
          fail(i, 'transfer by an agent not in the chat')
        }
        return
      case 'engagement.assigned':
        if (!isOnline(event.agent_id)) fail(i, `assigned to agent ${event.agent_id} not online`)
        if (chat.agents.has(event.agent_id)) fail(i, 'assigned to an agent already in the chat')
        chat.assigned.add(event.agent_id)
        return
      case 'engagement.accepted':
        if (!chat.assigned.has(event.agent_id)) fail(i, 'accepted without an assignment')
        if (!isOnline(event.agent_id)) fail(i, `agent ${event.agent_id} accepts while not online`)
        chat.assigned.delete(event.agent_id)
        chat.accepted.add(event.agent_id)
        engage(i, event.agent_id, event.chat_id)
        return
      case 'engagement.ended':
        if (!engaged.get(event.agent_id)?.delete(event.chat_id)) {
          fail(i, `engagement.ended for agent ${event.agent_id} without an engagement`)
        }
        chat.accepted.delete(event.agent_id)
        return
      case 'chat.ended':
        if (chat.visitor === 'in' || chat.agents.size > 0) fail(i, 'chat ends with members in it')
        for (const [agentId, set] of engaged) {
          if (set.has(event.chat_id)) fail(i, `agent ${agentId} still engaged at chat.ended`)
        }
        chat.ended = true
        return
      case 'chat.deleted':
        chat.deleted = true
        return
      case 'chat.tags_changed':
        if (event.tags.length === 0) fail(i, 'tags changed to nothing')
        return
      case 'chat.rated':
      case 'chat.commented':
        if (!chat.everJoined) fail(i, 'rating or comment on a chat nobody served')
        return
    }
  })

  if (options.drained) {
    for (const [id, chat] of chats) if (!chat.ended) problems.push(`chat ${id} never ended`)
    for (const [agentId, s] of status) {
      if (s !== 'offline') problems.push(`agent ${agentId} is ${s} at the end`)
    }
    for (const [departmentId, key] of lastQueue) {
      if (key !== '0/0') problems.push(`queue ${departmentId} ends at ${key}`)
    }
  }
  return { problems, stats }
}

function run(options: Omit<SimulateOptions, 'directory'> & { agents?: number }) {
  const directory = createDirectory({
    seed: options.seed,
    accountNumber: 9339545,
    ...(options.agents === undefined ? {} : { agents: options.agents }),
  })
  return { directory, events: [...simulate({ ...options, directory })] }
}

describe('simulate: validity', () => {
  it('a drained weekday is a valid history that uses every event kind', () => {
    const { directory, events } = run({ seed: 1, start: TUESDAY, end: TUESDAY + DAY, drain: true })
    const { problems } = validate(events, directory, { drained: true })
    expect(problems).toEqual([])
    const kinds = new Set(events.map((e) => e.type))
    // The simulator publishes its directory whole, once: it never edits or removes a record, and
    // the names-only upserts are for senders without full records.
    const notSimulated = (type: string) =>
      /\.upserted$/.test(type) ||
      (isDirectoryEvent({ type }) &&
        !/\.created$/.test(type) &&
        type !== 'routing_settings.updated')
    expect(
      [...ingestEventSchema.options.map((o) => o.shape.type.value)]
        .filter((type) => !notSimulated(type))
        .sort(),
    ).toEqual([...kinds].sort())
  })

  it('the checks catch broken histories (so a clean result means something)', () => {
    const { directory, events } = run({
      seed: 2,
      start: TUESDAY + 9 * HOUR,
      end: TUESDAY + 12 * HOUR,
      drain: true,
    })
    const check = (mutated: IngestEvent[]) =>
      validate(mutated, directory, { drained: true }).problems
    expect(check(events)).toEqual([])
    // An agent message moved before the agent joined.
    const msg = events.findIndex((e) => e.type === 'chat.message' && e.sender === 'agent')
    const chatId = (events[msg] as EventOf<'chat.message'>).chat_id
    const join = events.findIndex(
      (e) => e.type === 'chat.member_joined' && e.member === 'agent' && e.chat_id === chatId,
    )
    const early = [...events]
    early.splice(join, 0, { ...events[msg]!, timestamp: events[join]!.timestamp })
    early.splice(msg + 1, 1)
    expect(check(early).join('\n')).toMatch(/writes in a chat they have not joined/)
    // A chat that never ends.
    const end = events.findIndex((e) => e.type === 'chat.ended')
    expect(check(events.filter((_, i) => i !== end)).join('\n')).toMatch(/never ended/)
    // A reused event id.
    const reused = events.map((e, i) => (i === 5 ? { ...e, id: events[4]!.id } : e))
    expect(check(reused).join('\n')).toMatch(/duplicate id/)
  })

  it('random runs (seed, start, length, team size, traffic, time zone) are valid', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
          day: fc.integer({ min: 0, max: 3650 }),
          startMinute: fc.integer({ min: 0, max: 24 * 60 - 1 }),
          hours: fc.integer({ min: 1, max: 8 }),
          agents: fc.integer({ min: 1, max: 10 }),
          arrivalsPerHour: fc.integer({ min: 0, max: 80 }),
          utcOffsetMinutes: fc.integer({ min: -720, max: 720 }),
          drain: fc.boolean(),
        }),
        (p) => {
          const start = parseIso('2015-01-01T00:00:00Z')! + p.day * DAY + p.startMinute * 60e6
          const { directory, events } = run({ ...p, start, end: start + p.hours * HOUR })
          const { problems } = validate(events, directory, { drained: p.drain })
          expect(problems).toEqual([])
          if (!p.drain) {
            const end = start + p.hours * HOUR
            expect(events.every((e) => parseIso(e.timestamp)! < end)).toBe(true)
          }
        },
      ),
      { numRuns: 12 },
    )
  })

  it('an overloaded team fills its capacity and never exceeds it', () => {
    // Two agents and three times the usual traffic: queues, capacity limits and missed chats bind.
    const { directory, events } = run({
      seed: 5,
      agents: 2,
      arrivalsPerHour: 60,
      start: TUESDAY + 9 * HOUR,
      end: TUESDAY + 17 * HOUR,
      drain: true,
    })
    const { problems, stats } = validate(events, directory, { drained: true })
    expect(problems).toEqual([])
    expect(stats.peakLoad.load).toBe(stats.peakLoad.capacity)
    const queued = events.filter((e) => e.type === 'department.queue_sizes' && e.incoming >= 2)
    expect(queued.length).toBeGreaterThan(0)
  })

  it('the real fold accepts every event of a simulated day', async () => {
    const { events } = run({
      seed: 3,
      start: TUESDAY + 8 * HOUR,
      end: TUESDAY + 14 * HOUR,
      drain: true,
    })
    const access = new MemoryFoldState()
    const errors: unknown[] = []
    let chatsWritten = 0
    let spans = 0
    for (const event of events) {
      const result = await foldEvent(access, event)
      if (!result.ok) {
        errors.push({ event: event.id, type: event.type, error: result.error })
        continue
      }
      access.writeChats(result.output.chats)
      chatsWritten += result.output.chats.length
      spans += result.output.agent_timeline.length
    }
    expect(errors.slice(0, 5)).toEqual([])
    expect(chatsWritten).toBeGreaterThan(0)
    expect(spans).toBeGreaterThan(0)
  })
})
