/**
 * The conversation script: from an agent's join to everyone leaving. The agent greets and asks
 * for details, then one to six exchanges follow, with reply delays that grow with the agent's load
 * and visitors who take their time too; agents tag chats, sometimes transfer them to another
 * department, and the chat ends with thanks, silence or the agent closing. A visitor whose
 * message goes unanswered longer than their patience leaves (a dropped chat).
 *
 * Every scheduled step re-checks the chat (its `token`, phase and who is present), since a leave
 * or transfer may have overtaken it.
 * @module
 */
import { agentMessage, changeTags, visitorMessage } from './chat-events.js'
import { endChat, rate } from './outcomes.js'
import { clamp } from './rng.js'
import { agentFreed, dequeue, hasCapacity, servesDepartment, unassign, wait } from './routing.js'
import type { AgentState, ChatState, SimulationContext } from './simulation-context.js'

/** How long the agent takes to answer: log-normal around a median that grows with their load. */
function replyDelay(ctx: SimulationContext, agent: AgentState): number {
  const load = Math.max(1, agent.engagements.size)
  const median = ctx.rates.agentReplySeconds * agent.profile.pace * (1 + 0.45 * (load - 1))
  return clamp(ctx.rng.logNormal(median, 0.6), 3, 600)
}

/** How long the visitor takes to write their next message. */
function thinkDelay(ctx: SimulationContext): number {
  return clamp(ctx.rng.logNormal(28, 0.7), 3, 300)
}

/** An agent accepted a queued chat (and joined): their greeting follows a few seconds later. */
export function startConversation(
  ctx: SimulationContext,
  chat: ChatState,
  agent: AgentState,
): void {
  chat.needsGreeting = true
  ctx.after(clamp(ctx.rng.logNormal(8, 0.5), 2, 40), 'chat', () => agentTurn(ctx, chat, agent))
}

/** The agent's next message, unless they left (transfer) or the chat ended meanwhile. */
function agentTurn(ctx: SimulationContext, chat: ChatState, agent: AgentState): void {
  if (chat.phase !== 'talking' || !chat.agents.has(agent.profile.id) || !chat.visitorPresent) {
    return
  }
  if (chat.needsGreeting) {
    chat.needsGreeting = false
    if (chat.transferred) {
      agentMessage(
        ctx,
        chat,
        agent,
        ctx.text.transferGreeting(agent.profile.firstName, ctx.departmentName(chat.departmentId)),
        '',
      )
      // Then straight on with the answer the visitor was waiting for.
      ctx.after(replyDelay(ctx, agent), 'chat', () => agentTurn(ctx, chat, agent))
      return
    }
    if (chat.turn === -1) {
      const first = chat.identity.firstName
      agentMessage(
        ctx,
        chat,
        agent,
        ctx.text.greeting(chat.topic, agent.profile.firstName, first),
        '',
      )
      chat.turn = 0
      scheduleVisitorTurn(ctx, chat, agent)
      return
    }
  }
  if (chat.turn === -1) {
    // Proactive chat: the visitor asked their question; the agent asks for details.
    agentMessage(ctx, chat, agent, ctx.text.ask(chat.topic), '')
    chat.turn = 0
    scheduleVisitorTurn(ctx, chat, agent)
    return
  }
  if (chat.transferAtTurn === chat.turn && !chat.transferred && tryTransfer(ctx, chat, agent)) {
    return
  }
  const reply = ctx.text.agentReply(chat.topic, chat.turn)
  agentMessage(ctx, chat, agent, reply.msg, reply.options)
  if (chat.turn === 0 && ctx.rng.chance(ctx.rates.tagShare)) {
    const tags = ctx.rng.shuffle(chat.topic.tags).slice(0, ctx.rng.int(1, chat.topic.tags.length))
    ctx.after(ctx.rng.uniform(2, 30), 'chat', () => {
      if (chat.phase === 'talking' && chat.agents.has(agent.profile.id)) {
        changeTags(ctx, chat, agent.profile.id, tags)
      }
    })
  }
  chat.turn++
  if (chat.turn >= chat.exchanges) closeConversation(ctx, chat, agent)
  else scheduleVisitorTurn(ctx, chat, agent)
}

function scheduleVisitorTurn(ctx: SimulationContext, chat: ChatState, agent: AgentState): void {
  const token = chat.token
  ctx.after(thinkDelay(ctx), 'chat', () => {
    if (chat.token !== token || chat.phase !== 'talking' || !chat.visitorPresent) return
    visitorMessage(ctx, chat, ctx.text.visitorReply(chat.topic, chat.turn))
    scheduleAgentReplyOrDrop(ctx, chat, agent)
  })
}

/**
 * After a visitor message: the agent answers after a load-dependent delay, unless the visitor's
 * patience runs out first; then the visitor leaves with the message unanswered (a dropped chat).
 */
export function scheduleAgentReplyOrDrop(
  ctx: SimulationContext,
  chat: ChatState,
  agent: AgentState,
): void {
  const reply = replyDelay(ctx, agent)
  const patience = clamp(ctx.rng.logNormal(ctx.rates.replyPatienceSeconds, 0.7), 15, 1800)
  const token = chat.token
  if (reply > patience) {
    ctx.after(patience, 'chat', () => {
      if (chat.token !== token || chat.phase !== 'talking' || !chat.awaitingReply) return
      chat.dropped = true
      visitorLeaves(ctx, chat)
    })
  } else {
    ctx.after(reply, 'chat', () => {
      if (chat.token === token) agentTurn(ctx, chat, agent)
    })
  }
}

/** The last exchange is done: one of three endings, each finishing with the visitor leaving. */
function closeConversation(ctx: SimulationContext, chat: ChatState, agent: AgentState): void {
  const token = chat.token
  const still = () => chat.token === token && chat.phase === 'talking' && chat.visitorPresent
  const present = () => chat.agents.has(agent.profile.id)
  // Every path ends with the visitor leaving, so no chat is left hanging.
  const leaveAfter = (min: number, max: number) =>
    ctx.after(ctx.rng.uniform(min, max), 'chat', () => {
      if (still()) visitorLeaves(ctx, chat)
    })
  const ending = ctx.rng.weighted([
    ['thanks', 55],
    ['silent', 25],
    ['agent', 20],
  ] as const)
  if (ctx.rng.chance(0.15)) changeTags(ctx, chat, agent.profile.id, ['resolved'])
  switch (ending) {
    case 'thanks':
      ctx.after(thinkDelay(ctx), 'chat', () => {
        if (!still()) return
        visitorMessage(ctx, chat, ctx.text.visitorThanks())
        ctx.after(clamp(replyDelay(ctx, agent) / 2, 2, 60), 'chat', () => {
          if (!still()) return
          if (present()) agentMessage(ctx, chat, agent, ctx.text.agentClosing(), '')
          leaveAfter(3, 40)
        })
      })
      return
    case 'silent':
      leaveAfter(10, 120)
      return
    case 'agent':
      ctx.after(ctx.rng.uniform(20, 90), 'chat', () => {
        if (!still()) return
        if (!present()) return leaveAfter(2, 60)
        agentMessage(ctx, chat, agent, ctx.text.agentClosing(), '')
        ctx.after(ctx.rng.uniform(5, 30), 'chat', () => {
          if (!still()) return
          agentLeaves(ctx, chat, agent)
          leaveAfter(2, 60)
        })
      })
      return
  }
}

/** Hands the chat to another department with an agent free, if there is one. */
function tryTransfer(ctx: SimulationContext, chat: ChatState, agent: AgentState): boolean {
  const targets = ctx.directory.departments.filter(
    (d) =>
      d.id !== chat.departmentId &&
      [...ctx.agents.values()].some(
        (a) => a !== agent && hasCapacity(a) && servesDepartment(a, d.id),
      ),
  )
  if (targets.length === 0) return false
  const target = ctx.rng.pick(targets)
  agentMessage(ctx, chat, agent, ctx.text.transferNotice(target.name), '')
  // The visitor's question is pending again until the new agent answers it.
  chat.awaitingReply = true
  chat.transferred = true
  const token = chat.token
  ctx.after(ctx.rng.uniform(4, 20), 'chat', () => {
    if (chat.token !== token || chat.phase !== 'talking' || !chat.visitorPresent) return
    if (!chat.agents.has(agent.profile.id)) return
    ctx.emit('chat.transferred', {
      chat_id: chat.id,
      department_id: target.id,
      agent_id: agent.profile.id,
    })
    agentLeaves(ctx, chat, agent)
    chat.departmentId = target.id
    chat.declinedBy.clear()
    chat.declinedBy.add(agent.profile.id)
    wait(ctx, chat)
  })
  return true
}

/**
 * The agent leaves the chat (`engagement.ended`, `chat.member_left`); the chat ends if nobody is
 * left, and the agent is free for the queue (or logs off).
 */
export function agentLeaves(ctx: SimulationContext, chat: ChatState, agent: AgentState): void {
  if (!chat.agents.delete(agent.profile.id)) return
  agent.engagements.delete(chat.id)
  // The engagement ends as the agent leaves; ended first, as folding closes both on a leave.
  ctx.emit('engagement.ended', { chat_id: chat.id, agent_id: agent.profile.id })
  ctx.emit('chat.member_left', {
    chat_id: chat.id,
    member: 'agent',
    agent_id: agent.profile.id,
    reason: 'user_leave_chat',
  })
  if (!chat.visitorPresent && chat.agents.size === 0) endChat(ctx, chat)
  agentFreed(ctx, agent)
}

/**
 * The visitor closes the chat: out of the queue (and any pending assignment) if still waiting,
 * perhaps a rating first; the agents in the chat notice and leave a little later.
 */
export function visitorLeaves(ctx: SimulationContext, chat: ChatState): void {
  if (!chat.visitorPresent || chat.phase === 'ended') return
  chat.token++
  if (chat.phase === 'queued') {
    dequeue(ctx, chat)
    if (chat.pendingAgent !== null) {
      const agent = ctx.agents.get(chat.pendingAgent)
      if (agent !== undefined) {
        unassign(ctx, chat, agent)
        agentFreed(ctx, agent)
      }
    }
  }
  // Some visitors rate before closing the widget.
  if (chat.servedBy.length > 0 && ctx.rng.chance(ctx.rates.ratingShare * 0.4)) {
    chat.ratedInChat = true
    rate(ctx, chat)
  }
  chat.visitorPresent = false
  ctx.emit('chat.member_left', {
    chat_id: chat.id,
    member: 'visitor',
    reason: 'user_leave_chat',
  })
  if (chat.agents.size === 0) {
    endChat(ctx, chat)
    return
  }
  // The agents notice and close the chat on their side.
  for (const agentId of [...chat.agents]) {
    const agent = ctx.agents.get(agentId)
    if (agent === undefined) continue
    ctx.after(ctx.rng.uniform(1, 25), 'chat', () => agentLeaves(ctx, chat, agent))
  }
}
