/**
 * Folds `department.queue_sizes` events into department_events items: one item each time a
 * department's (or, with department `null`, the account's) queue sizes change.
 * @module
 */
import type { EventOf } from '../events.js'
import type { Micros } from '../time.js'
import { formatIsoMicros } from '../time.js'
import { validatedMicros } from './chat-time.js'
import type { FoldError } from './fold-error.js'
import { foldError } from './fold-error.js'
import { departmentEventId } from './item-ids.js'
import type { DepartmentEventItem, QueueSizes } from './types.js'

/** Folding's private state of one department queue. */
export interface DepartmentQueueState {
  v: 1
  departmentId: number | null
  value: QueueSizes
  /** Time of the last queue_sizes event applied (the ordering guard). */
  at: Micros
}

export type DepartmentFoldResult =
  | { ok: true; state: DepartmentQueueState; events: DepartmentEventItem[] }
  | { ok: false; error: FoldError }

/**
 * Applies one queue_sizes event. An item is produced only when a value changes; it carries
 * `previous_value` when the previous sizes are known (omitted for the first event of a queue).
 * An event earlier than the queue's last one is an `out_of_order` error.
 * @example applyDepartmentEvent(undefined, queueEvent) // { ok: true, events: [{ field_name: 'queue_sizes', … }] }
 */
export function applyDepartmentEvent(
  state: DepartmentQueueState | undefined,
  event: EventOf<'department.queue_sizes'>,
): DepartmentFoldResult {
  const at = validatedMicros(event.timestamp)
  if (state !== undefined && at < state.at)
    return {
      ok: false,
      error: foldError(
        'out_of_order',
        event.id,
        `queue sizes at ${event.timestamp} are earlier than the queue's last update; send them in time order`,
      ),
    }
  const value: QueueSizes = { assigned: event.assigned, incoming: event.incoming }
  const next: DepartmentQueueState = { v: 1, departmentId: event.department_id, value, at }
  if (
    state !== undefined &&
    state.value.assigned === value.assigned &&
    state.value.incoming === value.incoming
  )
    return { ok: true, state: next, events: [] }
  const departmentId = event.department_id
  const id = departmentEventId(event.id, departmentId)
  const timestamp = formatIsoMicros(at)
  // Two literals rather than a spread of the optional previous_value: one object, one shape.
  const item: DepartmentEventItem =
    state === undefined
      ? { department_id: departmentId, field_name: 'queue_sizes', id, timestamp, value }
      : {
          department_id: departmentId,
          field_name: 'queue_sizes',
          id,
          previous_value: { ...state.value },
          timestamp,
          value,
        }
  return { ok: true, state: next, events: [item] }
}
