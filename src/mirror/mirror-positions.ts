/**
 * Where a mirrored item goes in the local stream. The source's page tells us each item's order and
 * the exact position of its last item (`end_time`), but not the position of the others. Chats carry
 * theirs (`update_timestamp` is the position, on Zendesk and on chat-export), and on Zendesk the
 * other streams are cursored by their own time too; on a chat-export source they are cursored by
 * commit time, which the wire does not show. So each item is placed at its own time, clamped into
 * the range its page covers and raised where needed so that (position, sort id) strictly ascends:
 * the local export then serves the same items in the same order, and every source page ends at the
 * same cursor time locally (docs/mirror.md, "Positions").
 * Pure: no I/O.
 * @module
 */
import type { Micros } from '../domain/time.js'

/** The last mirrored cursor point of a stream: positions must stay strictly after it. */
export interface CursorPoint {
  position: Micros
  sortId: string
}

/** One item of a page, in source order. */
export interface PlacedInput {
  /** The item's own time (a chat's update_timestamp, an event's timestamp, a span's end). */
  ownTime: Micros
  sortId: string
}

/**
 * Positions for `items` (in source order) after `after`, for a page whose last item the source
 * has at `pageEnd`. Every result is a positive safe integer; `(position, sortId)` strictly
 * ascends from `after`. Items whose own time lies inside the page's range keep it exactly (chats
 * always do: their own time is their source position); the last item lands on `pageEnd` unless
 * ordering forces it a few microseconds later.
 */
export function placeItems(
  items: readonly PlacedInput[],
  after: CursorPoint | null,
  pageEnd: Micros | null,
): Micros[] {
  const positions: Micros[] = []
  let last = after
  items.forEach((item, index) => {
    const floor = last?.position ?? 1
    let position = Math.max(item.ownTime, floor)
    if (pageEnd !== null && pageEnd >= floor) position = Math.min(position, pageEnd)
    if (index === items.length - 1 && pageEnd !== null) position = Math.max(position, pageEnd)
    // Sort ids compare as bytes in the store; the ids the streams use are ASCII, where JavaScript's
    // code-unit order is the same.
    if (last !== null && position === last.position && !(item.sortId > last.sortId)) position++
    positions.push(position)
    last = { position, sortId: item.sortId }
  })
  return positions
}
