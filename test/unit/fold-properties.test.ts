/**
 * Property tests over generated, valid event sequences: several interleaved chat lifecycles and
 * agent status changes.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { IngestEvent } from '../../src/domain/events.js'
import { ingestEventSchema } from '../../src/domain/events.js'
import type {
  AgentEventItem,
  AgentSpan,
  ChatPrivate,
  FoldOutput,
  LiveChat,
} from '../../src/domain/fold/index.js'
import {
  FOLD_STATE,
  MemoryFoldState,
  deriveChatMetrics,
  foldEvent,
} from '../../src/domain/fold/index.js'
import { streamSpec } from '../../src/domain/streams.js'
import { formatIso, formatIsoMicros, parseIso } from '../../src/domain/time.js'

const AGENTS = [1, 2, 3]
// Weighted: messages and joins are common, ends rare, so chats live long enough to be interesting.
const KINDS = [
  ...Array<'vmsg'>(4).fill('vmsg'),
  ...Array<'amsg'>(4).fill('amsg'),
  ...Array<'ajoin'>(3).fill('ajoin'),
  ...(['vjoin', 'vleave', 'aleave', 'tags', 'rate', 'comment', 'transfer'] as const),
  ...(['assign', 'accept', 'eend', 'end', 'status', 'status'] as const),
] as const

const actionArb = fc.record({
  chat: fc.constantFrom(0, 0, 0, 1, 2),
  kind: fc.constantFrom(...KINDS),
  agent: fc.constantFrom(...AGENTS),
  dt: fc.oneof(
    fc.constant(0),
    fc.integer({ min: 1, max: 2_500_000 }),
    fc.integer({ min: 1, max: 90_000_000 }),
  ),
  tags: fc.subarray(['a', 'b', 'c', 'd']),
  rating: fc.constantFrom('good', 'bad', null),
  comment: fc.constantFrom('nice', 'slow', null),
  department: fc.constantFrom(10, 11),
  targeted: fc.boolean(),
  status: fc.constantFrom('online', 'away', 'invisible', 'offline'),
  startedBy: fc.constantFrom('visitor', 'agent', 'trigger'),
})
type Action = typeof actionArb extends fc.Arbitrary<infer A> ? A : never

interface ChatModel {
  id: string
  visitor: 'implicit' | 'joined' | 'left'
  present: Set<number>
  engaged: Set<number>
  ended: boolean
  messages: number
  joinOrder: number[]
}

/** Turns arbitrary actions into a valid event sequence, skipping actions invalid at that point. */
function scenario(actions: Action[]): { events: IngestEvent[]; chats: ChatModel[] } {
  let t = Date.UTC(2024, 0, 1) * 1000
  let n = 0
  const events: IngestEvent[] = []
  const emit = (raw: Record<string, unknown>) => {
    n += 1
    events.push(ingestEventSchema.parse({ id: `e${n}`, timestamp: formatIso(t), ...raw }))
  }
  for (const agent_id of AGENTS)
    emit({
      type: 'agent.upserted',
      agent_id,
      display_name: `A${agent_id}`,
      full_name: `Agent ${agent_id}`,
    })
  for (const department_id of [10, 11])
    emit({ type: 'department.upserted', department_id, name: `D${department_id}` })
  const chats: ChatModel[] = []
  const models = new Map<number, ChatModel>()
  for (const a of actions) {
    t += a.dt
    if (a.kind === 'status') {
      emit({ type: 'agent.status_changed', agent_id: a.agent, status: a.status })
      continue
    }
    let m = models.get(a.chat)
    if (m === undefined) {
      m = {
        id: `2401.1.chat${a.chat}`,
        visitor: 'implicit',
        present: new Set(),
        engaged: new Set(),
        ended: false,
        messages: 0,
        joinOrder: [],
      }
      models.set(a.chat, m)
      chats.push(m)
      emit({
        type: 'chat.started',
        chat_id: m.id,
        visitor: { id: `1.v${a.chat}`, name: `Visitor ${a.chat}` },
        session: { id: `s${a.chat}`, start_date: formatIso(t) },
        department_id: a.department,
        started_by: a.startedBy,
        skills_requested: a.targeted ? [5] : [],
      })
    }
    const chat_id = m.id
    const alive = !m.ended
    switch (a.kind) {
      case 'vjoin':
        if (alive && m.visitor !== 'joined') {
          m.visitor = 'joined'
          emit({ type: 'chat.member_joined', chat_id, member: 'visitor' })
        }
        break
      case 'vleave':
        if (alive && m.visitor !== 'left') {
          m.visitor = 'left'
          emit({ type: 'chat.member_left', chat_id, member: 'visitor' })
        }
        break
      case 'vmsg':
        if (alive && m.visitor !== 'left') {
          m.messages += 1
          emit({ type: 'chat.message', chat_id, sender: 'visitor', msg: 'hi' })
        }
        break
      case 'ajoin':
        if (alive && !m.present.has(a.agent)) {
          m.present.add(a.agent)
          m.engaged.add(a.agent)
          if (!m.joinOrder.includes(a.agent)) m.joinOrder.push(a.agent)
          emit({ type: 'chat.member_joined', chat_id, member: 'agent', agent_id: a.agent })
        }
        break
      case 'aleave':
        if (alive && m.present.has(a.agent)) {
          m.present.delete(a.agent)
          m.engaged.delete(a.agent)
          emit({ type: 'chat.member_left', chat_id, member: 'agent', agent_id: a.agent })
        }
        break
      case 'amsg':
        if (alive && m.present.has(a.agent)) {
          m.messages += 1
          emit({ type: 'chat.message', chat_id, sender: 'agent', agent_id: a.agent, msg: 'yo' })
        }
        break
      case 'tags':
        emit({ type: 'chat.tags_changed', chat_id, agent_id: a.agent, tags: a.tags })
        break
      case 'rate':
        emit({ type: 'chat.rated', chat_id, rating: a.rating })
        break
      case 'comment':
        emit({ type: 'chat.commented', chat_id, comment: a.comment })
        break
      case 'transfer':
        if (alive)
          emit({
            type: 'chat.transferred',
            chat_id,
            department_id: a.department,
            ...(a.targeted ? { agent_id: a.agent } : {}),
          })
        break
      case 'assign':
        if (alive) emit({ type: 'engagement.assigned', chat_id, agent_id: a.agent })
        break
      case 'accept':
        if (alive) {
          m.engaged.add(a.agent)
          emit({ type: 'engagement.accepted', chat_id, agent_id: a.agent })
        }
        break
      case 'eend':
        if (alive && m.engaged.has(a.agent)) {
          m.engaged.delete(a.agent)
          emit({ type: 'engagement.ended', chat_id, agent_id: a.agent })
        }
        break
      case 'end':
        if (alive) {
          m.ended = true
          m.engaged.clear()
          emit({ type: 'chat.ended', chat_id })
        }
        break
    }
  }
  return { events, chats }
}

async function foldAll(events: IngestEvent[], state = new MemoryFoldState()) {
  const outputs: FoldOutput[] = []
  for (const event of events) {
    const result = await foldEvent(state, event)
    if (!result.ok) throw new Error(`${event.type} ${result.error.code}: ${result.error.message}`)
    state.writeChats(result.output.chats)
    outputs.push(result.output)
  }
  return { state, outputs }
}

const DERIVED = [
  'abandon_time',
  'agent_ids',
  'agent_names',
  'comment',
  'count',
  'dropped',
  'duration',
  'end_timestamp',
  'engagements',
  'missed',
  'rating',
  'response_time',
  'skills_fulfilled',
  'tags',
] as const

function derivedOf(chat: LiveChat) {
  return Object.fromEntries(DERIVED.map((k) => [k, chat[k]]))
}

const actionsArb = fc.array(actionArb, { minLength: 1, maxLength: 80, size: 'max' })

describe('chat folding', () => {
  it('keeps the derived fields equal to deriveChatMetrics recomputed from the history', async () => {
    await fc.assert(
      fc.asyncProperty(actionsArb, async (actions) => {
        const { events, chats } = scenario(actions)
        const state = new MemoryFoldState()
        for (const event of events) {
          const result = await foldEvent(state, event)
          expect(result.ok).toBe(true)
          if (!result.ok) return
          state.writeChats(result.output.chats)
          for (const chat of result.output.chats) {
            if (chat.type !== 'chat') continue
            const p = state.getState(FOLD_STATE.chat, chat.id) as ChatPrivate
            const recomputed = deriveChatMetrics(chat.history, {
              times: p.times,
              endedAt: p.endedAt,
              engagements: p.engagements,
            })
            expect(derivedOf(chat)).toStrictEqual(recomputed)
          }
        }
        // And against the generator's own model.
        for (const m of chats) {
          const chat = state.getChat(m.id) as LiveChat
          expect(chat.count.total).toBe(m.messages)
          expect(chat.agent_ids).toEqual(m.joinOrder.map(String))
          expect(chat.end_timestamp !== null).toBe(m.ended)
          expect(chat.history.map((h) => h.index)).toEqual(chat.history.map((_, i) => i))
          const times = chat.history.map((h) => parseIso(h.timestamp)!)
          expect(times).toEqual([...times].sort((x, y) => x - y))
          if (chat.missed) expect(chat.dropped).toBe(false)
          expect(chat.abandon_time !== null).toBe(chat.missed || chat.dropped)
        }
      }),
      { numRuns: 150 },
    )
  })

  it('is deterministic: folding any prefix again from scratch gives the same outputs', async () => {
    await fc.assert(
      fc.asyncProperty(actionsArb, fc.nat(), async (actions, cut) => {
        const { events } = scenario(actions)
        const full = await foldAll(events)
        const k = cut % (events.length + 1)
        const prefix = await foldAll(events.slice(0, k))
        expect(prefix.outputs).toStrictEqual(full.outputs.slice(0, k))
        // Every item is accepted by its stream's validation, as the store will write it.
        for (const output of full.outputs)
          for (const [stream, items] of Object.entries(output))
            for (const item of items as unknown[])
              expect(() => streamSpec(stream as keyof FoldOutput).prepare(item)).not.toThrow()
      }),
      { numRuns: 60 },
    )
  })
})

describe('agent timeline', () => {
  /** The timeline an agent's own change events imply: RLE of (status, count), minus offline. */
  function expectedSpans(events: AgentEventItem[]): AgentSpan[] {
    const spans: AgentSpan[] = []
    let status = 'offline'
    let count = 0
    let since: number | null = null
    for (const e of events) {
      const at = parseIso(e.timestamp)!
      if (since !== null && status !== 'offline' && at > since)
        spans.push({
          agent_id: e.agent_id,
          duration: (at - since) / 1e6,
          engagement_count: count,
          start_time: formatIsoMicros(since),
          status: status as AgentSpan['status'],
        })
      if (e.field_name === 'status') status = e.value as string
      else count = e.value as number
      since = at
    }
    return spans
  }

  it('has back-to-back spans that are exactly the agent events run-length encoded', async () => {
    await fc.assert(
      fc.asyncProperty(actionsArb, async (actions) => {
        const { events, chats } = scenario(actions)
        const { outputs } = await foldAll(events)
        const agentEvents = outputs.flatMap((o) => o.agent_events)
        const spans = outputs.flatMap((o) => o.agent_timeline)
        for (const agent of AGENTS) {
          const own = agentEvents.filter((e) => e.agent_id === agent)
          const ownSpans = spans.filter((s) => s.agent_id === agent)
          expect(ownSpans).toStrictEqual(expectedSpans(own))
          // Consecutive spans touch unless the agent was offline in between.
          for (let i = 1; i < ownSpans.length; i++) {
            const prev = ownSpans[i - 1]!
            const end = parseIso(prev.start_time)! + Math.round(prev.duration * 1e6)
            expect(parseIso(ownSpans[i]!.start_time)!).toBeGreaterThanOrEqual(end)
          }
          // Each field's previous_value is the value before it.
          for (const field of ['status', 'engagements'] as const) {
            const series = own.filter((e) => e.field_name === field)
            series.forEach((e, i) => {
              expect(e.previous_value).toBe(
                i === 0 ? (field === 'status' ? 'offline' : 0) : series[i - 1]!.value,
              )
              expect(e.value).not.toBe(e.previous_value)
            })
          }
          // The final engagement count matches the model's engaged chats.
          const counts = own.filter((e) => e.field_name === 'engagements')
          const last = counts[counts.length - 1]?.value ?? 0
          expect(last).toBe(chats.filter((m) => m.engaged.has(agent)).length)
        }
        expect(new Set(agentEvents.map((e) => e.id)).size).toBe(agentEvents.length)
      }),
      { numRuns: 150 },
    )
  })
})
