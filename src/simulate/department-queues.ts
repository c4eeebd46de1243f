/**
 * The departments' queues as the account's dashboard counts them: per department, the chats
 * waiting (`incoming`, FIFO) and the chats offered to an agent but not yet accepted (`assigned`),
 * plus the account's totals. Pure bookkeeping: it remembers which counts changed since the last
 * report so that `department.queue_sizes` is sent only on a change, and leaves sending to the
 * caller.
 * @module
 */

/** One `department.queue_sizes` to send; `departmentId: null` carries the account's totals. */
export interface QueueSizes {
  departmentId: number | null
  incoming: number
  assigned: number
}

interface QueueState {
  /** Waiting chat ids, oldest first (a withdrawn assignment goes back to the front). */
  incoming: string[]
  assigned: number
  /** The counts last reported, to skip reports that would repeat them. */
  lastIncoming: number
  lastAssigned: number
}

/**
 * The queue of every department and of chats without one (`null`).
 *
 * @example
 * const queues = new DepartmentQueues([1, 2])
 * queues.add(1, 'chat-a')
 * queues.flush() // [{ departmentId: 1, incoming: 1, assigned: 0 }, { departmentId: null, incoming: 1, assigned: 0 }]
 */
export class DepartmentQueues {
  private readonly queues = new Map<number | null, QueueState>()
  /** Departments touched since the last flush, in the order they were touched. */
  private readonly dirty = new Set<number | null>()
  /** The account-level sizes last reported. */
  private account = { incoming: 0, assigned: 0 }

  /** Departments in directory order: the order waiting chats are listed and reports are sent. */
  constructor(departmentIds: readonly number[]) {
    for (const id of departmentIds) this.queues.set(id, emptyQueue())
    this.queues.set(null, emptyQueue())
  }

  /** Ids of waiting chats: queue by queue in construction order, each oldest first. */
  waiting(): string[] {
    const ids: string[] = []
    for (const q of this.queues.values()) ids.push(...q.incoming)
    return ids
  }

  /** Puts a chat at the back of its department's queue, or at the front (`front`). */
  add(departmentId: number | null, chatId: string, front = false): void {
    const q = this.queueOf(departmentId)
    if (front) q.incoming.unshift(chatId)
    else q.incoming.push(chatId)
    this.dirty.add(departmentId)
  }

  /** Takes a chat out of its department's queue, if it is there. */
  remove(departmentId: number | null, chatId: string): void {
    const q = this.queueOf(departmentId)
    const i = q.incoming.indexOf(chatId)
    if (i >= 0) {
      q.incoming.splice(i, 1)
      this.dirty.add(departmentId)
    }
  }

  /** One more (`+1`) or one fewer (`-1`) chat offered and not yet accepted. */
  changeAssigned(departmentId: number | null, delta: 1 | -1): void {
    this.queueOf(departmentId).assigned += delta
    this.dirty.add(departmentId)
  }

  /**
   * The reports due since the last flush: one per department whose counts changed, then the
   * account's totals if they changed. Chats without a department count in the totals only.
   */
  flush(): QueueSizes[] {
    if (this.dirty.size === 0) return []
    const reports: QueueSizes[] = []
    for (const departmentId of this.dirty) {
      if (departmentId === null) continue
      const q = this.queueOf(departmentId)
      if (q.incoming.length === q.lastIncoming && q.assigned === q.lastAssigned) continue
      q.lastIncoming = q.incoming.length
      q.lastAssigned = q.assigned
      reports.push({ departmentId, incoming: q.incoming.length, assigned: q.assigned })
    }
    this.dirty.clear()
    let incoming = 0
    let assigned = 0
    for (const q of this.queues.values()) {
      incoming += q.incoming.length
      assigned += q.assigned
    }
    if (incoming !== this.account.incoming || assigned !== this.account.assigned) {
      this.account = { incoming, assigned }
      reports.push({ departmentId: null, incoming, assigned })
    }
    return reports
  }

  private queueOf(departmentId: number | null): QueueState {
    let q = this.queues.get(departmentId)
    if (q === undefined) {
      q = emptyQueue()
      this.queues.set(departmentId, q)
    }
    return q
  }
}

function emptyQueue(): QueueState {
  return { incoming: [], assigned: 0, lastIncoming: 0, lastAssigned: 0 }
}
