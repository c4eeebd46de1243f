/**
 * The key a destination upserts an item by: `id` for chats, conversions, department_events and
 * agent_events; (agent_id, start_time) for agent_timeline, whose spans have no id.
 * @module
 */
import type { ExportItem, ExportStream } from '../client/index.js'
import { formatIsoMicros, parseIso } from '../domain/time.js'

/** An item's key, split into the columns a SQL destination stores it under. */
export type ItemKey =
  | { kind: 'id'; key: string; id: string }
  | { kind: 'span'; key: string; agentId: number; startTime: string }

/** Thrown when an item lacks its key: the source is not an export server we understand. */
export class ItemKeyError extends Error {
  override readonly name = 'ItemKeyError'
}

/**
 * The key of `item` in `stream`. The span start time is normalised to six fractional digits, so
 * `…:33Z` and `…:33.000000Z` are the same span.
 */
export function itemKey(stream: ExportStream, item: ExportItem): ItemKey {
  if (stream === 'agent_timeline') {
    const agentId = item.agent_id
    const start = typeof item.start_time === 'string' ? parseIso(item.start_time) : undefined
    if (typeof agentId !== 'number' || !Number.isSafeInteger(agentId) || start === undefined) {
      throw new ItemKeyError(
        'An agent_timeline item has no integer agent_id or no ISO start_time; cannot store it.',
      )
    }
    const startTime = formatIsoMicros(start)
    return { kind: 'span', key: `${agentId}|${startTime}`, agentId, startTime }
  }
  const id = item.id
  if ((typeof id !== 'string' || id === '') && typeof id !== 'number') {
    throw new ItemKeyError(`A ${stream} item has no id; cannot store it.`)
  }
  return { kind: 'id', key: String(id), id: String(id) }
}

/** Whether the source marked the item as deleted (chats carry `deleted: true` as a tombstone). */
export function isDeleted(item: ExportItem): boolean {
  return item.deleted === true
}
