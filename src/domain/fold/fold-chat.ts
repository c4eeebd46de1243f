/**
 * Folds chat events, one at a time, into the exported Chat object plus folding's private state.
 * Pure: the input state is never mutated; a bad event returns a typed error and no new state.
 * The derived fields are kept as running totals here and must always equal
 * `deriveChatMetrics(history, timeline)` (checked by a property test). Rules: docs/derivation.md.
 * @module
 */
import type { EventOf } from '../events.js'
import type { Micros } from '../time.js'
import { isoSeconds, validatedMicros, wholeSecond } from './chat-time.js'
import {
  addWait,
  countOf,
  emptyWaits,
  engagementObject,
  nextTags,
  responseTimeOf,
  secondsBetween,
  skillsFulfilled,
  sortedTags,
} from './chat-rules.js'
import type { Directory } from './directory.js'
import type { FoldError, FoldErrorCode } from './fold-error.js'
import { foldError } from './fold-error.js'
import type {
  Chat,
  ChatMetrics,
  ChatPrivate,
  ChatSession,
  EngagementProgress,
  EngagementRecord,
  EngagementStartedBy,
  HistoryEntry,
  LiveChat,
  MessageEntry,
  OfflineMessage,
  WebpathEntry,
} from './types.js'

export const CHAT_EVENT_TYPES = [
  'chat.started',
  'offline_message',
  'chat.member_joined',
  'chat.member_left',
  'chat.message',
  'chat.tags_changed',
  'chat.rated',
  'chat.commented',
  'chat.transferred',
  'chat.ended',
  'chat.deleted',
  'engagement.assigned',
  'engagement.accepted',
  'engagement.ended',
] as const

export type ChatEventType = (typeof CHAT_EVENT_TYPES)[number]
export type ChatEvent = EventOf<ChatEventType>

/** A chat as folding holds it: the exported object and the private state beside it. */
export interface ChatFoldState {
  chat: Chat
  private: ChatPrivate
}

/** An agent's engagement in a chat began or ended (feeds the agent timeline). */
export interface EngagementChange {
  agentId: number
  chatId: string
  change: 'start' | 'end'
  at: Micros
}

export type ChatFoldResult =
  | {
      ok: true
      state: ChatFoldState
      /** Whether the exported object changed (and so must be written, with a new position). */
      chatChanged: boolean
      engagementChanges: EngagementChange[]
    }
  | { ok: false; error: FoldError }

/** Events that may still change a chat after chat.ended (edits in the archive). */
const AFTER_END = new Set<ChatEventType>(['chat.tags_changed', 'chat.rated', 'chat.commented'])

interface Draft {
  chat: LiveChat
  p: ChatPrivate
  at: Micros
  channel: string
  changed: boolean
  changes: EngagementChange[]
}

type Fail = (code: FoldErrorCode, message: string) => { ok: false; error: FoldError }

/**
 * The history channel: `#supportchat:<account>-<visitorKey>` from a visitor id
 * `<account>.<visitorKey>`; a visitor id without a dot takes the account from the chat id
 * (`YYMM.<account>.<key>`).
 */
export function channelOf(visitorId: string, chatId: string): string {
  const dot = visitorId.indexOf('.')
  if (dot > 0) return `#supportchat:${visitorId.slice(0, dot)}-${visitorId.slice(dot + 1)}`
  const account = chatId.split('.')[1]
  return account ? `#supportchat:${account}-${visitorId}` : `#supportchat:${visitorId}`
}

function newProgress(): EngagementProgress {
  return {
    visitor: 0,
    agent: 0,
    pendingSec: null,
    waits: emptyWaits(),
    rating: null,
    comment: null,
  }
}

function newPrivate(
  chatId: string,
  kind: ChatPrivate['kind'],
  visitorId: string,
  visitorName: string,
  at: Micros,
): ChatPrivate {
  return {
    v: 1,
    chatId,
    kind,
    visitorId,
    times: [],
    startedAt: at,
    lastAt: null,
    endedAt: null,
    visitor: 'implicit',
    visitorName,
    present: [],
    names: {},
    engaged: [],
    routing: {},
    transfer: null,
    engagements: [],
    progress: [],
    totals: {
      visitor: 0,
      agent: 0,
      firstSec: null,
      lastSec: null,
      pendingSec: null,
      pendingAt: null,
      waits: emptyWaits(),
    },
  }
}

function sessionOf(session: EventOf<'chat.started'>['session']): ChatSession {
  return {
    browser: session.browser,
    city: session.city,
    country_code: session.country_code,
    country_name: session.country_name,
    end_date: null,
    id: session.id,
    ip: session.ip,
    platform: session.platform,
    region: session.region,
    start_date: isoSeconds(validatedMicros(session.start_date)),
    user_agent: session.user_agent,
  }
}

function webpathOf(webpath: EventOf<'chat.started'>['webpath']): WebpathEntry[] {
  return webpath.map((w) => ({
    from: w.from,
    timestamp: isoSeconds(validatedMicros(w.timestamp)),
    title: w.title,
    to: w.to,
  }))
}

/** The derived fields from the running totals (compare deriveChatMetrics). */
function metricsOf(chat: LiveChat, p: ChatPrivate): ChatMetrics {
  const t = p.totals
  const ended = p.endedAt !== null
  const served = p.engagements.length > 0
  const missed = ended && t.visitor > 0 && !served
  const dropped = ended && served && t.pendingSec !== null
  return {
    abandon_time:
      (missed || dropped) && p.endedAt !== null && t.pendingAt !== null
        ? secondsBetween(t.pendingAt, p.endedAt)
        : null,
    agent_ids: chat.agent_ids,
    agent_names: chat.agent_names,
    comment: chat.comment,
    count: countOf(t.visitor, t.agent),
    dropped,
    duration: t.firstSec === null || t.lastSec === null ? 0 : t.lastSec - t.firstSec,
    end_timestamp: p.endedAt === null ? null : isoSeconds(p.endedAt),
    engagements: p.engagements.map((record, k) => {
      const g = p.progress[k] ?? newProgress()
      return engagementObject(
        record,
        {
          count: countOf(g.visitor, g.agent),
          response_time: responseTimeOf(g.waits),
          rating: g.rating,
          comment: g.comment,
        },
        isoSeconds(record.start),
      )
    }),
    missed,
    rating: chat.rating,
    response_time: responseTimeOf(t.waits),
    skills_fulfilled: p.engagements.some(skillsFulfilled),
    tags: chat.tags,
  }
}

/**
 * Writes `m` over the chat's metrics in place, as `Object.assign(chat, m)` would (a key the chat
 * lacks is added last), one named store each: Object.assign's generic copy was a measurable part
 * of folding every event.
 */
function assignMetrics(chat: LiveChat, m: ChatMetrics): LiveChat {
  chat.abandon_time = m.abandon_time
  chat.agent_ids = m.agent_ids
  chat.agent_names = m.agent_names
  chat.comment = m.comment
  chat.count = m.count
  chat.dropped = m.dropped
  chat.duration = m.duration
  chat.end_timestamp = m.end_timestamp
  chat.engagements = m.engagements
  chat.missed = m.missed
  chat.rating = m.rating
  chat.response_time = m.response_time
  chat.skills_fulfilled = m.skills_fulfilled
  chat.tags = m.tags
  return chat
}

function startChat(
  event: EventOf<'chat.started'>,
  at: Micros,
  directory: Directory,
  fail: Fail,
): ChatFoldResult {
  let departmentName: string | null = null
  if (event.department_id !== null) {
    const name = directory.departmentName(event.department_id)
    if (name === undefined) return unknownDepartment(fail, event.department_id)
    departmentName = name
  }
  const p = newPrivate(event.chat_id, 'chat', event.visitor.id, event.visitor.name, at)
  const base: LiveChat = {
    abandon_time: null,
    agent_ids: [],
    agent_names: [],
    comment: null,
    conversions: [],
    count: countOf(0, 0),
    deleted: false,
    department_id: event.department_id,
    department_name: departmentName,
    dropped: false,
    duration: 0,
    end_timestamp: null,
    engagements: [],
    history: [],
    id: event.chat_id,
    missed: false,
    proactive: event.proactive,
    rating: null,
    referrer_search_engine: event.referrer_search_engine,
    referrer_search_terms: event.referrer_search_terms,
    response_time: responseTimeOf(emptyWaits()),
    session: sessionOf(event.session),
    skills_fulfilled: false,
    skills_requested: [...event.skills_requested],
    started_by: event.started_by,
    tags: [],
    timestamp: isoSeconds(at),
    triggered: event.triggered,
    triggered_response: null,
    type: 'chat',
    unread: false,
    visitor: { ...event.visitor },
    webpath: webpathOf(event.webpath),
    zendesk_ticket_id: event.zendesk_ticket_id,
  }
  const chat = { ...base, ...metricsOf(base, p) }
  return { ok: true, state: { chat, private: p }, chatChanged: true, engagementChanges: [] }
}

function offlineMessage(
  event: EventOf<'offline_message'>,
  at: Micros,
  directory: Directory,
  fail: Fail,
): ChatFoldResult {
  let departmentName: string | null = null
  if (event.department_id !== null) {
    const name = directory.departmentName(event.department_id)
    if (name === undefined) return unknownDepartment(fail, event.department_id)
    departmentName = name
  }
  const chat: OfflineMessage = {
    deleted: false,
    department_id: event.department_id,
    department_name: departmentName,
    id: event.chat_id,
    message: event.message,
    session: sessionOf(event.session),
    started_by: 'visitor',
    tags: [],
    timestamp: isoSeconds(at),
    type: 'offline_msg',
    unread: false,
    visitor: { ...event.visitor },
    webpath: webpathOf(event.webpath),
    zendesk_ticket_id: event.zendesk_ticket_id,
  }
  const p = newPrivate(event.chat_id, 'offline_msg', event.visitor.id, event.visitor.name, at)
  return { ok: true, state: { chat, private: p }, chatChanged: true, engagementChanges: [] }
}

function unknownDepartment(fail: Fail, departmentId: number) {
  return fail(
    'unknown_department',
    `department ${departmentId} is not in the directory: send department.upserted for it first`,
  )
}

function unknownAgent(fail: Fail, agentId: number) {
  return fail(
    'unknown_agent',
    `agent ${agentId} is not in the directory: send agent.upserted for it first`,
  )
}

function push(d: Draft, entry: HistoryEntry): void {
  d.chat.history.push(entry)
  d.p.times.push(d.at)
  d.changed = true
}

function base(d: Draft, name: string) {
  return {
    channel: d.channel,
    index: d.chat.history.length,
    name,
    timestamp: isoSeconds(d.at),
  }
}

/**
 * A message's history entry. Built as whole literals, one per shape, rather than by spreading:
 * messages are most of the events, and a spread (with an optional key) costs an object per part
 * and gives entries of many hidden classes, which the chat's JSON.stringify then walks slowly.
 * Key order (and so the exported bytes) is that of {@link MessageEntry}: agent_id and msg_id only
 * when given.
 */
function messageEntry(
  d: Draft,
  name: string,
  agentId: string | undefined,
  event: EventOf<'chat.message'>,
): MessageEntry {
  const channel = d.channel
  const index = d.chat.history.length
  const timestamp = isoSeconds(d.at)
  const { msg, msg_id: msgId, options } = event
  if (agentId === undefined) {
    return msgId === undefined
      ? { channel, index, name, timestamp, type: 'chat.msg', msg, options, sender_type: 'Visitor' }
      : {
          channel,
          index,
          name,
          timestamp,
          type: 'chat.msg',
          msg,
          msg_id: msgId,
          options,
          sender_type: 'Visitor',
        }
  }
  return msgId === undefined
    ? {
        channel,
        index,
        name,
        timestamp,
        type: 'chat.msg',
        agent_id: agentId,
        msg,
        options,
        sender_type: 'Agent',
      }
    : {
        channel,
        index,
        name,
        timestamp,
        type: 'chat.msg',
        agent_id: agentId,
        msg,
        msg_id: msgId,
        options,
        sender_type: 'Agent',
      }
}

/** A member leaving's history entry (a literal: see {@link messageEntry}). */
function leaveEntry(d: Draft, name: string, reason: string): HistoryEntry {
  return {
    channel: d.channel,
    index: d.chat.history.length,
    name,
    timestamp: isoSeconds(d.at),
    type: 'chat.memberleave',
    reason,
  }
}

function engage(d: Draft, agentId: number): void {
  if (d.p.engaged.includes(agentId)) return
  d.p.engaged.push(agentId)
  d.changes.push({ agentId, chatId: d.chat.id, change: 'start', at: d.at })
}

function disengage(d: Draft, agentId: number): void {
  if (!d.p.engaged.includes(agentId)) return
  d.p.engaged = d.p.engaged.filter((id) => id !== agentId)
  d.changes.push({ agentId, chatId: d.chat.id, change: 'end', at: d.at })
}

function openRecord(p: ChatPrivate, agentId: number): EngagementRecord | undefined {
  return p.engagements.find((r) => r.agentId === agentId && r.end === null)
}

function closeRecord(d: Draft, record: EngagementRecord, endIndex: number): void {
  record.end = d.at
  record.endIndex = endIndex
  d.changed = true
}

/** Running totals of the chat and of every open engagement, for one new message. */
function countMessage(d: Draft, sender: 'visitor' | 'agent', agentId: number | null): void {
  const sec = wholeSecond(d.at)
  const t = d.p.totals
  t.firstSec ??= sec
  t.lastSec = sec
  if (sender === 'visitor') {
    t.visitor += 1
    if (t.pendingSec === null) {
      t.pendingSec = sec
      t.pendingAt = d.at
    }
  } else {
    t.agent += 1
    if (t.pendingSec !== null) {
      addWait(t.waits, sec - t.pendingSec)
      t.pendingSec = null
      t.pendingAt = null
    }
  }
  d.p.engagements.forEach((record, k) => {
    const g = d.p.progress[k]
    if (record.end !== null || g === undefined) return
    if (sender === 'visitor') {
      g.visitor += 1
      g.pendingSec ??= sec
    } else if (record.agentId === agentId) {
      g.agent += 1
      if (g.pendingSec !== null) {
        addWait(g.waits, sec - g.pendingSec)
        g.pendingSec = null
      }
    }
  })
}

/** Engagements a rating or comment applies to: the open ones, else the most recent one. */
function ratedProgress(p: ChatPrivate): EngagementProgress[] {
  const open = p.engagements.flatMap((r, k) => (r.end === null ? [p.progress[k]] : []))
  const result = open.length > 0 ? open : [p.progress[p.progress.length - 1]]
  return result.filter((g): g is EngagementProgress => g !== undefined)
}

/** The name an agent shows under in this chat: the join name, else the directory name. */
function agentName(d: Draft, directory: Directory, agentId: number): string | undefined {
  return d.p.names[String(agentId)] ?? directory.agent(agentId)?.display_name
}

function startedBy(d: Draft, agentId: number): EngagementStartedBy {
  const transfer = d.p.transfer
  if (transfer !== null && (transfer.agentId === null || transfer.agentId === agentId)) {
    d.p.transfer = null
    return 'transfer'
  }
  if (d.p.engagements.length > 0) return 'agent'
  return d.chat.started_by === 'agent' ? 'agent' : 'visitor'
}

type LiveEvent = Exclude<ChatEvent, EventOf<'chat.started' | 'offline_message' | 'chat.deleted'>>

function applyLive(
  d: Draft,
  event: LiveEvent,
  directory: Directory,
  fail: Fail,
): { ok: false; error: FoldError } | undefined {
  const { chat, p } = d
  const needAgent = (agentId: number | undefined) =>
    agentId === undefined
      ? fail('invalid_event', `${event.type} from an agent needs agent_id`)
      : undefined
  switch (event.type) {
    case 'chat.member_joined': {
      if (event.member === 'visitor') {
        if (p.visitor === 'joined')
          return fail('member_state', 'the visitor is already in the chat')
        p.visitor = 'joined'
        p.visitorName = event.name ?? chat.visitor.name
        push(d, {
          ...base(d, p.visitorName),
          type: 'chat.memberjoin',
          department_id: chat.department_id,
          department_name: chat.department_name,
          ...(event.source === undefined ? {} : { source: event.source }),
        })
        return undefined
      }
      if (event.agent_id === undefined) return needAgent(event.agent_id)
      const agentId = event.agent_id
      const info = directory.agent(agentId)
      if (info === undefined) return unknownAgent(fail, agentId)
      if (p.present.some((m) => m.agentId === agentId))
        return fail('member_state', `agent ${agentId} is already in the chat`)
      const name = event.name ?? info.display_name
      const startIndex = chat.history.length
      push(d, {
        ...base(d, name),
        type: 'chat.memberjoin',
        ...(event.source === undefined ? {} : { source: event.source }),
      })
      p.present.push({ agentId, name })
      p.names[String(agentId)] = name
      if (!chat.agent_ids.includes(String(agentId))) {
        chat.agent_ids.push(String(agentId))
        chat.agent_names.push(name)
      }
      const routing = p.routing[String(agentId)] ?? { assigned: false, accepted: false }
      delete p.routing[String(agentId)]
      p.engagements.push({
        id: `${chat.id}.${p.engagements.length + 1}`,
        agentId,
        agentName: info.display_name,
        fullName: info.full_name,
        joinName: name,
        startedBy: startedBy(d, agentId),
        departmentId: chat.department_id,
        assigned: routing.assigned,
        accepted: routing.accepted,
        skillsRequested: [...chat.skills_requested],
        start: d.at,
        startIndex,
        end: null,
        endIndex: null,
      })
      p.progress.push(newProgress())
      engage(d, agentId)
      return undefined
    }
    case 'chat.member_left': {
      if (event.member === 'visitor') {
        if (p.visitor === 'left') return fail('member_state', 'the visitor already left the chat')
        p.visitor = 'left'
        push(d, leaveEntry(d, p.visitorName, event.reason))
        return undefined
      }
      if (event.agent_id === undefined) return needAgent(event.agent_id)
      const agentId = event.agent_id
      const member = p.present.find((m) => m.agentId === agentId)
      if (member === undefined) return fail('member_state', `agent ${agentId} is not in the chat`)
      const leaveIndex = chat.history.length
      push(d, leaveEntry(d, member.name, event.reason))
      p.present = p.present.filter((m) => m.agentId !== agentId)
      const record = openRecord(p, agentId)
      if (record !== undefined) closeRecord(d, record, leaveIndex)
      disengage(d, agentId)
      return undefined
    }
    case 'chat.message': {
      if (event.sender === 'visitor') {
        if (p.visitor === 'left') return fail('member_state', 'the visitor left the chat')
        push(d, messageEntry(d, p.visitorName, undefined, event))
        countMessage(d, 'visitor', null)
        return undefined
      }
      if (event.agent_id === undefined) return needAgent(event.agent_id)
      const agentId = event.agent_id
      const member = p.present.find((m) => m.agentId === agentId)
      if (member === undefined)
        return fail('member_state', `agent ${agentId} is not in the chat: join before writing`)
      push(d, messageEntry(d, member.name, String(agentId), event))
      countMessage(d, 'agent', agentId)
      return undefined
    }
    case 'chat.tags_changed': {
      let name = ''
      if (event.agent_id !== undefined) {
        const found = agentName(d, directory, event.agent_id)
        if (found === undefined) return unknownAgent(fail, event.agent_id)
        name = found
      }
      const previous = sortedTags(chat.tags)
      const next = sortedTags(event.tags)
      if (previous.join('\u0000') === next.join('\u0000')) return undefined
      push(d, { ...base(d, name), type: 'chat.tag', tags: previous, new_tags: next })
      chat.tags = nextTags(chat.tags, next)
      return undefined
    }
    case 'chat.rated': {
      if (event.rating === chat.rating) return undefined
      push(d, {
        ...base(d, p.visitorName),
        type: 'chat.rating',
        rating: chat.rating,
        new_rating: event.rating,
      })
      chat.rating = event.rating
      for (const g of ratedProgress(p)) g.rating = event.rating
      return undefined
    }
    case 'chat.commented': {
      if (event.comment === chat.comment) return undefined
      push(d, {
        ...base(d, p.visitorName),
        type: 'chat.comment',
        comment: chat.comment,
        new_comment: event.comment,
      })
      chat.comment = event.comment
      for (const g of ratedProgress(p)) g.comment = event.comment
      return undefined
    }
    case 'chat.transferred': {
      const departmentName = directory.departmentName(event.department_id)
      if (departmentName === undefined) return unknownDepartment(fail, event.department_id)
      let name = departmentName
      if (event.agent_id !== undefined) {
        const found = agentName(d, directory, event.agent_id)
        if (found === undefined) return unknownAgent(fail, event.agent_id)
        name = found
      }
      push(d, {
        ...base(d, name),
        type: 'chat.transfer',
        prev_department_id: chat.department_id,
        department_id: event.department_id,
        department_name: departmentName,
      })
      chat.department_id = event.department_id
      chat.department_name = departmentName
      p.transfer = { agentId: event.agent_id ?? null }
      return undefined
    }
    case 'engagement.assigned':
    case 'engagement.accepted': {
      const agentId = event.agent_id
      if (directory.agent(agentId) === undefined) return unknownAgent(fail, agentId)
      const flag = event.type === 'engagement.assigned' ? 'assigned' : 'accepted'
      const record = openRecord(p, agentId)
      if (record !== undefined) {
        if (!record[flag]) {
          record[flag] = true
          d.changed = true
        }
      } else {
        const routing = p.routing[String(agentId)] ?? { assigned: false, accepted: false }
        p.routing[String(agentId)] = { ...routing, [flag]: true }
      }
      if (flag === 'accepted') engage(d, agentId)
      return undefined
    }
    case 'engagement.ended': {
      const agentId = event.agent_id
      const record = openRecord(p, agentId)
      if (record === undefined && !p.engaged.includes(agentId)) {
        // Leaving the chat already ended the agent's engagement; a platform that also reports the
        // end explicitly (as the simulator and many routing engines do) repeats a fact: no change.
        if (p.engagements.some((r) => r.agentId === agentId)) return undefined
        return fail('member_state', `agent ${agentId} has no engagement in progress in the chat`)
      }
      if (record !== undefined) closeRecord(d, record, chat.history.length)
      delete p.routing[String(agentId)]
      disengage(d, agentId)
      return undefined
    }
    case 'chat.ended': {
      p.endedAt = d.at
      for (const record of p.engagements)
        if (record.end === null) closeRecord(d, record, chat.history.length)
      for (const agentId of [...p.engaged]) disengage(d, agentId)
      chat.session.end_date = isoSeconds(d.at)
      d.changed = true
      return undefined
    }
  }
}

/**
 * Applies one chat event to a chat's fold state (`undefined` before chat.started).
 * Returns the new state, whether the exported object changed, and the agents' engagement changes
 * the event caused; or a typed error (unknown chat, duplicate start, event after end or
 * deletion, event earlier than the chat's last event, membership contradiction, unknown
 * directory entry). The input state is left untouched either way.
 * @example applyChatEvent(undefined, startedEvent, directory) // { ok: true, state, … }
 */
export function applyChatEvent(
  state: ChatFoldState | undefined,
  event: ChatEvent,
  directory: Directory,
  options: { inPlace?: boolean } = {},
): ChatFoldResult {
  // Copying a chat (its whole history) on every event makes folding quadratic in chat length;
  // callers that own the state (foldEvent, whose FoldStateAccess hands out owned values) skip it.
  const copy: <T>(value: T) => T = options.inPlace ? (value) => value : structuredClone
  const at = validatedMicros(event.timestamp)
  const fail: Fail = (code, message) => ({ ok: false, error: foldError(code, event.id, message) })
  if (event.type === 'chat.started' || event.type === 'offline_message') {
    if (state !== undefined)
      return fail('duplicate_chat', `chat ${event.chat_id} already exists: a chat starts once`)
    return event.type === 'chat.started'
      ? startChat(event, at, directory, fail)
      : offlineMessage(event, at, directory, fail)
  }
  if (state === undefined)
    return fail(
      'unknown_chat',
      `chat ${event.chat_id} has not started: send chat.started (or offline_message) first`,
    )
  if (state.chat.deleted) return fail('chat_deleted', `chat ${event.chat_id} was deleted`)
  const p = copy(state.private)
  if (p.lastAt !== null && at < p.lastAt)
    return fail(
      'out_of_order',
      `${event.type} at ${event.timestamp} is earlier than the chat's last event; send a chat's events in time order`,
    )
  if (event.type === 'chat.deleted') {
    p.lastAt = at
    return {
      ok: true,
      state: { chat: { ...copy(state.chat), deleted: true }, private: p },
      chatChanged: true,
      engagementChanges: [],
    }
  }
  if (state.chat.type !== 'chat')
    return fail(
      'not_a_live_chat',
      `chat ${event.chat_id} is an offline message: only chat.deleted applies`,
    )
  if (p.endedAt !== null && !AFTER_END.has(event.type))
    return fail('chat_ended', `chat ${event.chat_id} has ended: ${event.type} no longer applies`)

  const d: Draft = {
    chat: copy(state.chat),
    p,
    at,
    channel: channelOf(p.visitorId, p.chatId),
    changed: false,
    changes: [],
  }
  const failed = applyLive(d, event, directory, fail)
  if (failed !== undefined) return failed
  p.lastAt = at
  // In place, the metrics are written over the owned draft (the same keys in the same order).
  const chat = d.changed
    ? options.inPlace
      ? assignMetrics(d.chat, metricsOf(d.chat, p))
      : { ...d.chat, ...metricsOf(d.chat, p) }
    : d.chat
  return {
    ok: true,
    state: { chat, private: p },
    chatChanged: d.changed,
    engagementChanges: d.changes,
  }
}
