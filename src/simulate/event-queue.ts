/**
 * The discrete-event simulation's agenda: a binary min-heap of scheduled actions ordered by time,
 * then by scheduling order, so actions at the same microsecond run first-scheduled-first and a run
 * is reproducible.
 * @module
 */
import type { Micros } from '../domain/time.js'

/**
 * What an action belongs to, which decides whether it still runs once the simulated period is
 * over and the run drains: only `chat` actions (the rest of conversations already under way) do.
 */
export type ActionKind = 'chat' | 'agent' | 'arrival' | 'later'

export interface ScheduledAction {
  at: Micros
  seq: number
  kind: ActionKind
  run: () => void
}

function before(a: ScheduledAction, b: ScheduledAction): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq)
}

/** A min-heap of actions by (at, seq). */
export class EventQueue {
  private readonly heap: ScheduledAction[] = []
  private seq = 0

  get size(): number {
    return this.heap.length
  }

  /** Schedules `run` at `at`. */
  push(at: Micros, kind: ActionKind, run: () => void): void {
    const heap = this.heap
    heap.push({ at, seq: this.seq++, kind, run })
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      const item = heap[i] as ScheduledAction
      const up = heap[parent] as ScheduledAction
      if (!before(item, up)) break
      heap[i] = up
      heap[parent] = item
      i = parent
    }
  }

  /** Removes and returns the earliest action, or undefined when empty. */
  pop(): ScheduledAction | undefined {
    const heap = this.heap
    const top = heap[0]
    const last = heap.pop()
    if (top === undefined || last === undefined || heap.length === 0) return top
    heap[0] = last
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let smallest = i
      if (l < heap.length && before(heap[l] as ScheduledAction, heap[smallest] as ScheduledAction))
        smallest = l
      if (r < heap.length && before(heap[r] as ScheduledAction, heap[smallest] as ScheduledAction))
        smallest = r
      if (smallest === i) break
      const a = heap[i] as ScheduledAction
      heap[i] = heap[smallest] as ScheduledAction
      heap[smallest] = a
      i = smallest
    }
    return top
  }
}
