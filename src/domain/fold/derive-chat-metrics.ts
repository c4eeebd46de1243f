/**
 * The derived fields of a live chat, computed in one pass over its history. This is the
 * specification of those fields (docs/derivation.md): the event-by-event fold keeps running totals
 * instead, and a property test checks that both always agree.
 * @module
 */
import type { Micros } from '../time.js'
import { isoSeconds, validatedMicros, wholeSecond } from './chat-time.js'
import {
  countOf,
  engagementObject,
  nextTags,
  responseTimeOf,
  secondsBetween,
  skillsFulfilled,
} from './chat-rules.js'
import type {
  ChatMetrics,
  EngagementRecord,
  HistoryEntry,
  MessageEntry,
  WaitStats,
} from './types.js'

/** What the history does not show: exact times and the engagements' facts. */
export interface ChatTimeline {
  /** Exact time of each history entry, by index (history timestamps are whole seconds). */
  times: readonly Micros[]
  /** When chat.ended was applied; null while the chat is in progress. */
  endedAt: Micros | null
  /** One record per agent join, in join order. */
  engagements: readonly EngagementRecord[]
}

function second(entry: HistoryEntry): number {
  return wholeSecond(validatedMicros(entry.timestamp))
}

function statsOf(waits: readonly number[]): WaitStats {
  return {
    first: waits[0] ?? null,
    max: waits.length === 0 ? null : Math.max(...waits),
    sum: waits.reduce((a, b) => a + b, 0),
    n: waits.length,
  }
}

/** Waits of a run of messages: from the first unanswered visitor message to the next reply. */
function waitsOf(messages: readonly MessageEntry[], answers: (m: MessageEntry) => boolean) {
  const waits: number[] = []
  let pending: MessageEntry | null = null
  for (const message of messages) {
    if (message.sender_type === 'Visitor') pending ??= message
    else if (answers(message) && pending !== null) {
      waits.push(second(message) - second(pending))
      pending = null
    }
  }
  return { waits, pending }
}

/** Whether history entry `index` falls inside the engagement (after its join, before its end). */
function within(record: EngagementRecord, index: number): boolean {
  return record.startIndex < index && (record.endIndex === null || index < record.endIndex)
}

/**
 * A rating or comment at history `index` applies to the engagements open at that moment; when
 * none is open, to the most recent engagement that began before it.
 */
function ratedEngagements(records: readonly EngagementRecord[], index: number): EngagementRecord[] {
  const open = records.filter((r) => within(r, index))
  if (open.length > 0) return open
  const before = records.filter((r) => r.startIndex < index)
  const last = before[before.length - 1]
  return last === undefined ? [] : [last]
}

/**
 * Derives count, duration, response_time, agent_ids/agent_names, missed, dropped, abandon_time,
 * end_timestamp, tags, rating, comment, skills_fulfilled and the engagement objects from a chat's
 * history and timeline alone.
 * @example deriveChatMetrics(chat.history, { times, endedAt, engagements }).count // {agent:1,…}
 */
export function deriveChatMetrics(
  history: readonly HistoryEntry[],
  timeline: ChatTimeline,
): ChatMetrics {
  const messages = history.filter((e): e is MessageEntry => e.type === 'chat.msg')
  const visitor = messages.filter((m) => m.sender_type === 'Visitor').length
  const agent = messages.length - visitor
  const first = messages[0]
  const last = messages[messages.length - 1]
  const duration = first && last ? second(last) - second(first) : 0

  const chatWaits = waitsOf(messages, () => true)

  let tags: string[] = []
  let rating: 'good' | 'bad' | null = null
  let comment: string | null = null
  const engagementRating = new Map<string, 'good' | 'bad' | null>()
  const engagementComment = new Map<string, string | null>()
  for (const entry of history) {
    if (entry.type === 'chat.tag') tags = nextTags(tags, entry.new_tags)
    if (entry.type === 'chat.rating') {
      rating = entry.new_rating
      for (const r of ratedEngagements(timeline.engagements, entry.index))
        engagementRating.set(r.id, entry.new_rating)
    }
    if (entry.type === 'chat.comment') {
      comment = entry.new_comment
      for (const r of ratedEngagements(timeline.engagements, entry.index))
        engagementComment.set(r.id, entry.new_comment)
    }
  }

  const agentIds: string[] = []
  const agentNames: string[] = []
  for (const record of timeline.engagements) {
    if (agentIds.includes(String(record.agentId))) continue
    agentIds.push(String(record.agentId))
    agentNames.push(record.joinName)
  }

  const engagements = timeline.engagements.map((record) => {
    const inside = messages.filter((m) => within(record, m.index))
    const own = (m: MessageEntry) => m.agent_id === String(record.agentId)
    const { waits } = waitsOf(inside, own)
    const v = inside.filter((m) => m.sender_type === 'Visitor').length
    const a = inside.filter(own).length
    return engagementObject(
      record,
      {
        count: countOf(v, a),
        response_time: responseTimeOf(statsOf(waits)),
        rating: engagementRating.get(record.id) ?? null,
        comment: engagementComment.get(record.id) ?? null,
      },
      isoSeconds(record.start),
    )
  })

  const ended = timeline.endedAt !== null
  const served = timeline.engagements.length > 0
  const missed = ended && visitor > 0 && !served
  const dropped = ended && served && chatWaits.pending !== null
  const pendingAt = chatWaits.pending === null ? undefined : timeline.times[chatWaits.pending.index]
  const abandon_time =
    (missed || dropped) && timeline.endedAt !== null && pendingAt !== undefined
      ? secondsBetween(pendingAt, timeline.endedAt)
      : null

  return {
    abandon_time,
    agent_ids: agentIds,
    agent_names: agentNames,
    comment,
    count: countOf(visitor, agent),
    dropped,
    duration,
    end_timestamp: timeline.endedAt === null ? null : isoSeconds(timeline.endedAt),
    engagements,
    missed,
    rating,
    response_time: responseTimeOf(statsOf(chatWaits.waits)),
    skills_fulfilled: timeline.engagements.some(skillsFulfilled),
    tags,
  }
}
