/**
 * Attributes a goal conversion to one chat of the visitor (first_touch or last_touch within the
 * goal's attribution period) and builds the conversions item plus the copy embedded in the chat.
 * @module
 */
import type { EventOf } from '../events.js'
import type { Micros } from '../time.js'
import { isoSeconds, validatedMicros } from './chat-time.js'
import type { GoalInfo } from './directory.js'
import type { ChatFoldState } from './fold-chat.js'
import type { ChatConversion, ConversionItem, LiveChat } from './types.js'

/** A chat a conversion may be attributed to. */
export interface ConversionCandidate {
  chatId: string
  startedAt: Micros
  timestamp: string
  /** Agents who joined the chat by the time of the conversion, in join order. */
  agents: { id: number; name: string }[]
  departmentId: number | null
  departmentName: string | null
}

/** A chat keeps its last 20 attributed conversions (reference-notes.md §1). */
export const CHAT_CONVERSIONS_KEPT = 20

const MICROS_PER_DAY = 86_400 * 1_000_000

/**
 * The candidate a chat offers for a conversion at `at`: only live, undeleted chats that an agent
 * had joined by then count ("served").
 */
export function conversionCandidate(
  state: ChatFoldState,
  at: Micros,
): ConversionCandidate | undefined {
  const { chat, private: p } = state
  if (chat.type !== 'chat' || chat.deleted) return undefined
  const agents = p.engagements
    .filter((r) => r.start <= at)
    .map((r) => ({ id: r.agentId, name: p.names[String(r.agentId)] ?? r.joinName }))
  if (agents.length === 0) return undefined
  return {
    chatId: chat.id,
    startedAt: p.startedAt,
    timestamp: chat.timestamp,
    agents,
    departmentId: chat.department_id,
    departmentName: chat.department_name,
  }
}

export interface Attributed {
  item: ConversionItem
  /** The chat it was attributed to, with the copy to embed there; null when unattributed. */
  chatId: string | null
  embedded: ChatConversion | null
}

/**
 * Attributes a conversion. Candidates are the visitor's served chats that started within the
 * goal's attribution period before the conversion (only the event's chat when it names one).
 * first_touch takes the earliest such chat and its first agent; last_touch the latest chat and its
 * last agent. With no candidate the attribution is all null.
 * @example attributeConversion(event, { name: 'add to cart', attribution_model: 'last_touch', attribution_period_days: 30 }, candidates)
 */
export function attributeConversion(
  event: EventOf<'conversion'>,
  goal: GoalInfo,
  candidates: readonly ConversionCandidate[],
): Attributed {
  const at = validatedMicros(event.timestamp)
  const from = at - goal.attribution_period_days * MICROS_PER_DAY
  const eligible = candidates
    .filter((c) => c.startedAt >= from && c.startedAt <= at)
    .filter((c) => event.chat_id === undefined || c.chatId === event.chat_id)
    .sort((a, b) => a.startedAt - b.startedAt || (a.chatId < b.chatId ? -1 : 1))
  const firstTouch = goal.attribution_model === 'first_touch'
  const chosen = firstTouch ? eligible[0] : eligible[eligible.length - 1]
  const agent = chosen && (firstTouch ? chosen.agents[0] : chosen.agents[chosen.agents.length - 1])
  const common = {
    goal_id: event.goal_id,
    goal_name: goal.name,
    id: event.conversion_id,
    timestamp: isoSeconds(at),
  }
  if (chosen === undefined || agent === undefined)
    return {
      item: {
        attribution: { agent_id: null, chat_id: null, chat_timestamp: null, department_id: null },
        ...common,
      },
      chatId: null,
      embedded: null,
    }
  const attribution = {
    agent_id: agent.id,
    chat_id: chosen.chatId,
    chat_timestamp: chosen.timestamp,
    department_id: chosen.departmentId,
  }
  return {
    item: { attribution, ...common },
    chatId: chosen.chatId,
    embedded: {
      attribution: {
        ...attribution,
        agent_name: agent.name,
        department_name: chosen.departmentName,
      },
      ...common,
    },
  }
}

/** The chat with a conversion added (replacing one with the same id), keeping the last 20. */
export function withConversion(chat: LiveChat, conversion: ChatConversion): LiveChat {
  const others = chat.conversions.filter((c) => c.id !== conversion.id)
  return { ...chat, conversions: [...others, conversion].slice(-CHAT_CONVERSIONS_KEPT) }
}
