/**
 * The request journal: the last N requests of each account, kept in memory (a ring per account),
 * filterable and streamed live to subscribers (the admin API's server-sent events).
 *
 * What an entry holds is chosen so that it can be shown to anyone who may administer the account:
 * method, path, the full query string (start_time, cursor ids, fields: what a connector sent),
 * status, bytes, duration, the fault applied and the cursor before and after. Never a header (so
 * never a token), never a body (so never visitor PII).
 * @module
 */

export interface JournalEntry {
  /** Increasing over the server's life, across accounts. */
  id: number
  /** Wall time of the request (ISO). */
  at: string
  accountId: number
  method: string
  path: string
  /** The raw query string without `?` ('' when none). */
  query: string
  status: number
  /** Response body size in bytes, as sent (after any fault). */
  bytes: number
  durationMs: number
  /** The fault applied, e.g. `503;retry-after=1`, `body:truncated`; null for none. */
  fault: string | null
  /** The cursor the request asked for: `start_time` / `start_id` from the query. */
  cursorBefore: { start_time: string | null; start_id: string | null } | null
  /** The cursor a client moves to (`end_time`/`end_id` of a served page); null when none moved. */
  cursorAfter: { end_time: number | null; end_id: string | null } | null
}

export interface JournalFilter {
  /** Path prefix. */
  path?: string | undefined
  /** Exact status, or a class such as `5xx`. */
  status?: string | undefined
  /** Only entries with a fault. */
  faulted?: boolean | undefined
  limit?: number | undefined
}

type Listener = (entry: JournalEntry) => void

/** The journal of every account. */
export class RequestJournal {
  private readonly rings = new Map<number, JournalEntry[]>()
  private readonly listeners = new Map<number, Set<Listener>>()
  private nextId = 1

  constructor(readonly capacity = 500) {}

  record(entry: Omit<JournalEntry, 'id'>): JournalEntry {
    const full: JournalEntry = { ...entry, id: this.nextId++ }
    let ring = this.rings.get(entry.accountId)
    if (!ring) this.rings.set(entry.accountId, (ring = []))
    ring.push(full)
    if (ring.length > this.capacity) ring.splice(0, ring.length - this.capacity)
    for (const listener of this.listeners.get(entry.accountId) ?? []) listener(full)
    return full
  }

  /** Newest first. */
  list(accountId: number, filter: JournalFilter = {}): JournalEntry[] {
    const ring = this.rings.get(accountId) ?? []
    const out: JournalEntry[] = []
    for (let i = ring.length - 1; i >= 0 && out.length < (filter.limit ?? this.capacity); i--) {
      const entry = ring[i] as JournalEntry
      if (matches(entry, filter)) out.push(entry)
    }
    return out
  }

  /** Empties one account's journal (a reset keeps it: it records the reset itself). */
  clear(accountId: number): void {
    this.rings.delete(accountId)
  }

  /** Calls `listener` with each new entry of the account; returns the unsubscribe function. */
  subscribe(accountId: number, listener: Listener): () => void {
    let set = this.listeners.get(accountId)
    if (!set) this.listeners.set(accountId, (set = new Set()))
    set.add(listener)
    return () => set.delete(listener)
  }
}

/** Whether an entry passes a filter (also used for the live stream). */
export function matches(entry: JournalEntry, filter: JournalFilter): boolean {
  if (filter.path !== undefined && !entry.path.startsWith(filter.path)) return false
  if (filter.faulted === true && entry.fault === null) return false
  if (filter.status !== undefined) {
    const s = filter.status
    if (/^[1-5]xx$/i.test(s)) {
      if (Math.floor(entry.status / 100) !== Number(s[0])) return false
    } else if (String(entry.status) !== s) return false
  }
  return true
}
