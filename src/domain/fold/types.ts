/**
 * The exported objects that folding produces (wire shapes, reference-notes.md §1 and §6) and the
 * private per-chat state folding keeps beside them. Everything here is plain JSON: the store keeps
 * it as text between events.
 * @module
 */
import type { Micros } from '../time.js'

/** Messages per side: `total = agent + visitor`. */
export interface MessageCount {
  agent: number
  total: number
  visitor: number
}

/** Whole-second response statistics; all null when no agent answered a visitor. */
export interface ResponseTime {
  avg: number | null
  first: number | null
  max: number | null
}

export interface ChatVisitor {
  email: string
  id: string
  name: string
  notes: string
  phone: string
}

export interface ChatSession {
  browser: string
  city: string
  country_code: string
  country_name: string
  /** When the chat ended; null while it is still going on (and for offline messages). */
  end_date: string | null
  id: string
  ip: string
  platform: string
  region: string
  start_date: string
  user_agent: string
}

export interface WebpathEntry {
  from: string
  timestamp: string
  title: string
  to: string
}

interface HistoryBase {
  channel: string
  index: number
  name: string
  timestamp: string
}

export interface MemberJoinEntry extends HistoryBase {
  type: 'chat.memberjoin'
  /** Only on the visitor's join: the department the chat was in at that moment. */
  department_id?: number | null
  department_name?: string | null
  source?: string
}

export interface MemberLeaveEntry extends HistoryBase {
  type: 'chat.memberleave'
  reason: string
}

export interface MessageEntry extends HistoryBase {
  type: 'chat.msg'
  /** Agent messages only, as a string. */
  agent_id?: string
  msg: string
  msg_id?: string
  options: string
  sender_type: 'Agent' | 'Visitor'
}

export interface TagEntry extends HistoryBase {
  type: 'chat.tag'
  /** The tags before the change, sorted. */
  tags: string[]
  /** The tags after the change, sorted. */
  new_tags: string[]
}

export interface RatingEntry extends HistoryBase {
  type: 'chat.rating'
  rating: 'good' | 'bad' | null
  new_rating: 'good' | 'bad' | null
}

export interface CommentEntry extends HistoryBase {
  type: 'chat.comment'
  comment: string | null
  new_comment: string | null
}

export interface TransferEntry extends HistoryBase {
  type: 'chat.transfer'
  prev_department_id: number | null
  department_id: number
  department_name: string
}

export type HistoryEntry =
  | MemberJoinEntry
  | MemberLeaveEntry
  | MessageEntry
  | TagEntry
  | RatingEntry
  | CommentEntry
  | TransferEntry

export type EngagementStartedBy = 'visitor' | 'agent' | 'transfer'

export interface Engagement {
  accepted: boolean
  agent_full_name: string
  agent_id: string
  agent_name: string
  assigned: boolean
  comment: string | null
  count: MessageCount
  department_id: number | null
  /** Seconds from the agent's join to the end of the engagement; null while it is open. */
  duration: number | null
  id: string
  rating: 'good' | 'bad' | null
  response_time: ResponseTime
  skills_fulfilled: boolean
  skills_requested: number[]
  started_by: EngagementStartedBy
  timestamp: string
}

/** Attribution of a conversion on the conversions stream. */
export interface Attribution {
  agent_id: number | null
  chat_id: string | null
  chat_timestamp: string | null
  department_id: number | null
}

/** A conversion item of the conversions stream. */
export interface ConversionItem {
  attribution: Attribution
  goal_id: number
  goal_name: string
  id: string
  timestamp: string
}

/** A conversion embedded in the chat it is attributed to (also names agent and department). */
export interface ChatConversion {
  attribution: Attribution & { agent_name: string | null; department_name: string | null }
  goal_id: number
  goal_name: string
  id: string
  timestamp: string
}

/** The fields of a live chat that are derived from its history (see derive-chat-metrics.ts). */
export interface ChatMetrics {
  abandon_time: number | null
  agent_ids: string[]
  agent_names: string[]
  comment: string | null
  count: MessageCount
  dropped: boolean
  duration: number
  end_timestamp: string | null
  engagements: Engagement[]
  missed: boolean
  rating: 'good' | 'bad' | null
  response_time: ResponseTime
  skills_fulfilled: boolean
  tags: string[]
}

/** A chat of type `chat` (without `update_timestamp`, which the store sets). */
export interface LiveChat extends ChatMetrics {
  conversions: ChatConversion[]
  deleted: boolean
  department_id: number | null
  department_name: string | null
  history: HistoryEntry[]
  id: string
  proactive: boolean
  referrer_search_engine: string
  referrer_search_terms: string
  session: ChatSession
  skills_requested: number[]
  started_by: 'visitor' | 'agent' | 'trigger'
  timestamp: string
  triggered: boolean
  triggered_response: boolean | null
  type: 'chat'
  unread: boolean
  visitor: ChatVisitor
  webpath: WebpathEntry[]
  zendesk_ticket_id: number | null
}

/** A chat of type `offline_msg`: no history, engagements or metrics. */
export interface OfflineMessage {
  deleted: boolean
  department_id: number | null
  department_name: string | null
  id: string
  message: string
  session: ChatSession
  started_by: 'visitor'
  tags: string[]
  timestamp: string
  type: 'offline_msg'
  unread: boolean
  visitor: ChatVisitor
  webpath: WebpathEntry[]
  zendesk_ticket_id: number | null
}

export type Chat = LiveChat | OfflineMessage

/** An agent_events item (reference-notes.md §6.3). */
export interface AgentEventItem {
  account_id?: number
  agent_id: number
  field_name: 'status' | 'engagements'
  id: string
  previous_value: string | number
  timestamp: string
  value: string | number
}

/** A closed agent_timeline span. */
export interface AgentSpan {
  agent_id: number
  duration: number
  engagement_count: number
  start_time: string
  status: 'online' | 'away' | 'invisible'
}

export interface QueueSizes {
  assigned: number
  incoming: number
}

/** A department_events item. */
export interface DepartmentEventItem {
  department_id: number | null
  field_name: 'queue_sizes'
  id: string
  previous_value?: QueueSizes
  timestamp: string
  value: QueueSizes
}

/** What folding knows about an engagement beyond what the exported object shows. */
export interface EngagementRecord {
  id: string
  agentId: number
  /** Directory names at the time of the join (exported as agent_name / agent_full_name). */
  agentName: string
  fullName: string
  /** The name the agent joined this chat under (history and agent_names). */
  joinName: string
  startedBy: EngagementStartedBy
  departmentId: number | null
  assigned: boolean
  accepted: boolean
  skillsRequested: number[]
  /** When and at which history index (the agent's chat.memberjoin) the engagement began. */
  start: Micros
  startIndex: number
  /** When it ended and the history length at that moment (exclusive bound); null while open. */
  end: Micros | null
  endIndex: number | null
}

/** Running message statistics, updated event by event. */
export interface WaitStats {
  first: number | null
  max: number | null
  sum: number
  n: number
}

export interface EngagementProgress {
  visitor: number
  agent: number
  /** Whole second of the first visitor message not yet answered by this engagement's agent. */
  pendingSec: number | null
  waits: WaitStats
  rating: 'good' | 'bad' | null
  comment: string | null
}

/** Folding's private state of one chat, kept beside the exported object. */
export interface ChatPrivate {
  v: 1
  chatId: string
  kind: 'chat' | 'offline_msg'
  visitorId: string
  /** Exact time of each history entry, by index (history shows whole seconds only). */
  times: Micros[]
  startedAt: Micros
  /** Latest timestamp of the events applied after the first one (the ordering guard). */
  lastAt: Micros | null
  endedAt: Micros | null
  visitor: 'implicit' | 'joined' | 'left'
  visitorName: string
  /** Agents in the chat now, with the name they joined under. */
  present: { agentId: number; name: string }[]
  /** The chat name of every agent who ever joined, by agent id. */
  names: Record<string, string>
  /** Agents whose agent-timeline engagement count includes this chat (joined or accepted). */
  engaged: number[]
  /** Routing flags received before the agent joined, by agent id. */
  routing: Record<string, { assigned: boolean; accepted: boolean }>
  /** Set by a transfer: the next join (of this agent, if not null) starts a `transfer` engagement. */
  transfer: { agentId: number | null } | null
  engagements: EngagementRecord[]
  progress: EngagementProgress[]
  totals: {
    visitor: number
    agent: number
    firstSec: number | null
    lastSec: number | null
    /** First visitor message of the current unanswered run: its whole second and exact time. */
    pendingSec: number | null
    pendingAt: Micros | null
    waits: WaitStats
  }
}
