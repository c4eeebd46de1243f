/**
 * How chats begin: visitors arriving as a Poisson process that follows the local hour of day
 * (arrival-curve.ts), new or returning; the pre-chat form's department choice; chats opened by the
 * visitor or by a trigger's greeting; an offline message when the department is offline; and
 * proactive invitations by online agents with spare capacity.
 * @module
 */
import type { Micros } from '../domain/time.js'
import { nextArrival, trafficFactor } from './arrival-curve.js'
import { agentMessage, changeTags, visitorMessage } from './chat-events.js'
import { agentLeaves, scheduleAgentReplyOrDrop, visitorLeaves } from './conversation.js'
import { newChatId, uniqueId } from './ids.js'
import { offlineMessage } from './outcomes.js'
import { clamp } from './rng.js'
import { departmentOnline, hasCapacity, join, wait } from './routing.js'
import {
  MINUTE,
  type AgentState,
  type ChatState,
  type SimulationContext,
} from './simulation-context.js'
import type { VisitorIdentity } from './visitors.js'

// ---------------------------------------------------------------- visitors

/** Schedules the next visitor's arrival after `after`, if it falls in the simulated period. */
export function scheduleArrival(ctx: SimulationContext, after: Micros): void {
  const perHour = ctx.options.arrivalsPerHourAt?.(after) ?? ctx.perHour
  const at = nextArrival(ctx.rng, ctx.local, after, perHour)
  if (at < ctx.options.end) ctx.schedule(at, 'arrival', () => arrive(ctx))
}

/** A returning visitor (not in a chat now) or a new one, who joins the pool of returners. */
function pickVisitor(ctx: SimulationContext, named: boolean): VisitorIdentity {
  if (ctx.returning.length > 0 && ctx.rng.chance(ctx.rates.returningVisitorShare)) {
    const identity = ctx.rng.pick(ctx.returning)
    if (!ctx.busyVisitors.has(identity.visitor.id)) return identity
  }
  const identity = ctx.visitors.newVisitor(named)
  ctx.returning.push(identity)
  // A bounded pool keeps memory flat on endless runs.
  if (ctx.returning.length > 500) ctx.returning.shift()
  return identity
}

/** The department picked in the pre-chat form, by the departments' shares; `null` for none. */
function pickDepartment(ctx: SimulationContext): number | null {
  const { departments } = ctx.directory
  if (departments.length === 0 || ctx.rng.chance(ctx.rates.noDepartmentShare)) return null
  return ctx.rng.weighted(departments.map((d) => [d.id, d.share] as const))
}

/** A visitor arrives: a chat opens (by them or a trigger), or an offline message, or nothing. */
function arrive(ctx: SimulationContext): void {
  scheduleArrival(ctx, ctx.now)
  const identity = pickVisitor(ctx, ctx.rng.chance(ctx.rates.namedVisitorShare))
  let departmentId = pickDepartment(ctx)
  const browsing = clamp(ctx.rng.logNormal(4, 0.8), 0.5, 40) * MINUTE
  const sessionStart = ctx.now - Math.round(browsing / 1000) * 1000

  if (!departmentOnline(ctx, departmentId)) {
    // The department shows as offline in the form; some pick "no department" if anyone is on.
    if (departmentId !== null && departmentOnline(ctx, null) && ctx.rng.chance(0.5)) {
      departmentId = null
    } else {
      if (ctx.rng.chance(ctx.rates.offlineMessageShare)) {
        offlineMessage(ctx, identity, departmentId, sessionStart)
      }
      return
    }
  }
  ctx.busyVisitors.add(identity.visitor.id)
  const triggered = ctx.rng.chance(ctx.rates.triggeredShare)
  const chat = startChat(
    ctx,
    identity,
    departmentId,
    sessionStart,
    triggered ? 'trigger' : 'visitor',
    null,
  )
  if (triggered) {
    // A trigger greeted the visitor, who answers a little later. The trigger's own message is
    // not sent: it has no agent, and an agent message without agent_id cannot be folded.
    ctx.after(ctx.rng.uniform(8, 60), 'chat', () => {
      visitorMessage(ctx, chat, ctx.text.opener(chat.topic))
      wait(ctx, chat)
    })
  } else {
    visitorMessage(ctx, chat, ctx.text.opener(chat.topic))
    wait(ctx, chat)
  }
}

// ---------------------------------------------------------------- a chat's start

/** A new chat's state: a fresh id, its topic, how many exchanges it will take, any transfer. */
function newChatState(
  ctx: SimulationContext,
  identity: VisitorIdentity,
  departmentId: number | null,
  product: string | null,
): ChatState {
  const id = uniqueId(ctx.chatIds, () => newChatId(ctx.rng, ctx.directory.accountNumber, ctx.now))
  const topic = ctx.text.topic(ctx.topicFamily(departmentId), identity.visitor.email, product)
  const exchanges = ctx.rng.weighted([
    [1, 1],
    [2, 3],
    [3, 4],
    [4, 3],
    [5, 2],
    [6, 1],
  ])
  return {
    id,
    identity,
    departmentId,
    topic,
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
    exchanges,
    transferAtTurn: ctx.rng.chance(ctx.rates.transferShare) ? ctx.rng.int(0, 1) : null,
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

/** Opens a chat: `chat.started` with the visitor's session and webpath, and the visitor's join. */
function startChat(
  ctx: SimulationContext,
  identity: VisitorIdentity,
  departmentId: number | null,
  sessionStart: Micros,
  startedBy: 'visitor' | 'agent' | 'trigger',
  product: string | null,
): ChatState {
  const chat = newChatState(ctx, identity, departmentId, product)
  ctx.chats.set(chat.id, chat)
  const referral = ctx.visitors.referral()
  ctx.emit('chat.started', {
    chat_id: chat.id,
    visitor: identity.visitor,
    session: ctx.visitors.session(identity, sessionStart),
    department_id: departmentId,
    started_by: startedBy,
    proactive: startedBy === 'agent',
    triggered: startedBy === 'trigger',
    webpath: ctx.visitors.webpath(sessionStart, ctx.now, referral, product),
    referrer_search_engine: referral.searchEngine,
    referrer_search_terms: referral.searchTerms,
    skills_requested: [],
    zendesk_ticket_id: null,
  })
  ctx.emit('chat.member_joined', {
    chat_id: chat.id,
    member: 'visitor',
    name: identity.visitor.name,
    ...(startedBy === 'agent' ? { source: 'chat.invite' } : {}),
  })
  return chat
}

// ---------------------------------------------------------------- proactive chats

/** Schedules the next five-minute check for agents free to invite a visitor. */
export function scheduleProactiveTick(ctx: SimulationContext, from: Micros): void {
  const at = from + 5 * MINUTE
  if (at < ctx.options.end) ctx.schedule(at, 'arrival', () => proactiveTick(ctx))
}

function proactiveTick(ctx: SimulationContext): void {
  scheduleProactiveTick(ctx, ctx.now)
  const traffic = Math.min(1.5, trafficFactor(ctx.local, ctx.now))
  const p = (ctx.rates.proactivePerAgentHour * traffic * 5) / 60
  for (const agent of ctx.agents.values()) {
    if (!hasCapacity(agent) || agent.engagements.size >= agent.profile.capacity - 1) continue
    if (!ctx.rng.chance(p)) continue
    // Somewhere within the next five minutes, if the agent is still free then.
    ctx.after(ctx.rng.uniform(0, 300), 'arrival', () => invite(ctx, agent))
  }
}

/**
 * The agent invites a browsing visitor about a product (`started_by: "agent"`, both joins with
 * `source: "chat.invite"`); the visitor answers and the usual exchanges follow, or the agent
 * gives up and both leave.
 */
function invite(ctx: SimulationContext, agent: AgentState): void {
  if (!hasCapacity(agent)) return
  const identity = pickVisitor(ctx, ctx.rng.chance(0.15))
  if (ctx.busyVisitors.has(identity.visitor.id)) return
  ctx.busyVisitors.add(identity.visitor.id)
  const product = ctx.rng.pick(ctx.visitors.catalogue.products)
  const departmentId = ctx.rng.chance(0.5) ? null : (agent.profile.departmentIds[0] ?? null)
  const sessionStart = ctx.now - Math.round(ctx.rng.uniform(1, 15) * 60_000) * 1000
  const chat = startChat(ctx, identity, departmentId, sessionStart, 'agent', product)
  chat.phase = 'talking'
  chat.transferAtTurn = null
  chat.turn = 0
  join(ctx, chat, agent, 'chat.invite')
  agentMessage(ctx, chat, agent, ctx.text.invitation(product), '')
  if (ctx.rng.chance(ctx.rates.proactiveReplyShare)) {
    const token = chat.token
    ctx.after(ctx.rng.uniform(10, 90), 'chat', () => {
      if (chat.token !== token || !chat.visitorPresent) return
      visitorMessage(ctx, chat, ctx.text.invitationReply(chat.topic))
      // The agent now asks for details, then the usual exchanges follow.
      chat.turn = -1
      chat.needsGreeting = false
      scheduleAgentReplyOrDrop(ctx, chat, agent)
    })
  } else {
    // No answer: the agent gives up, the visitor's widget closes a little later.
    ctx.after(ctx.rng.uniform(60, 180), 'chat', () => {
      if (chat.phase !== 'talking' || chat.awaitingReply) return
      if (ctx.rng.chance(0.2)) changeTags(ctx, chat, agent.profile.id, ['proactive_no_reply'])
      chat.token++
      agentLeaves(ctx, chat, agent)
      ctx.after(ctx.rng.uniform(1, 60), 'chat', () => visitorLeaves(ctx, chat))
    })
  }
}
