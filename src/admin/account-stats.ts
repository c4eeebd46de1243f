/**
 * Aggregates for the console: per stream item count, newest position and freshness; chats per
 * hour by outcome; response-time percentiles per hour; the agent timeline's spans; department
 * queue sizes over time; and the newest items (the live tail). Computed on the server, so the
 * browser draws a few hundred points instead of reading every item.
 *
 * The items are read through the store port page by page (chats as their summaries: every
 * attribute used here is in it). Results are cached per account for a short time: the console
 * polls, and several tabs must not each rescan the account.
 * @module
 */
import type { StreamName } from '../domain/streams.js'
import { STREAM_NAMES } from '../domain/streams.js'
import type { Micros } from '../domain/time.js'
import { formatIso, parseIso } from '../domain/time.js'
import type { PageBody, Store } from '../store/store.js'

const HOUR: Micros = 3_600_000_000

export interface StreamStats {
  stream: StreamName
  count: number
  /** ISO time of the newest position; null when the stream is empty. */
  newest: string | null
  /** Seconds since the newest position; null when empty. */
  freshnessSeconds: number | null
}

export interface HourBucket {
  /** Start of the hour (ISO). */
  hour: string
  served: number
  missed: number
  dropped: number
  offline: number
  /** First response time percentiles of served chats (seconds); null when none. */
  p50: number | null
  p90: number | null
  p99: number | null
}

export interface AgentSpan {
  agentId: number
  status: string
  /** Unix seconds. */
  start: number
  durationSeconds: number
  engagementCount: number
}

export interface QueuePoint {
  /** Unix seconds. */
  at: number
  departmentId: number | null
  incoming: number
  assigned: number
}

export interface AccountStats {
  generatedAt: string
  windowHours: number
  streams: StreamStats[]
  hours: HourBucket[]
  spans: AgentSpan[]
  queues: QueuePoint[]
}

/** Reads every item of a stream (in position order), calling `each` with its parsed JSON. */
async function scan(
  store: Store,
  accountId: number,
  stream: StreamName,
  body: PageBody,
  each: (item: Record<string, unknown>, position: Micros) => void,
): Promise<{ count: number; newest: Micros }> {
  let afterPosition = 0
  let afterSortId: string | null = null
  let count = 0
  let newest = 0
  for (;;) {
    const rows = await store.readPage({
      accountId,
      stream,
      afterPosition,
      afterSortId,
      limit: 1000,
      body,
    })
    for (const row of rows) {
      count++
      newest = Math.max(newest, row.position)
      if (body !== 'none') each(JSON.parse(row.body.toString('utf8')) as never, row.position)
    }
    const last = rows.at(-1)
    if (!last || rows.length < 1000) return { count, newest }
    afterPosition = last.position
    afterSortId = last.sortId
  }
}

/** A string or number member as text ('' otherwise). */
function text(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : ''
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null
  const index = Math.min(sorted.length - 1, Math.floor(p * sorted.length))
  return Math.round((sorted[index] ?? 0) * 10) / 10
}

/** Computes the console's aggregates for one account over the last `windowHours`. */
export async function accountStats(
  store: Store,
  accountId: number,
  now: Micros,
  windowHours = 48,
): Promise<AccountStats> {
  const from = now - windowHours * HOUR
  const firstHour = from - (from % HOUR)
  const buckets = new Map<number, HourBucket & { times: number[] }>()
  for (let h = firstHour; h <= now; h += HOUR) {
    buckets.set(h, {
      hour: formatIso(h),
      served: 0,
      missed: 0,
      dropped: 0,
      offline: 0,
      p50: null,
      p90: null,
      p99: null,
      times: [],
    })
  }
  const spans: AgentSpan[] = []
  const queues: QueuePoint[] = []
  const streams: StreamStats[] = []
  for (const stream of STREAM_NAMES) {
    const each = (item: Record<string, unknown>) => {
      switch (stream) {
        case 'chats': {
          const at = parseIso(text(item.timestamp)) ?? 0
          if (at < from) return
          const bucket = buckets.get(at - (at % HOUR))
          if (!bucket) return
          if (item.type === 'offline_msg') bucket.offline++
          else if (item.missed === true) bucket.missed++
          else if (item.dropped === true) bucket.dropped++
          else {
            bucket.served++
            const first = (item.response_time as { first?: unknown } | null)?.first
            if (typeof first === 'number') bucket.times.push(first)
          }
          return
        }
        case 'agent_timeline': {
          const start = parseIso(text(item.start_time)) ?? 0
          const duration = Number(item.duration ?? 0)
          if (start + duration * 1e6 < from) return
          spans.push({
            agentId: Number(item.agent_id),
            status: String(item.status),
            start: start / 1e6,
            durationSeconds: duration,
            engagementCount: Number(item.engagement_count ?? 0),
          })
          return
        }
        case 'department_events': {
          const at = parseIso(text(item.timestamp)) ?? 0
          const value = item.value as { incoming?: unknown; assigned?: unknown } | null
          if (at < from || item.field_name !== 'queue_sizes' || !value) return
          queues.push({
            at: at / 1e6,
            departmentId: typeof item.department_id === 'number' ? item.department_id : null,
            incoming: Number(value.incoming ?? 0),
            assigned: Number(value.assigned ?? 0),
          })
          return
        }
        case 'agent_events':
        case 'conversions':
          return
      }
    }
    const interesting =
      stream === 'chats' || stream === 'agent_timeline' || stream === 'department_events'
    const body: PageBody = stream === 'chats' ? 'summary' : interesting ? 'full' : 'none'
    const { count, newest } = await scan(store, accountId, stream, body, each)
    streams.push({
      stream,
      count,
      newest: count > 0 ? formatIso(newest) : null,
      freshnessSeconds: count > 0 ? Math.max(0, Math.round((now - newest) / 1e6)) : null,
    })
  }
  const hours: HourBucket[] = [...buckets.values()].map(({ times, ...bucket }) => {
    times.sort((a, b) => a - b)
    return {
      ...bucket,
      p50: percentile(times, 0.5),
      p90: percentile(times, 0.9),
      p99: percentile(times, 0.99),
    }
  })
  queues.sort((a, b) => a.at - b.at)
  return { generatedAt: formatIso(now), windowHours, streams, hours, spans, queues }
}

/** The newest `limit` chats at or after `afterPosition` (the console's live tail). */
export async function newestItems(
  store: Store,
  accountId: number,
  stream: StreamName,
  afterPosition: Micros,
  limit = 20,
): Promise<Array<{ position: string; id: string; summary: string }>> {
  const rows = await store.readPage({
    accountId,
    stream,
    afterPosition,
    afterSortId: null,
    limit: 1000,
    body: stream === 'chats' ? 'summary' : 'full',
  })
  return rows.slice(-limit).map((row) => {
    const item = JSON.parse(row.body.toString('utf8')) as Record<string, unknown>
    const what = [item.type, item.status, item.field_name].filter(Boolean).join(' ')
    return {
      position: formatIso(row.position),
      id: text(item.id ?? item.agent_id) || row.sortId,
      summary: what,
    }
  })
}
