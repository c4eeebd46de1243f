/**
 * Agents' availability and the routing of queued chats ("assigned" mode).
 *
 * - Availability: each calendar day's shifts (shifts.ts) become scheduled status changes; an agent
 *   whose shift ends mid-chat goes `away` and logs off when their last chat ends.
 * - Queues: a FIFO queue per department (`null`: no department chosen), counted in
 *   department-queues.ts and reported as `department.queue_sizes` after each action.
 * - Assignment: a waiting chat is offered (`engagement.assigned`) to the least busy eligible online
 *   agent, who accepts a few seconds later (`engagement.accepted` + `chat.member_joined`, then the
 *   conversation script takes over through `ctx.handoffs`) or lets it time out (back to the
 *   head of the queue, not offered to them again).
 * @module
 */
import type { Micros } from '../domain/time.js'
import { visitorMessage } from './chat-events.js'
import { Rng, clamp, deriveSeed } from './rng.js'
import { planShift, type AgentStatus } from './shifts.js'
import {
  DAY,
  HOUR,
  MINUTE,
  type AgentState,
  type ChatState,
  type SimulationContext,
} from './simulation-context.js'

// ---------------------------------------------------------------- availability

/**
 * Schedules every agent's status changes for the local day starting at `dayStart`, and the
 * planning of the next day. Changes already past (a run starting mid-shift) collapse into the
 * status in force now.
 */
export function planDay(ctx: SimulationContext, dayStart: Micros): void {
  const weekend = ctx.local.isWeekend(dayStart + 12 * HOUR)
  // Shifts depend on the seed and the calendar day only, not on where the run starts.
  const dayRng = new Rng(deriveSeed(ctx.options.seed, 'day', dayStart))
  for (const agent of ctx.agents.values()) {
    let current: AgentStatus | null = null
    for (const change of planShift(dayRng, agent.profile, dayStart, weekend)) {
      if (change.at <= ctx.now) {
        // The run starts mid-shift: only the status in force now matters.
        current = change.status
      } else {
        ctx.schedule(change.at, 'agent', () => setStatus(ctx, agent, change.status))
      }
    }
    if (current !== null) setStatus(ctx, agent, current)
  }
  ctx.schedule(dayStart + DAY, 'agent', () => planDay(ctx, dayStart + DAY))
}

/** Sets the agent's status and sends `agent.status_changed`, unless it is unchanged. */
export function emitStatus(ctx: SimulationContext, agent: AgentState, status: AgentStatus): void {
  if (agent.status === status) return
  agent.status = status
  ctx.emit('agent.status_changed', { agent_id: agent.profile.id, status })
}

/** A planned status change; logging off waits for the agent's open chats to end. */
function setStatus(ctx: SimulationContext, agent: AgentState, status: AgentStatus): void {
  if (status === 'offline' && agent.engagements.size > 0) {
    // Finish the chats first; stop taking new ones meanwhile.
    emitStatus(ctx, agent, 'away')
    agent.offlineWhenFree = true
    return
  }
  agent.offlineWhenFree = false
  emitStatus(ctx, agent, status)
  if (status === 'online') route(ctx)
}

/** An engagement of `agent` ended: maybe log off, else offer them the queue. */
export function agentFreed(ctx: SimulationContext, agent: AgentState): void {
  if (agent.offlineWhenFree && agent.engagements.size === 0) {
    agent.offlineWhenFree = false
    emitStatus(ctx, agent, 'offline')
    return
  }
  route(ctx)
}

/** Whether the agent takes chats of the department; anyone takes chats without one. */
export function servesDepartment(agent: AgentState, departmentId: number | null): boolean {
  return departmentId === null || agent.profile.departmentIds.includes(departmentId)
}

/** Online with room for one more chat (pending assignments count). */
export function hasCapacity(agent: AgentState): boolean {
  return agent.status === 'online' && agent.engagements.size < agent.profile.capacity
}

/** Whether the pre-chat form shows the department as online: one of its agents is. */
export function departmentOnline(ctx: SimulationContext, departmentId: number | null): boolean {
  for (const agent of ctx.agents.values()) {
    if (agent.status === 'online' && servesDepartment(agent, departmentId)) return true
  }
  return false
}

// ---------------------------------------------------------------- queues

/** Sends the `department.queue_sizes` that the action just run made due. */
export function emitQueueSizes(ctx: SimulationContext): void {
  for (const q of ctx.queues.flush()) {
    ctx.emit('department.queue_sizes', {
      department_id: q.departmentId,
      incoming: q.incoming,
      assigned: q.assigned,
    })
  }
}

function enqueue(ctx: SimulationContext, chat: ChatState, front = false): void {
  ctx.queues.add(chat.departmentId, chat.id, front)
  chat.phase = 'queued'
}

/** Takes the chat out of its department's queue (the visitor left while waiting). */
export function dequeue(ctx: SimulationContext, chat: ChatState): void {
  ctx.queues.remove(chat.departmentId, chat.id)
}

/**
 * Puts a chat in its department's queue and starts the visitor's patience clock; when it runs
 * out before anyone accepts, the visitor leaves (a missed chat). Then tries to route it.
 */
export function wait(ctx: SimulationContext, chat: ChatState): void {
  chat.enqueuedAt = ctx.now
  chat.token++
  const token = chat.token
  enqueue(ctx, chat)
  const patience = clamp(ctx.rng.logNormal(ctx.rates.queuePatienceSeconds, 0.8), 20, 1200)
  ctx.after(patience, 'chat', () => {
    if (chat.token === token && chat.phase === 'queued') ctx.handoffs.visitorLeaves(ctx, chat)
  })
  if (ctx.rng.chance(0.3)) {
    ctx.after(ctx.rng.uniform(40, 110), 'chat', () => {
      if (chat.token === token && chat.phase === 'queued' && chat.visitorPresent) {
        visitorMessage(ctx, chat, ctx.text.nudge())
      }
    })
  }
  route(ctx)
}

// ---------------------------------------------------------------- assignment

/**
 * Offers waiting chats, oldest first across departments, each to the eligible agent with the
 * fewest chats (then the one assigned longest ago). Run whenever a chat starts waiting or an
 * agent becomes free.
 */
function route(ctx: SimulationContext): void {
  const waiting: ChatState[] = []
  for (const id of ctx.queues.waiting()) {
    const chat = ctx.chats.get(id)
    if (chat !== undefined) waiting.push(chat)
  }
  waiting.sort((a, b) => a.enqueuedAt - b.enqueuedAt)
  for (const chat of waiting) {
    let best: AgentState | undefined
    for (const agent of ctx.agents.values()) {
      if (!hasCapacity(agent) || !servesDepartment(agent, chat.departmentId)) continue
      if (chat.declinedBy.has(agent.profile.id)) continue
      if (
        best === undefined ||
        agent.engagements.size < best.engagements.size ||
        (agent.engagements.size === best.engagements.size &&
          agent.lastAssignedAt < best.lastAssignedAt)
      ) {
        best = agent
      }
    }
    if (best !== undefined) assign(ctx, chat, best)
  }
}

function assign(ctx: SimulationContext, chat: ChatState, agent: AgentState): void {
  dequeue(ctx, chat)
  ctx.queues.changeAssigned(chat.departmentId, 1)
  chat.pendingAgent = agent.profile.id
  agent.engagements.add(chat.id)
  agent.lastAssignedAt = ctx.now
  ctx.emit('engagement.assigned', { chat_id: chat.id, agent_id: agent.profile.id })
  const timesOut = ctx.rng.chance(ctx.rates.assignmentTimeoutShare)
  const delay = timesOut ? 30 : clamp(ctx.rng.logNormal(ctx.rates.acceptSeconds, 0.6), 1, 25)
  const token = chat.token
  ctx.after(delay, 'chat', () => {
    if (chat.token !== token || chat.pendingAgent !== agent.profile.id) return
    if (timesOut || agent.status !== 'online') withdraw(ctx, chat, agent)
    else accept(ctx, chat, agent)
  })
}

/** An assignment the agent did not accept goes back to the head of the queue. */
function withdraw(ctx: SimulationContext, chat: ChatState, agent: AgentState): void {
  unassign(ctx, chat, agent)
  chat.declinedBy.add(agent.profile.id)
  // No engagement.ended: an engagement only begins when the agent accepts or joins.
  enqueue(ctx, chat, true)
  agentFreed(ctx, agent)
}

/** Cancels the chat's pending assignment to `agent` (the caller frees the agent). */
export function unassign(ctx: SimulationContext, chat: ChatState, agent: AgentState): void {
  ctx.queues.changeAssigned(chat.departmentId, -1)
  chat.pendingAgent = null
  agent.engagements.delete(chat.id)
}

function accept(ctx: SimulationContext, chat: ChatState, agent: AgentState): void {
  ctx.queues.changeAssigned(chat.departmentId, -1)
  chat.pendingAgent = null
  chat.token++
  chat.phase = 'talking'
  if (ctx.now - chat.enqueuedAt > 2 * MINUTE) chat.waitedLong = true
  ctx.emit('engagement.accepted', { chat_id: chat.id, agent_id: agent.profile.id })
  join(ctx, chat, agent, undefined)
  ctx.handoffs.accepted(ctx, chat, agent)
}

/**
 * The agent joins the chat (`chat.member_joined`) and it counts against their capacity; `source`
 * is `chat.invite` for a proactive chat, absent for an accepted assignment.
 */
export function join(
  ctx: SimulationContext,
  chat: ChatState,
  agent: AgentState,
  source: string | undefined,
): void {
  chat.agents.add(agent.profile.id)
  chat.servedBy.push(agent.profile.id)
  agent.engagements.add(chat.id)
  ctx.emit('chat.member_joined', {
    chat_id: chat.id,
    member: 'agent',
    agent_id: agent.profile.id,
    name: agent.profile.displayName,
    ...(source === undefined ? {} : { source }),
  })
}
