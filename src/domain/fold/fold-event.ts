/**
 * The single entry point of folding: one ingest event in, the items it creates or changes on each
 * export stream out (or a typed error, in which case nothing was written).
 * @module
 */
import type { EventOf, IngestEvent } from '../events.js'
import type { Micros } from '../time.js'
import { validatedMicros } from './chat-time.js'
import type { AgentInfo, GoalInfo } from './directory.js'
import { mapDirectory } from './directory.js'
import type { AgentInput, AgentState } from './fold-agent.js'
import { applyAgentEvent } from './fold-agent.js'
import type { ChatEvent, ChatFoldState } from './fold-chat.js'
import { applyChatEvent } from './fold-chat.js'
import { attributeConversion, conversionCandidate, withConversion } from './fold-conversion.js'
import type { DepartmentQueueState } from './fold-department.js'
import { applyDepartmentEvent } from './fold-department.js'
import type { FoldError } from './fold-error.js'
import { foldError } from './fold-error.js'
import type { DepartmentInfo, FoldStateAccess, VisitorChats } from './fold-state.js'
import { FOLD_STATE } from './fold-state.js'
import type {
  AgentEventItem,
  AgentSpan,
  Chat,
  ChatPrivate,
  ConversionItem,
  DepartmentEventItem,
} from './types.js'

/** Items to write, per export stream. Chats are written whole (the store sets update_timestamp). */
export interface FoldOutput {
  chats: Chat[]
  conversions: ConversionItem[]
  agent_events: AgentEventItem[]
  agent_timeline: AgentSpan[]
  department_events: DepartmentEventItem[]
}

export type FoldResult = { ok: true; output: FoldOutput } | { ok: false; error: FoldError }

export interface FoldOptions {
  /** Shown as `account_id` on agent_events items when given. */
  accountId?: number
}

/** A visitor's chat list only needs the chats a conversion can still be attributed to. */
const MAX_ATTRIBUTION_MICROS = 30 * 86_400 * 1_000_000

function emptyOutput(): FoldOutput {
  return { chats: [], conversions: [], agent_events: [], agent_timeline: [], department_events: [] }
}

const ok = (output: FoldOutput): FoldResult => ({ ok: true, output })

async function loadChat(
  access: FoldStateAccess,
  chatId: string,
): Promise<ChatFoldState | undefined | 'no_state'> {
  const item = (await access.getChat(chatId)) as (Chat & { update_timestamp?: string }) | undefined
  const p = (await access.getState(FOLD_STATE.chat, chatId)) as ChatPrivate | undefined
  if (item === undefined && p === undefined) return undefined
  if (item === undefined || p === undefined) return 'no_state'
  const { update_timestamp: _ignored, ...chat } = item
  return { chat, private: p }
}

async function loadAgent(access: FoldStateAccess, agentId: number) {
  return (await access.getState(FOLD_STATE.agent, String(agentId))) as AgentState | undefined
}

/** Applies agent inputs in order, collecting items; the agent states to write are returned. */
async function foldAgents(
  access: FoldStateAccess,
  inputs: readonly AgentInput[],
  options: FoldOptions,
  output: FoldOutput,
): Promise<{ ok: true; states: Map<number, AgentState> } | { ok: false; error: FoldError }> {
  const states = new Map<number, AgentState>()
  for (const input of inputs) {
    const current = states.get(input.agentId) ?? (await loadAgent(access, input.agentId))
    const result = applyAgentEvent(current, input, options)
    if (!result.ok) return result
    states.set(input.agentId, result.state)
    output.agent_events.push(...result.events)
    output.agent_timeline.push(...result.spans)
  }
  return { ok: true, states }
}

async function foldChatEvent(
  access: FoldStateAccess,
  event: ChatEvent,
  options: FoldOptions,
): Promise<FoldResult> {
  const stored = await loadChat(access, event.chat_id)
  if (stored === 'no_state')
    return {
      ok: false,
      error: foldError(
        'unknown_chat',
        event.id,
        `chat ${event.chat_id} was imported, not folded from events, so events cannot change it`,
      ),
    }
  const agents = new Map<number, AgentInfo>()
  const departments = new Map<number, string>()
  const agentId = 'agent_id' in event ? event.agent_id : undefined
  if (agentId !== undefined) {
    const info = (await access.getState(FOLD_STATE.directoryAgent, String(agentId))) as
      AgentInfo | undefined
    if (info !== undefined) agents.set(agentId, info)
  }
  const departmentId = 'department_id' in event ? event.department_id : null
  if (departmentId !== null) {
    const info = (await access.getState(FOLD_STATE.directoryDepartment, String(departmentId))) as
      DepartmentInfo | undefined
    if (info !== undefined) departments.set(departmentId, info.name)
  }

  const result = applyChatEvent(stored, event, mapDirectory(agents, departments), { inPlace: true })
  if (!result.ok) return result
  const output = emptyOutput()
  const agentInputs: AgentInput[] = result.engagementChanges.map((c) => ({
    kind: 'engagement',
    eventId: event.id,
    agentId: c.agentId,
    chatId: c.chatId,
    change: c.change,
    at: c.at,
  }))
  const folded = await foldAgents(access, agentInputs, options, output)
  if (!folded.ok) return folded

  // Everything is known to succeed: write.
  await access.putState(FOLD_STATE.chat, event.chat_id, result.state.private)
  for (const [id, state] of folded.states)
    await access.putState(FOLD_STATE.agent, String(id), state)
  if (stored === undefined) await indexVisitorChat(access, result.state.private)
  if (result.chatChanged) output.chats.push(result.state.chat)
  return ok(output)
}

async function indexVisitorChat(access: FoldStateAccess, p: ChatPrivate): Promise<void> {
  const current = (await access.getState(FOLD_STATE.visitor, p.visitorId)) as
    VisitorChats | undefined
  const horizon = p.startedAt - MAX_ATTRIBUTION_MICROS
  const chats = (current?.chats ?? []).filter((c) => c.at >= horizon && c.chatId !== p.chatId)
  const next: VisitorChats = { v: 1, chats: [...chats, { chatId: p.chatId, at: p.startedAt }] }
  await access.putState(FOLD_STATE.visitor, p.visitorId, next)
}

async function foldConversion(
  access: FoldStateAccess,
  event: EventOf<'conversion'>,
): Promise<FoldResult> {
  const goal = (await access.getState(FOLD_STATE.directoryGoal, String(event.goal_id))) as
    GoalInfo | undefined
  if (goal === undefined)
    return {
      ok: false,
      error: foldError(
        'unknown_goal',
        event.id,
        `goal ${event.goal_id} is not in the directory: send goal.upserted for it first`,
      ),
    }
  const at: Micros = validatedMicros(event.timestamp)
  const visitor = (await access.getState(FOLD_STATE.visitor, event.visitor_id)) as
    VisitorChats | undefined
  const states = new Map<string, ChatFoldState>()
  for (const { chatId } of visitor?.chats ?? []) {
    if (event.chat_id !== undefined && chatId !== event.chat_id) continue
    const state = await loadChat(access, chatId)
    if (state !== undefined && state !== 'no_state') states.set(chatId, state)
  }
  const candidates = [...states.values()].flatMap((s) => conversionCandidate(s, at) ?? [])
  const attributed = attributeConversion(event, goal, candidates)
  const output = emptyOutput()
  output.conversions.push(attributed.item)
  const chat = attributed.chatId === null ? undefined : states.get(attributed.chatId)?.chat
  if (chat !== undefined && chat.type === 'chat' && attributed.embedded !== null)
    output.chats.push(withConversion(chat, attributed.embedded))
  return ok(output)
}

/**
 * Folds one ingest event. Reads what it needs through `access`, and on success writes the private
 * state back through it and returns the items to store per stream; on failure returns a typed
 * error and writes nothing. Deterministic: the same state and event give the same output.
 * Retries are the caller's concern (the store records event ids; see WriteTx.markEvent).
 * @example
 * const result = await foldEvent(access, event)
 * if (result.ok) for (const chat of result.output.chats) await writeChat(chat)
 */
export async function foldEvent(
  access: FoldStateAccess,
  event: IngestEvent,
  options: FoldOptions = {},
): Promise<FoldResult> {
  switch (event.type) {
    case 'agent.upserted': {
      const info: AgentInfo = { display_name: event.display_name, full_name: event.full_name }
      await access.putState(FOLD_STATE.directoryAgent, String(event.agent_id), info)
      return ok(emptyOutput())
    }
    case 'department.upserted': {
      const info: DepartmentInfo = { name: event.name }
      await access.putState(FOLD_STATE.directoryDepartment, String(event.department_id), info)
      return ok(emptyOutput())
    }
    case 'goal.upserted': {
      const info: GoalInfo = {
        name: event.name,
        attribution_model: event.attribution_model,
        attribution_period_days: event.attribution_period_days,
      }
      await access.putState(FOLD_STATE.directoryGoal, String(event.goal_id), info)
      return ok(emptyOutput())
    }
    case 'agent.status_changed': {
      const output = emptyOutput()
      const input: AgentInput = {
        kind: 'status',
        eventId: event.id,
        agentId: event.agent_id,
        status: event.status,
        at: validatedMicros(event.timestamp),
      }
      const folded = await foldAgents(access, [input], options, output)
      if (!folded.ok) return folded
      for (const [id, state] of folded.states)
        await access.putState(FOLD_STATE.agent, String(id), state)
      return ok(output)
    }
    case 'department.queue_sizes': {
      const key = String(event.department_id ?? 'null')
      const current = (await access.getState(FOLD_STATE.department, key)) as
        DepartmentQueueState | undefined
      const result = applyDepartmentEvent(current, event)
      if (!result.ok) return result
      await access.putState(FOLD_STATE.department, key, result.state)
      return ok({ ...emptyOutput(), department_events: result.events })
    }
    case 'conversion':
      return foldConversion(access, event)
    case 'chat.started':
    case 'offline_message':
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
      return foldChatEvent(access, event, options)
  }
}
