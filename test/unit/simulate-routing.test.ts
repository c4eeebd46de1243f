/**
 * Routing and the department queues driven alone, with the conversation script replaced by
 * recorders: who a waiting chat is offered to, what a timed-out offer does, when the visitor gives
 * up, and when `department.queue_sizes` is sent.
 */
import { describe, expect, it } from 'vitest'
import type { IngestEvent } from '../../src/domain/events.js'
import { parseIso } from '../../src/domain/time.js'
import { DepartmentQueues } from '../../src/simulate/department-queues.js'
import { createDirectory, type Directory } from '../../src/simulate/directory.js'
import { emitQueueSizes, wait } from '../../src/simulate/routing.js'
import type { SimulationRates } from '../../src/simulate/simulate-options.js'
import {
  SimulationContext,
  type AgentState,
  type ChatState,
} from '../../src/simulate/simulation-context.js'

const TUESDAY_NOON = parseIso('2020-12-22T12:00:00Z')!

describe('department queues', () => {
  it('reports a department and the account totals only when their counts change', () => {
    const queues = new DepartmentQueues([1, 2])
    expect(queues.flush()).toEqual([])
    queues.add(1, 'a')
    queues.add(null, 'b')
    expect(queues.flush()).toEqual([
      { departmentId: 1, incoming: 1, assigned: 0 },
      // A chat without a department counts in the totals only.
      { departmentId: null, incoming: 2, assigned: 0 },
    ])
    // Offered and withdrawn within one action: nothing changed, nothing to report.
    queues.changeAssigned(1, 1)
    queues.changeAssigned(1, -1)
    expect(queues.flush()).toEqual([])
    queues.remove(2, 'a')
    expect(queues.flush()).toEqual([])
  })

  it('lists waiting chats queue by queue, oldest first, a withdrawn one back at the front', () => {
    const queues = new DepartmentQueues([1, 2])
    queues.add(2, 'c')
    queues.add(1, 'a')
    queues.add(1, 'b')
    queues.add(null, 'd')
    queues.remove(1, 'a')
    queues.add(1, 'a', true)
    expect(queues.waiting()).toEqual(['a', 'b', 'c', 'd'])
  })
})

describe('routing', () => {
  /** A run's context with two online Support agents, and recorders for the script's handoffs. */
  function setUp(rates: Partial<SimulationRates> = {}) {
    const base = createDirectory({ seed: 5, accountNumber: 9339545, agents: 2 })
    const support = base.departments[0]!
    const directory: Directory = {
      ...base,
      departments: [support],
      agents: base.agents.map((a) => ({ ...a, departmentIds: [support.id], capacity: 2 })),
    }
    const accepted: { chat: string; agent: number }[] = []
    const gaveUp: string[] = []
    const ctx = new SimulationContext(
      { seed: 5, directory, start: TUESDAY_NOON, end: TUESDAY_NOON + 3_600_000_000, rates },
      {
        accepted: (_ctx, chat, agent) => accepted.push({ chat: chat.id, agent: agent.profile.id }),
        visitorLeaves: (_ctx, chat) => {
          gaveUp.push(chat.id)
          chat.phase = 'ended'
        },
      },
    )
    const agents = [...ctx.agents.values()]
    for (const agent of agents) agent.status = 'online'
    const events: IngestEvent[] = []
    /** Runs the agenda like the simulation does, up to `seconds` after the start (once). */
    const runFor = (seconds: number) => {
      for (;;) {
        const action = ctx.nextAction()
        if (action === undefined) break
        if (action.at > TUESDAY_NOON + seconds * 1_000_000) break
        ctx.now = action.at
        action.run()
        emitQueueSizes(ctx)
        events.push(...ctx.takeEvents())
      }
    }
    const enter = (id: string): ChatState => {
      const chat = newChat(ctx, id, support.id)
      ctx.chats.set(id, chat)
      wait(ctx, chat)
      emitQueueSizes(ctx)
      events.push(...ctx.takeEvents())
      return chat
    }
    return { ctx, agents, events, accepted, gaveUp, runFor, enter, support }
  }

  it('offers a chat to the least busy agent, who accepts and joins', () => {
    const { agents, events, accepted, enter, runFor, support } = setUp({
      assignmentTimeoutShare: 0,
    })
    const [busy, free] = agents as [AgentState, AgentState]
    busy.engagements.add('another chat')
    enter('chat-1')
    expect(events.map((e) => e.type)).toEqual([
      'engagement.assigned',
      'department.queue_sizes',
      'department.queue_sizes',
    ])
    expect(events[0]).toMatchObject({ chat_id: 'chat-1', agent_id: free.profile.id })
    // Queued and offered within one action: the report shows the offer only.
    expect(events[1]).toMatchObject({ department_id: support.id, incoming: 0, assigned: 1 })
    runFor(30)
    expect(accepted).toEqual([{ chat: 'chat-1', agent: free.profile.id }])
    expect(events.slice(3).map((e) => e.type)).toEqual([
      'engagement.accepted',
      'chat.member_joined',
      'department.queue_sizes',
      'department.queue_sizes',
    ])
  })

  it('a timed-out offer goes to the next agent; with nobody left the visitor gives up', () => {
    const { agents, events, accepted, gaveUp, enter, runFor } = setUp({
      assignmentTimeoutShare: 1,
      // Patience at its ceiling (20 minutes), so both offers time out before the visitor gives up.
      queuePatienceSeconds: 1e6,
    })
    const chat = enter('chat-1')
    runFor(1300)
    const offeredTo = events
      .filter((e) => e.type === 'engagement.assigned')
      .map((e) => (e as { agent_id: number }).agent_id)
    // Each agent is offered the chat once, never again after letting it time out.
    expect([...offeredTo].sort()).toEqual(agents.map((a) => a.profile.id).sort())
    expect(events.some((e) => e.type === 'engagement.accepted')).toBe(false)
    expect(accepted).toEqual([])
    expect(gaveUp).toEqual(['chat-1'])
    expect(chat.declinedBy.size).toBe(2)
    for (const agent of agents) expect(agent.engagements.size).toBe(0)
  })
})

/** A chat just opened by a new visitor, before it is queued. */
function newChat(ctx: SimulationContext, id: string, departmentId: number): ChatState {
  const identity = ctx.visitors.newVisitor(false)
  return {
    id,
    identity,
    departmentId,
    topic: ctx.text.topic('support', identity.visitor.email, null),
    phase: 'queued',
    token: 0,
    visitorPresent: true,
    agents: new Set(),
    servedBy: [],
    pendingAgent: null,
    declinedBy: new Set(),
    enqueuedAt: ctx.now,
    waitedLong: false,
    turn: -1,
    exchanges: 2,
    transferAtTurn: null,
    transferred: false,
    awaitingReply: false,
    dropped: false,
    tags: [],
    ratedInChat: false,
    rating: null,
    deleted: false,
    needsGreeting: false,
  }
}
