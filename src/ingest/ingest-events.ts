/**
 * Live ingest: a batch of events is validated, folded into the exported objects and written in ONE
 * store transaction with one position, then acknowledged. All or nothing: a bad event rejects the
 * batch and nothing is written. Idempotent: an event id already applied is skipped, so a retried
 * batch changes nothing.
 * @module
 */
import type { Clock } from '../domain/clock.js'
import { AppError } from '../domain/errors.js'
import type { IngestEvent } from '../domain/events.js'
import { ingestEventSchema } from '../domain/events.js'
import type {
  FoldOutput,
  FoldStateAccess,
  FoldStateKind,
  VisitorChats,
} from '../domain/fold/index.js'
import { FOLD_STATE, foldEvent } from '../domain/fold/index.js'
import type { StreamName } from '../domain/streams.js'
import { renderChat, streamSpec, timelineKey, timelineSortId } from '../domain/streams.js'
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

/**
 * How far ahead of the server's clock an event's timestamp may be. Generous enough for clock skew
 * and an accelerated simulation winding down; small enough to catch local time sent as UTC.
 */
export const MAX_FUTURE_MICROS = 15 * 60_000_000

export interface EventTimeLimits {
  /** The server's time; without it timestamps are not checked against the clock. */
  now?: number
  maxFutureMicros?: number
}

/** Validates a batch; throws INVALID_EVENT listing every invalid event by index. */
export function validateEvents(raw: unknown[], limits: EventTimeLimits = {}): IngestEvent[] {
  const events: IngestEvent[] = []
  const problems: EventProblem[] = []
  const latest = limits.now === undefined ? Infinity : limits.now + (limits.maxFutureMicros ?? 0)
  raw.forEach((item, index) => {
    const parsed = ingestEventSchema.safeParse(item)
    if (parsed.success && (parseIso(parsed.data.timestamp) ?? 0) > latest) {
      // A sender whose clock runs ahead (often local time sent as UTC) would stamp data later than
      // anything committed after it; clients that resume from an item's own time would skip items.
      problems.push({
        index,
        id: parsed.data.id,
        code: 'timestamp_in_future',
        message: `timestamp ${parsed.data.timestamp} is more than ${Math.round((limits.maxFutureMicros ?? 0) / 60e6)} minutes in the future: check the sender's clock and that it sends UTC`,
      })
    } else if (parsed.success) {
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

  /**
   * Loads, in one bulk read per kind, the chats and state entries the batch's events are going to
   * ask for, so folding finds them cached instead of reading them one by one. Keys that have no
   * row are cached as absent. A hint only: whatever it misses is read when folding asks for it.
   */
  async prefetch(hints: ReadHints): Promise<void> {
    const chatIds = [...hints.chats].filter((id) => !this.chats.has(id))
    if (chatIds.length > 0) {
      const found = await this.tx.getItems('chats', chatIds)
      for (const id of chatIds) {
        const text = found.get(id)
        this.chats.set(id, text === undefined ? undefined : JSON.parse(text))
      }
    }
    for (const [kind, keys] of hints.states) {
      const wanted = [...keys].filter((key) => !this.state.has(`${kind}\u0000${key}`))
      if (wanted.length === 0) continue
      const found = await this.tx.getStates(kind, wanted)
      for (const key of wanted) {
        const text = found.get(key)
        const value: unknown = text === undefined ? undefined : JSON.parse(text)
        this.state.set(`${kind}\u0000${key}`, { kind, key, value })
      }
    }
  }

  async flushState(): Promise<void> {
    for (const k of this.dirtyState) {
      const entry = this.state.get(k)
      if (entry) await this.tx.putState(entry.kind, entry.key, JSON.stringify(entry.value))
    }
  }
}

/** Returns the ingest function the HTTP route and the demo use. */
export function ingestService(store: Store, clock?: Clock, maxFutureMicros = MAX_FUTURE_MICROS) {
  return async function ingestEvents(accountId: number, raw: unknown[]): Promise<IngestResult> {
    const events = validateEvents(raw, clock ? { now: clock.now(), maxFutureMicros } : {})
    return applyEvents(store, accountId, events)
  }
}

/**
 * Folds validated events into the account's streams in one transaction. Only `store.write` is
 * used: a seeded reset passes a writer that runs each batch inside the transaction it holds.
 */
export async function applyEvents(
  store: Pick<Store, 'write'>,
  accountId: number,
  events: IngestEvent[],
): Promise<IngestResult> {
  if (events.length === 0) return { accepted: 0, duplicates: 0, position: null }
  return store.write(accountId, async (tx) => {
    // Every event id is recorded up front, in one statement: the same answers as marking each
    // event just before folding it, since a failing event rolls the whole batch back anyway.
    const fresh = await tx.markEvents(events.map((event) => event.id))
    const access = new TxFoldState(tx)
    const applied = events.filter((_, index) => fresh[index] === true)
    await access.prefetch(readHints(applied))
    // The visitors' chat lists are loaded now: the chats conversions may be attributed to.
    await access.prefetch(await attributionHints(applied, access))
    const others: Array<{ stream: StreamName; key: string; sortId: string; body: string }> = []
    let accepted = 0
    let duplicates = 0
    for (let index = 0; index < events.length; index++) {
      const event = events[index] as IngestEvent
      if (fresh[index] !== true) {
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
      await tx.putItem('chats', { key: id, sortId: id, position, ...renderChat(chat, position) })
    }
    let offset = 0
    for (const item of others) {
      await tx.putItem(item.stream, {
        key: item.key,
        sortId: item.sortId,
        position: streamSpec(item.stream).positionPerItem ? position + offset++ : position,
        body: item.body,
      })
    }
    return { accepted, duplicates, position: accepted > 0 ? formatIso(position) : null }
  })
}

/** The chats and state entries (by kind) a batch's events will read first. */
interface ReadHints {
  chats: Set<string>
  states: Map<FoldStateKind, Set<string>>
}

/**
 * What folding `events` reads, as far as the events themselves name it (see foldEvent): each
 * chat event's chat and private state, the directory entries of its agent and department, the
 * agent state an engagement changes, the visitor a new chat is indexed under, a conversion's goal
 * and visitor, a department's queue state. The chats a conversion may be attributed to come
 * from its visitor's entry ({@link attributionHints}); what folding finds only on the way (the
 * agents whose engagement a chat's end closes) is read then.
 */
function readHints(events: readonly IngestEvent[]): ReadHints {
  const hints: ReadHints = { chats: new Set(), states: new Map() }
  const want = (kind: FoldStateKind, key: string) => {
    let keys = hints.states.get(kind)
    if (keys === undefined) hints.states.set(kind, (keys = new Set()))
    keys.add(key)
  }
  for (const event of events) {
    switch (event.type) {
      case 'agent.upserted':
      case 'department.upserted':
      case 'goal.upserted':
        break
      case 'agent.status_changed':
        want(FOLD_STATE.agent, String(event.agent_id))
        break
      case 'department.queue_sizes':
        want(FOLD_STATE.department, String(event.department_id ?? 'null'))
        break
      case 'conversion':
        want(FOLD_STATE.directoryGoal, String(event.goal_id))
        want(FOLD_STATE.visitor, event.visitor_id)
        break
      case 'chat.started':
      case 'offline_message':
      case 'chat.member_joined':
      case 'chat.member_left':
      case 'chat.message':
      case 'chat.tags_changed':
      case 'chat.rated':
      case 'chat.commented':
      case 'chat.transferred':
      case 'chat.ended':
      case 'chat.deleted':
      case 'engagement.assigned':
      case 'engagement.accepted':
      case 'engagement.ended': {
        hints.chats.add(event.chat_id)
        want(FOLD_STATE.chat, event.chat_id)
        if ('agent_id' in event && event.agent_id !== undefined) {
          want(FOLD_STATE.directoryAgent, String(event.agent_id))
          if (event.type.startsWith('engagement.')) want(FOLD_STATE.agent, String(event.agent_id))
        }
        if ('department_id' in event && event.department_id !== null) {
          want(FOLD_STATE.directoryDepartment, String(event.department_id))
        }
        if ('visitor' in event) want(FOLD_STATE.visitor, event.visitor.id)
      }
    }
  }
  return hints
}

/**
 * The chats a batch's conversions can be attributed to, as their visitors' stored chat lists name
 * them (chats started in the same batch are among the batch's chat events already).
 */
async function attributionHints(
  events: readonly IngestEvent[],
  access: TxFoldState,
): Promise<ReadHints> {
  const hints: ReadHints = { chats: new Set(), states: new Map([[FOLD_STATE.chat, new Set()]]) }
  for (const event of events) {
    if (event.type !== 'conversion') continue
    const visitor = (await access.getState(FOLD_STATE.visitor, event.visitor_id)) as
      VisitorChats | undefined
    for (const { chatId } of visitor?.chats ?? []) {
      if (event.chat_id !== undefined && chatId !== event.chat_id) continue
      hints.chats.add(chatId)
      hints.states.get(FOLD_STATE.chat)?.add(chatId)
    }
  }
  return hints
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
