/**
 * Folds an agent's status changes and engagement-count changes into agent_events items and closed
 * agent_timeline spans. The timeline is the run-length encoding of the agent's
 * (status, engagement_count) minus offline: a span closes whenever either value changes, the next
 * one starts at that same microsecond, and offline time makes no span.
 * @module
 */
import type { Micros } from '../time.js'
import { formatIsoMicros } from '../time.js'
import { secondsBetween } from './chat-rules.js'
import type { FoldError } from './fold-error.js'
import { foldError } from './fold-error.js'
import { agentEventId } from './item-ids.js'
import type { AgentEventItem, AgentSpan } from './types.js'

export type AgentStatus = 'online' | 'away' | 'invisible' | 'offline'

/** Folding's private state of one agent. */
export interface AgentState {
  v: 1
  agentId: number
  /** An agent nobody has heard of yet is offline. */
  status: AgentStatus
  /** When the current (status, engagement count) began; null before the first change. */
  since: Micros | null
  /** Chats the agent is engaged in; the engagement count is their number. */
  chats: string[]
}

export type AgentInput =
  | { kind: 'status'; eventId: string; agentId: number; status: AgentStatus; at: Micros }
  | {
      kind: 'engagement'
      eventId: string
      agentId: number
      chatId: string
      change: 'start' | 'end'
      at: Micros
    }

export type AgentFoldResult =
  | { ok: true; state: AgentState; events: AgentEventItem[]; spans: AgentSpan[] }
  | { ok: false; error: FoldError }

/** The state of an agent no event has mentioned yet. */
export function initialAgentState(agentId: number): AgentState {
  return { v: 1, agentId, status: 'offline', since: null, chats: [] }
}

function closedSpan(state: AgentState, end: Micros): AgentSpan[] {
  // Offline makes no span; a zero-length span carries no time (and would share its key,
  // agent_id + start_time, with the span that follows it).
  if (state.status === 'offline' || state.since === null || end <= state.since) return []
  return [
    {
      agent_id: state.agentId,
      duration: secondsBetween(state.since, end),
      engagement_count: state.chats.length,
      start_time: formatIsoMicros(state.since),
      status: state.status,
    },
  ]
}

/**
 * Applies one status or engagement change to an agent's state. A status event earlier than the
 * agent's last change is an `out_of_order` error; an engagement change (a consequence of a chat
 * event, which must not be refused for the timeline's sake) that is earlier is recorded at the
 * agent's last change instead, so spans stay back to back and never negative.
 * @example applyAgentEvent(undefined, { kind: 'status', eventId: 'e1', agentId: 7, status: 'online', at })
 */
export function applyAgentEvent(
  state: AgentState | undefined,
  input: AgentInput,
  options: { accountId?: number } = {},
): AgentFoldResult {
  const current = state ?? initialAgentState(input.agentId)
  let at = input.at
  if (current.since !== null && at < current.since) {
    if (input.kind === 'status')
      return {
        ok: false,
        error: foldError(
          'out_of_order',
          input.eventId,
          `agent ${input.agentId}'s status change is earlier than the agent's last change; send an agent's events in time order`,
        ),
      }
    at = current.since
  }
  const event = (
    field: 'status' | 'engagements',
    previous: string | number,
    value: string | number,
  ): AgentEventItem => {
    // Two literals rather than a spread of the optional account_id: one object, one shape.
    const id = agentEventId(input.eventId, input.agentId, field)
    const timestamp = formatIsoMicros(at)
    const agentId = input.agentId
    return options.accountId === undefined
      ? { agent_id: agentId, field_name: field, id, previous_value: previous, timestamp, value }
      : {
          account_id: options.accountId,
          agent_id: agentId,
          field_name: field,
          id,
          previous_value: previous,
          timestamp,
          value,
        }
  }

  if (input.kind === 'status') {
    if (input.status === current.status) return { ok: true, state: current, events: [], spans: [] }
    return {
      ok: true,
      state: { ...current, status: input.status, since: at, chats: [...current.chats] },
      events: [event('status', current.status, input.status)],
      spans: closedSpan(current, at),
    }
  }
  const engaged = current.chats.includes(input.chatId)
  if (engaged === (input.change === 'start'))
    return { ok: true, state: current, events: [], spans: [] }
  const chats =
    input.change === 'start'
      ? [...current.chats, input.chatId]
      : current.chats.filter((id) => id !== input.chatId)
  return {
    ok: true,
    state: { ...current, since: at, chats },
    events: [event('engagements', current.chats.length, chats.length)],
    spans: closedSpan(current, at),
  }
}
