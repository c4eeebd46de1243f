/**
 * The single entry point of folding: one ingest event in, the items it creates or changes on each
 * export stream out (or a typed error, in which case nothing was written).
 * @module
 */
import type { DirectoryEvent } from '../directory-events.js'
import { directoryChange, isDirectoryEvent } from '../directory-events.js'
import type { EventOf, IngestEvent } from '../events.js'
import type { Micros } from '../time.js'
import { validatedMicros } from './chat-time.js'
import type { AgentInfo, Directory, GoalInfo } from './directory.js'
import { agentInfoOf, goalInfoOf, patchAgentInfo } from './directory.js'
import type { AgentInput, AgentState } from './fold-agent.js'
import { applyAgentEvent } from './fold-agent.js'
import type { ChatEvent, ChatFoldState } from './fold-chat.js'
import { applyChatEvent } from './fold-chat.js'
import { attributeConversion, conversionCandidate, withConversion } from './fold-conversion.js'
import { applyDepartmentEvent } from './fold-department.js'
import type { FoldError } from './fold-error.js'
import { foldError } from './fold-error.js'
import type {
  DepartmentInfo,
  FoldStateAccess,
  FoldStateKind,
  MaybePromise,
  StoredChat,
  VisitorChats,
} from './fold-state.js'
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

// What an event names that folding reads by: shared by foldEvent and readPlan, so the plan cannot
// drift from the reads.

/** The agent and department a chat event names (their directory entries name them in the chat). */
function chatEventSubjects(event: ChatEvent): { agentId?: number; departmentId: number | null } {
  return {
    agentId: 'agent_id' in event ? event.agent_id : undefined,
    departmentId: 'department_id' in event ? event.department_id : null,
  }
}

/** The state key of a department's queue; the account-level queue is "null". */
function departmentKey(departmentId: number | null): string {
  return String(departmentId ?? 'null')
}

/** The chats a conversion may be attributed to: its visitor's, or only the one it names. */
function attributableChatIds(
  event: EventOf<'conversion'>,
  visitor: VisitorChats | undefined,
): string[] {
  const ids = (visitor?.chats ?? []).map((c) => c.chatId)
  return event.chat_id === undefined ? ids : ids.filter((id) => id === event.chat_id)
}

/**
 * Whether `value` is still to come. Access implementations answer cached reads with plain values;
 * folding awaits only real promises, since an `await` of a plain value still costs a promise and a
 * turn of the microtask queue, several times per event.
 */
function pending<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function'
}

function loadChat(
  access: FoldStateAccess,
  chatId: string,
): MaybePromise<ChatFoldState | undefined | 'no_state'> {
  const item = access.getChat(chatId)
  if (pending(item)) return item.then((found) => withPrivate(access, chatId, found))
  return withPrivate(access, chatId, item)
}

function withPrivate(
  access: FoldStateAccess,
  chatId: string,
  item: StoredChat | undefined,
): MaybePromise<ChatFoldState | undefined | 'no_state'> {
  const p = access.getState(FOLD_STATE.chat, chatId)
  return pending(p) ? p.then((found) => chatState(item, found)) : chatState(item, p)
}

function chatState(
  item: StoredChat | undefined,
  p: ChatPrivate | undefined,
): ChatFoldState | undefined | 'no_state' {
  if (item === undefined && p === undefined) return undefined
  if (item === undefined || p === undefined) return 'no_state'
  // The store's update_timestamp is not folding's: a chat read from the store is copied without
  // it; one folded earlier in the same batch has none and is used as it is (it is owned).
  if (!('update_timestamp' in item)) return { chat: item, private: p }
  const { update_timestamp: _ignored, ...chat } = item
  return { chat, private: p }
}

async function loadAgent(access: FoldStateAccess, agentId: number) {
  return access.getState(FOLD_STATE.agent, String(agentId))
}

/** Applies agent inputs in order, collecting items; the agent states to write are returned. */
/** What {@link foldAgents} gives for no inputs (never changed: its map stays empty). */
const NO_AGENTS: { ok: true; states: ReadonlyMap<number, AgentState> } = {
  ok: true,
  states: new Map(),
}

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
  const loaded = loadChat(access, event.chat_id)
  const stored = pending(loaded) ? await loaded : loaded
  if (stored === 'no_state')
    return {
      ok: false,
      error: foldError(
        'unknown_chat',
        event.id,
        `chat ${event.chat_id} was imported, not folded from events, so events cannot change it`,
      ),
    }
  const { agentId, departmentId } = chatEventSubjects(event)
  const agentRead =
    agentId === undefined ? undefined : access.getState(FOLD_STATE.directoryAgent, String(agentId))
  const agentInfo = pending(agentRead) ? await agentRead : agentRead
  const departmentRead =
    departmentId === null
      ? undefined
      : access.getState(FOLD_STATE.directoryDepartment, String(departmentId))
  const departmentName = (pending(departmentRead) ? await departmentRead : departmentRead)?.name
  // The entries this event names, and nothing else (as a mapDirectory of them would answer).
  const directory: Directory = {
    agent: (id) => (id === agentId ? agentInfo : undefined),
    departmentName: (id) => (id === departmentId ? departmentName : undefined),
  }

  const result = applyChatEvent(stored, event, directory, { inPlace: true })
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
  // Most chat events (messages) change no engagement: no agent to fold, nothing to wait for.
  const folded =
    agentInputs.length === 0 ? NO_AGENTS : await foldAgents(access, agentInputs, options, output)
  if (!folded.ok) return folded

  // Everything is known to succeed: write.
  const put = access.putState(FOLD_STATE.chat, event.chat_id, result.state.private)
  if (pending(put)) await put
  for (const [id, state] of folded.states)
    await access.putState(FOLD_STATE.agent, String(id), state)
  if (stored === undefined) await indexVisitorChat(access, result.state.private)
  if (result.chatChanged) output.chats.push(result.state.chat)
  return ok(output)
}

async function indexVisitorChat(access: FoldStateAccess, p: ChatPrivate): Promise<void> {
  const current = await access.getState(FOLD_STATE.visitor, p.visitorId)
  const horizon = p.startedAt - MAX_ATTRIBUTION_MICROS
  const chats = (current?.chats ?? []).filter((c) => c.at >= horizon && c.chatId !== p.chatId)
  const next: VisitorChats = { v: 1, chats: [...chats, { chatId: p.chatId, at: p.startedAt }] }
  await access.putState(FOLD_STATE.visitor, p.visitorId, next)
}

async function foldConversion(
  access: FoldStateAccess,
  event: EventOf<'conversion'>,
): Promise<FoldResult> {
  const goal = await access.getState(FOLD_STATE.directoryGoal, String(event.goal_id))
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
  const visitor = await access.getState(FOLD_STATE.visitor, event.visitor_id)
  const states = new Map<string, ChatFoldState>()
  for (const chatId of attributableChatIds(event, visitor)) {
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
  if (isDirectoryEvent(event)) return foldDirectoryEvent(access, event)
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
      const key = departmentKey(event.department_id)
      const read = access.getState(FOLD_STATE.department, key)
      const result = applyDepartmentEvent(pending(read) ? await read : read, event)
      if (!result.ok) return result
      const put = access.putState(FOLD_STATE.department, key, result.state)
      if (pending(put)) await put
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

/** The fold's name entry a directory event keeps in step, if any (agents, departments, goals). */
function directoryNameState(
  event: DirectoryEvent,
): { kind: FoldStateKind; key: string } | undefined {
  const kind = event.type.split('.')[0]
  const kinds: Record<string, FoldStateKind> = {
    agent: FOLD_STATE.directoryAgent,
    department: FOLD_STATE.directoryDepartment,
    goal: FOLD_STATE.directoryGoal,
  }
  const stateKind = kind === undefined ? undefined : kinds[kind]
  if (stateKind === undefined) return undefined
  try {
    return { kind: stateKind, key: directoryChange(event).id }
  } catch {
    return undefined
  }
}

/**
 * A directory event's part in folding: the names chats and conversions show (agents,
 * departments) and the goal settings attribution uses, kept in step with the REST record. The
 * record itself is written by the ingest service (it needs the directory store); a deletion
 * keeps the names, so chats in progress can still name their agent and department.
 */
async function foldDirectoryEvent(
  access: FoldStateAccess,
  event: DirectoryEvent,
): Promise<FoldResult> {
  let change
  try {
    change = directoryChange(event)
  } catch (err) {
    return { ok: false, error: foldError('invalid_event', event.id, (err as Error).message) }
  }
  if (change.action === 'deleted') return ok(emptyOutput())
  const fields = change.fields
  const creating = change.action === 'created'
  switch (change.kind) {
    case 'agent': {
      const current = creating
        ? undefined
        : await access.getState(FOLD_STATE.directoryAgent, change.id)
      const info = creating ? agentInfoOf(fields) : patchAgentInfo(current, fields)
      await access.putState(FOLD_STATE.directoryAgent, change.id, info)
      break
    }
    case 'department': {
      const current = creating
        ? undefined
        : await access.getState(FOLD_STATE.directoryDepartment, change.id)
      const name = typeof fields['name'] === 'string' ? fields['name'] : current?.name
      if (name !== undefined) {
        await access.putState(FOLD_STATE.directoryDepartment, change.id, { name })
      }
      break
    }
    case 'goal': {
      const current = creating
        ? undefined
        : await access.getState(FOLD_STATE.directoryGoal, change.id)
      await access.putState(FOLD_STATE.directoryGoal, change.id, goalInfoOf(fields, current))
      break
    }
    // Skills, roles, shortcuts, triggers, bans and settings name nothing in the exports.
    case 'skill':
    case 'role':
    case 'shortcut':
    case 'trigger':
    case 'ban':
    case 'account':
    case 'account_routing':
    case 'agent_routing':
    case 'visitor':
      break
  }
  return ok(emptyOutput())
}

/** A stored chat item or fold state entry that folding reads. */
export interface ReadPlan {
  /** Stored items, by stream and key (folding reads chats). */
  items: { stream: 'chats'; key: string }[]
  /** Fold state entries, by kind and key. */
  states: { kind: FoldStateKind; key: string }[]
}

/**
 * What folding `event` will read, as far as the event itself names it: a chat event's chat and
 * its private state, the directory entries of its agent and department, the agent state an
 * engagement changes, the visitor a new chat is indexed under; a conversion's goal and visitor
 * (then {@link attributionReadPlan}); an agent's or a department queue's state. Pure. A caller
 * loads these in bulk before folding; what folding finds only on the way (the agents whose
 * engagement a chat's end closes) it reads then, so the plan is an optimisation, never required.
 * @example readPlan(event).states // [{ kind: 'fold.agent', key: '17' }] for agent.status_changed
 */
export function readPlan(event: IngestEvent): ReadPlan {
  const plan: ReadPlan = { items: [], states: [] }
  const state = (kind: FoldStateKind, key: string) => plan.states.push({ kind, key })
  if (isDirectoryEvent(event)) {
    // An update merges over the names kept for the agent, department or goal.
    const target = directoryNameState(event)
    if (target !== undefined && event.type.endsWith('.updated')) state(target.kind, target.key)
    return plan
  }
  switch (event.type) {
    case 'agent.upserted':
    case 'department.upserted':
    case 'goal.upserted':
      break
    case 'agent.status_changed':
      state(FOLD_STATE.agent, String(event.agent_id))
      break
    case 'department.queue_sizes':
      state(FOLD_STATE.department, departmentKey(event.department_id))
      break
    case 'conversion':
      state(FOLD_STATE.directoryGoal, String(event.goal_id))
      state(FOLD_STATE.visitor, event.visitor_id)
      break
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
    case 'engagement.ended': {
      plan.items.push({ stream: 'chats', key: event.chat_id })
      state(FOLD_STATE.chat, event.chat_id)
      const { agentId, departmentId } = chatEventSubjects(event)
      if (agentId !== undefined) {
        state(FOLD_STATE.directoryAgent, String(agentId))
        if (event.type.startsWith('engagement.')) state(FOLD_STATE.agent, String(agentId))
      }
      if (departmentId !== null) state(FOLD_STATE.directoryDepartment, String(departmentId))
      if ('visitor' in event) state(FOLD_STATE.visitor, event.visitor.id)
    }
  }
  return plan
}

/**
 * The second step of a conversion's reads: the chats it may be attributed to, as its visitor's
 * stored chat list (read by {@link readPlan}'s step) names them.
 */
export function attributionReadPlan(
  event: EventOf<'conversion'>,
  visitor: VisitorChats | undefined,
): ReadPlan {
  const ids = attributableChatIds(event, visitor)
  return {
    items: ids.map((key) => ({ stream: 'chats', key })),
    states: ids.map((key) => ({ kind: FOLD_STATE.chat, key })),
  }
}
