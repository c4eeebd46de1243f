/**
 * Live ingest: a batch of events is validated, folded into the exported objects and written in ONE
 * store transaction with one position, then acknowledged. All or nothing: a bad event rejects the
 * batch and nothing is written. Idempotent: an event id already applied is skipped, so a retried
 * batch changes nothing.
 * @module
 */
import { AppError } from '../domain/errors.js'
import type { IngestEvent } from '../domain/events.js'
import { ingestEventSchema } from '../domain/events.js'
import type { FoldOutput, FoldStateAccess, FoldStateKind } from '../domain/fold/index.js'
import { foldEvent } from '../domain/fold/index.js'
import type { StreamName } from '../domain/streams.js'
import { timelineKey, timelineSortId } from '../domain/streams.js'
import { formatIso, parseIso } from '../domain/time.js'
import type { Store, WriteTx } from '../store/store.js'

/** Most per-event problems reported at once. */
const MAX_REPORTED = 50

export interface IngestResult {
  accepted: number
  duplicates: number
  /** The position of this batch's changes (ISO, microseconds). */
  position: string | null
}

export interface EventProblem {
  index: number
  id: string | null
  code: string
  message: string
}

/** Validates a batch; throws INVALID_EVENT listing every invalid event by index. */
export function validateEvents(raw: unknown[]): IngestEvent[] {
  const events: IngestEvent[] = []
  const problems: EventProblem[] = []
  raw.forEach((item, index) => {
    const parsed = ingestEventSchema.safeParse(item)
    if (parsed.success) {
      events.push(parsed.data)
    } else {
      const id =
        typeof (item as { id?: unknown })?.id === 'string' ? (item as { id: string }).id : null
      problems.push({
        index,
        id,
        code: 'invalid_event',
        message: parsed.error.issues
          .slice(0, 3)
          .map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`)
          .join('; '),
      })
    }
  })
  if (problems.length > 0) {
    throw new AppError(
      'INVALID_EVENT',
      `${problems.length} event(s) are invalid; nothing was applied. First: #${problems[0]?.index} ${problems[0]?.message}. See docs/events.md for every event kind.`,
      { details: problems.slice(0, MAX_REPORTED) },
    )
  }
  return events
}

/**
 * Fold state over a write transaction, cached for the batch: each chat and state entry is parsed
 * at most once and written once, at the end (all of a batch's items share its position anyway).
 */
class TxFoldState implements FoldStateAccess {
  private readonly state = new Map<string, { kind: FoldStateKind; key: string; value: unknown }>()
  private readonly dirtyState = new Set<string>()
  readonly chats = new Map<string, unknown>()
  readonly dirtyChats = new Set<string>()

  constructor(private readonly tx: WriteTx) {}

  async getState(kind: FoldStateKind, key: string): Promise<unknown> {
    const k = `${kind}\u0000${key}`
    const cached = this.state.get(k)
    if (cached) return cached.value
    const text = await this.tx.getState(kind, key)
    const value: unknown = text === undefined ? undefined : JSON.parse(text)
    this.state.set(k, { kind, key, value })
    return value
  }

  putState(kind: FoldStateKind, key: string, value: unknown): void {
    const k = `${kind}\u0000${key}`
    this.state.set(k, { kind, key, value })
    this.dirtyState.add(k)
  }

  async getChat(chatId: string): Promise<unknown> {
    if (this.chats.has(chatId)) return this.chats.get(chatId)
    const text = await this.tx.getItem('chats', chatId)
    const chat: unknown = text === undefined ? undefined : JSON.parse(text)
    this.chats.set(chatId, chat)
    return chat
  }

  setChat(chat: { id: string }): void {
    this.chats.set(chat.id, chat)
    this.dirtyChats.add(chat.id)
  }

  async flushState(): Promise<void> {
    for (const k of this.dirtyState) {
      const entry = this.state.get(k)
      if (entry) await this.tx.putState(entry.kind, entry.key, JSON.stringify(entry.value))
    }
  }
}

/** Returns the ingest function the HTTP route and the demo use. */
export function ingestService(store: Store) {
  return async function ingestEvents(accountId: number, raw: unknown[]): Promise<IngestResult> {
    const events = validateEvents(raw)
    return applyEvents(store, accountId, events)
  }
}

/** Folds validated events into the account's streams in one transaction. */
export async function applyEvents(
  store: Store,
  accountId: number,
  events: IngestEvent[],
): Promise<IngestResult> {
  if (events.length === 0) return { accepted: 0, duplicates: 0, position: null }
  return store.write(accountId, async (tx) => {
    const access = new TxFoldState(tx)
    const others: Array<{ stream: StreamName; key: string; sortId: string; body: string }> = []
    let accepted = 0
    let duplicates = 0
    for (let index = 0; index < events.length; index++) {
      const event = events[index] as IngestEvent
      if (!(await tx.markEvent(event.id))) {
        duplicates++
        continue
      }
      const result = await foldEvent(access, event, { accountId })
      if (!result.ok) {
        throw new AppError(
          'INVALID_EVENT',
          `Event #${index} (${event.id}, ${event.type}) cannot be applied: ${result.error.message}. Nothing in this batch was applied.`,
          {
            details: [
              { index, id: event.id, code: result.error.code, message: result.error.message },
            ],
          },
        )
      }
      collect(result.output, access, others)
      accepted++
    }
    await access.flushState()
    const position = tx.position
    for (const id of access.dirtyChats) {
      const chat = access.chats.get(id) as Record<string, unknown>
      // A chat's update_timestamp is its position: the moment of its last change here.
      const body = JSON.stringify({ ...chat, update_timestamp: formatIso(position) })
      await tx.putItem('chats', { key: id, sortId: id, position, body })
    }
    let spanOffset = 0
    for (const item of others) {
      // Several spans of one agent can close in one batch: each gets its own microsecond so that
      // (position, agent id) stays a unique cursor point (the store raises the clock over them).
      await tx.putItem(item.stream, {
        key: item.key,
        sortId: item.sortId,
        position: item.stream === 'agent_timeline' ? position + spanOffset++ : position,
        body: item.body,
      })
    }
    return { accepted, duplicates, position: accepted > 0 ? formatIso(position) : null }
  })
}

function collect(
  output: FoldOutput,
  access: TxFoldState,
  others: Array<{ stream: StreamName; key: string; sortId: string; body: string }>,
): void {
  for (const chat of output.chats) access.setChat(chat)
  for (const c of output.conversions) {
    others.push({ stream: 'conversions', key: c.id, sortId: c.id, body: JSON.stringify(c) })
  }
  for (const e of output.department_events) {
    others.push({ stream: 'department_events', key: e.id, sortId: e.id, body: JSON.stringify(e) })
  }
  for (const e of output.agent_events) {
    others.push({ stream: 'agent_events', key: e.id, sortId: e.id, body: JSON.stringify(e) })
  }
  for (const span of output.agent_timeline) {
    const start = parseIso(span.start_time) ?? 0
    others.push({
      stream: 'agent_timeline',
      key: timelineKey(span.agent_id, start),
      sortId: timelineSortId(span.agent_id),
      body: JSON.stringify(span),
    })
  }
}
