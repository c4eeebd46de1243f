/**
 * The events that write to one chat's transcript and tags, shared by every part that speaks in a
 * chat: the conversation script, a queued visitor's nudge, a proactive invitation, a late tag.
 * Each also keeps the chat's state in step (who spoke last, the current tag list).
 * @module
 */
import { msgIdAt } from './ids.js'
import type { AgentState, ChatState, SimulationContext } from './simulation-context.js'

/** The visitor writes `msg`; the chat now awaits an agent's reply. */
export function visitorMessage(ctx: SimulationContext, chat: ChatState, msg: string): void {
  chat.awaitingReply = true
  ctx.emit('chat.message', {
    chat_id: chat.id,
    sender: 'visitor',
    msg,
    msg_id: msgIdAt(ctx.now),
    options: '',
  })
}

/** `agent` writes `msg` (with shortcut `options`, `''` for none); the visitor is answered. */
export function agentMessage(
  ctx: SimulationContext,
  chat: ChatState,
  agent: AgentState,
  msg: string,
  options: string,
): void {
  chat.awaitingReply = false
  ctx.emit('chat.message', {
    chat_id: chat.id,
    sender: 'agent',
    agent_id: agent.profile.id,
    msg,
    options,
  })
}

/**
 * Adds tags to the chat; `chat.tags_changed` carries the whole new list, sorted, and is not sent
 * when nothing is new.
 */
export function changeTags(
  ctx: SimulationContext,
  chat: ChatState,
  agentId: number,
  add: readonly string[],
): void {
  const next = [...new Set([...chat.tags, ...add])].sort()
  if (next.length === chat.tags.length) return
  chat.tags = next
  ctx.emit('chat.tags_changed', { chat_id: chat.id, agent_id: agentId, tags: next })
}
