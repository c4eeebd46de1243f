/**
 * Small rules shared by the event-by-event fold (fold-chat.ts) and the from-history derivation
 * (derive-chat-metrics.ts): how tags are ordered, how an engagement object is assembled, how wait
 * statistics become `response_time`. docs/derivation.md states each rule with an example.
 * @module
 */
import type {
  Engagement,
  EngagementRecord,
  MessageCount,
  ResponseTime,
  WaitStats,
} from './types.js'

/** Wait statistics with no wait recorded yet. */
export function emptyWaits(): WaitStats {
  return { first: null, max: null, sum: 0, n: 0 }
}

/** Records one wait (whole seconds); mutates `stats`. */
export function addWait(stats: WaitStats, wait: number): void {
  stats.first ??= wait
  stats.max = stats.max === null ? wait : Math.max(stats.max, wait)
  stats.sum += wait
  stats.n += 1
}

/** `response_time` from wait statistics: all null when no visitor message was answered. */
export function responseTimeOf(stats: WaitStats): ResponseTime {
  if (stats.n === 0) return { avg: null, first: null, max: null }
  return { avg: stats.sum / stats.n, first: stats.first, max: stats.max }
}

/** `count` from the messages per side. */
export function countOf(visitor: number, agent: number): MessageCount {
  return { agent, total: agent + visitor, visitor }
}

/** Tags as a set, in the sorted form that history entries show. */
export function sortedTags(tags: readonly string[]): string[] {
  return [...new Set(tags)].sort()
}

/**
 * The chat's `tags` after a change to the set `next`: tags that stay keep their place, new tags
 * are appended (several new tags at once in sorted order). Reference chat 2: `["one"]` then the
 * set `{goodbye_survey, one}` gives `["one", "goodbye_survey"]`.
 */
export function nextTags(previous: readonly string[], next: readonly string[]): string[] {
  const nextSet = new Set(next)
  const kept = previous.filter((tag) => nextSet.has(tag))
  const keptSet = new Set(kept)
  return [...kept, ...sortedTags(next).filter((tag) => !keptSet.has(tag))]
}

/**
 * Whether routing fulfilled the requested skills: skills were requested and routing assigned the
 * engagement (skills-based routing only assigns agents who have them).
 */
export function skillsFulfilled(record: EngagementRecord): boolean {
  return record.skillsRequested.length > 0 && record.assigned
}

/** Seconds between two exact times, exact to the microsecond. */
export function secondsBetween(start: number, end: number): number {
  // Integer microseconds divided once: 40_003_000 µs gives exactly 40.003.
  return (end - start) / 1_000_000
}

/** The exported engagement object from its record and its message statistics. */
export function engagementObject(
  record: EngagementRecord,
  stats: {
    count: MessageCount
    response_time: ResponseTime
    rating: 'good' | 'bad' | null
    comment: string | null
  },
  timestamp: string,
): Engagement {
  return {
    accepted: record.accepted,
    agent_full_name: record.fullName,
    agent_id: String(record.agentId),
    agent_name: record.agentName,
    assigned: record.assigned,
    comment: stats.comment,
    count: stats.count,
    department_id: record.departmentId,
    duration: record.end === null ? null : secondsBetween(record.start, record.end),
    id: record.id,
    rating: stats.rating,
    response_time: stats.response_time,
    skills_fulfilled: skillsFulfilled(record),
    skills_requested: [...record.skillsRequested],
    started_by: record.startedBy,
    timestamp,
  }
}
