/**
 * Live ingest: a batch of events is validated, folded into the exported objects and written in ONE
 * store transaction (one position per item written, in order), then acknowledged. All or nothing:
 * a bad event rejects the batch and nothing is written. Idempotent: an event id already applied is
 * skipped, so a retried batch changes nothing.
 * @module
 */
import type { Clock } from '../domain/clock.js'
import { AppError } from '../domain/errors.js'
import { createdRecord, directoryChange, isDirectoryEvent } from '../domain/directory-events.js'
import type { IngestEvent } from '../domain/events.js'
import { ingestEventSchema } from '../domain/events.js'
import type {
  Chat,
  FoldOutput,
  FoldStateAccess,
  FoldStateKind,
  FoldStateValues,
  ReadPlan,
  StoredChat,
} from '../domain/fold/index.js'
import {
  attributionReadPlan,
  FOLD_STATE,
  foldEvent,
  parseFoldState,
  parseStoredChat,
  readPlan,
  serializeFoldState,
} from '../domain/fold/index.js'
import type { ItemIdentity, StreamName } from '../domain/streams.js'
import { renderChat, streamSpec } from '../domain/streams.js'
import { formatIso, parseIso } from '../domain/time.js'
import type { DirectoryWriteTx } from '../store/directory-port.js'
import type { Store, WriteTx } from '../store/store.js'
import { applyDirectoryChange } from './directory-writes.js'
import { timeSlicer } from './time-slicer.js'

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
      const problem = directoryProblem(parsed.data)
      if (problem === null) events.push(parsed.data)
      else problems.push({ index, id: parsed.data.id, code: 'invalid_resource', message: problem })
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
 * What is wrong with a directory event's record, as far as the event alone tells (a created
 * record is whole; an update is checked against the stored record when applied), or null.
 */
function directoryProblem(event: IngestEvent): string | null {
  if (!isDirectoryEvent(event)) return null
  try {
    const change = directoryChange(event)
    if (change.action === 'created') {
      createdRecord(change, { accountId: 1, at: parseIso(event.timestamp) ?? 0 })
    }
    return null
  } catch (err) {
    if (err instanceof AppError) return err.description
    throw err
  }
}

/** The event-level code of a directory write the store refused. */
const DIRECTORY_PROBLEM: Partial<Record<string, string>> = {
  INVALID_RESOURCE: 'invalid_resource',
  RESOURCE_CONFLICT: 'resource_conflict',
  RESOURCE_NOT_FOUND: 'unknown_record',
}

/** The batch's cache of one kind of fold state: absent entries are cached as undefined. */
type StateCache = { [K in FoldStateKind]: Map<string, FoldStateValues[K] | undefined> }

/**
 * Fold state over a write transaction, cached for the batch: each chat and state entry is parsed
 * at most once and written once, at the end (one version per chat and batch).
 */
class TxFoldState implements FoldStateAccess {
  private readonly state: StateCache = {
    [FOLD_STATE.chat]: new Map(),
    [FOLD_STATE.agent]: new Map(),
    [FOLD_STATE.department]: new Map(),
    [FOLD_STATE.visitor]: new Map(),
    [FOLD_STATE.directoryAgent]: new Map(),
    [FOLD_STATE.directoryDepartment]: new Map(),
    [FOLD_STATE.directoryGoal]: new Map(),
  }
  /**
   * Changed entries by kind, each in the order first written (a set per kind: folding writes
   * several entries per event, and a combined kind-and-key string cost a concatenation and its
   * hash each time).
   */
  private readonly dirtyState = new Map<FoldStateKind, Set<string>>()
  private readonly chats = new Map<string, StoredChat | undefined>()
  /** The chats folding changed, as last changed, in the order first changed. */
  readonly dirtyChats = new Map<string, Chat>()

  constructor(private readonly tx: WriteTx) {}

  // Reads answer from the batch's cache without a promise of their own: folding makes several per
  // event, nearly all of them cached by prefetch (the interface allows a plain value).
  getState<K extends FoldStateKind>(
    kind: K,
    key: string,
  ): FoldStateValues[K] | undefined | Promise<FoldStateValues[K] | undefined> {
    const cache = this.state[kind]
    const cached = cache.get(key)
    if (cached !== undefined || cache.has(key)) return cached
    return this.readState(kind, key)
  }

  private async readState<K extends FoldStateKind>(
    kind: K,
    key: string,
  ): Promise<FoldStateValues[K] | undefined> {
    const text = await this.tx.getState(kind, key)
    const value = text === undefined ? undefined : parseFoldState(kind, text)
    this.state[kind].set(key, value)
    return value
  }

  putState<K extends FoldStateKind>(kind: K, key: string, value: FoldStateValues[K]): void {
    this.state[kind].set(key, value)
    let dirty = this.dirtyState.get(kind)
    if (dirty === undefined) this.dirtyState.set(kind, (dirty = new Set()))
    dirty.add(key)
  }

  getChat(chatId: string): StoredChat | undefined | Promise<StoredChat | undefined> {
    const cached = this.chats.get(chatId)
    if (cached !== undefined || this.chats.has(chatId)) return cached
    return this.readChat(chatId)
  }

  private async readChat(chatId: string): Promise<StoredChat | undefined> {
    const text = await this.tx.getItem('chats', chatId)
    const chat = text === undefined ? undefined : parseStoredChat(text)
    this.chats.set(chatId, chat)
    return chat
  }

  setChat(chat: Chat): void {
    this.chats.set(chat.id, chat)
    this.dirtyChats.set(chat.id, chat)
  }

  /**
   * Loads, in one bulk read per stream and per kind, what folding's read plans name, so folding
   * finds it cached instead of reading entries one by one. Keys that have no row are cached as
   * absent. Whatever the plans miss is read when folding asks for it.
   */
  async prefetch(plans: readonly ReadPlan[]): Promise<void> {
    const chatIds = new Set<string>()
    const states = new Map<FoldStateKind, Set<string>>()
    for (const plan of plans) {
      for (const { key } of plan.items) if (!this.chats.has(key)) chatIds.add(key)
      for (const { kind, key } of plan.states) {
        if (this.state[kind].has(key)) continue
        let keys = states.get(kind)
        if (keys === undefined) states.set(kind, (keys = new Set()))
        keys.add(key)
      }
    }
    if (chatIds.size > 0) {
      const wanted = [...chatIds]
      const found = await this.tx.getItems('chats', wanted)
      for (const id of wanted) {
        const text = found.get(id)
        this.chats.set(id, text === undefined ? undefined : parseStoredChat(text))
      }
    }
    for (const [kind, keys] of states) await this.load(kind, [...keys])
  }

  private async load<K extends FoldStateKind>(kind: K, keys: string[]): Promise<void> {
    const found = await this.tx.getStates(kind, keys)
    const cache = this.state[kind]
    for (const key of keys) {
      const text = found.get(key)
      cache.set(key, text === undefined ? undefined : parseFoldState(kind, text))
    }
  }

  async flushState(): Promise<void> {
    for (const [kind, keys] of this.dirtyState) {
      const cache = this.state[kind]
      for (const key of keys) {
        const value = cache.get(key)
        if (value !== undefined) await this.tx.putState(kind, key, serializeFoldState(kind, value))
      }
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
  store: Pick<Store, 'write' | 'directory' | 'getAccountById'>,
  accountId: number,
  events: IngestEvent[],
): Promise<IngestResult> {
  if (events.length === 0) return { accepted: 0, duplicates: 0, position: null }
  const directory = store.directory
  if (directory === undefined && events.some(isDirectoryEvent)) {
    throw new AppError(
      'INVALID_EVENT',
      'This store keeps no REST directory, so directory events (agent.created, …) cannot be applied.',
    )
  }
  // The account record's default create_date, should the batch update an account never written.
  const accountCreatedAt = events.some((e) => e.type === 'account.updated')
    ? ((await store.getAccountById(accountId))?.createdAt ?? 0)
    : 0
  // With a directory, the batch runs in its write transaction: the directory records and the
  // export items of one batch commit (or roll back) together.
  return directory === undefined
    ? store.write(accountId, (tx) => applyEventsInTx(tx, accountId, events))
    : directory.writeDirectory(accountId, (dtx) =>
        applyEventsInTx(dtx, accountId, events, { dtx, accountCreatedAt }),
      )
}

/** Where a batch's directory events are written (absent: the batch may hold none). */
export interface DirectoryWrites {
  dtx?: DirectoryWriteTx | undefined
  /** The account record's default create_date for `account.updated`. */
  accountCreatedAt?: number
}

/**
 * {@link applyEvents} inside a write transaction the caller holds: the REST chat writes
 * (src/ingest/chat-writes.ts) fold their changes this way, with the rest of their transaction.
 */
export async function applyEventsInTx(
  tx: WriteTx,
  accountId: number,
  events: IngestEvent[],
  directoryWrites: DirectoryWrites = {},
): Promise<IngestResult> {
  const { dtx, accountCreatedAt = 0 } = directoryWrites
  // A batch of 1000 events is some tens of ms of folding and writing: other requests (reads, on
  // their own connection) go on between slices. Writes wait for the transaction as before.
  const pause = timeSlicer()
  // Every event id is recorded up front, in one statement: the same answers as marking each
  // event just before folding it, since a failing event rolls the whole batch back anyway.
  const fresh = await tx.markEvents(events.map((event) => event.id))
  const access = new TxFoldState(tx)
  const applied = events.filter((_, index) => fresh[index] === true)
  await access.prefetch(applied.map(readPlan))
  // The visitors' chat lists are loaded now: the chats conversions may be attributed to (chats
  // started in the same batch are among the batch's chat events already).
  const attributions: ReadPlan[] = []
  for (const event of applied) {
    if (event.type !== 'conversion') continue
    const visitor = await access.getState(FOLD_STATE.visitor, event.visitor_id)
    attributions.push(attributionReadPlan(event, visitor))
  }
  await access.prefetch(attributions)
  const others: Array<{ stream: StreamName; key: string; sortId: string; body: string }> = []
  let accepted = 0
  let duplicates = 0
  for (let index = 0; index < events.length; index++) {
    const event = events[index] as IngestEvent
    if (fresh[index] !== true) {
      duplicates++
      continue
    }
    if (dtx !== undefined && isDirectoryEvent(event)) {
      await applyDirectoryEvent(dtx, index, event, { accountId, accountCreatedAt })
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
    await pause()
  }
  await access.flushState()
  // One position per item (P, P + 1, …; the store raises the clock over them): a client that
  // restarts from an item's position alone sees at most that one item again (docs/positions.md).
  const position = tx.position
  let next = position
  const chats = streamSpec('chats')
  for (const chat of access.dirtyChats.values()) {
    const at = next++
    const { key, sortId } = chats.itemIds(chat)
    const { body, summary, chatIndex } = renderChat(chat, at)
    await tx.putItem('chats', { key, sortId, position: at, body, summary, chatIndex })
    await pause()
  }
  for (const item of others) {
    await tx.putItem(item.stream, {
      key: item.key,
      sortId: item.sortId,
      position: next++,
      body: item.body,
    })
    await pause()
  }
  return { accepted, duplicates, position: accepted > 0 ? formatIso(position) : null }
}

/** Writes a directory event's record; a refusal names the event, as a fold error does. */
async function applyDirectoryEvent(
  dtx: DirectoryWriteTx,
  index: number,
  event: IngestEvent,
  ctx: { accountId: number; accountCreatedAt: number },
): Promise<void> {
  if (!isDirectoryEvent(event)) return
  try {
    const change = directoryChange(event)
    await applyDirectoryChange(dtx, change, { ...ctx, at: parseIso(event.timestamp) ?? 0 })
  } catch (err) {
    const code = err instanceof AppError ? DIRECTORY_PROBLEM[err.code] : undefined
    if (code === undefined || !(err instanceof AppError)) throw err
    throw new AppError(
      'INVALID_EVENT',
      `Event #${index} (${event.id}, ${event.type}) cannot be applied: ${err.description} Nothing in this batch was applied.`,
      { details: [{ index, id: event.id, code, message: err.description }] },
    )
  }
}

function collect(
  output: FoldOutput,
  access: TxFoldState,
  others: Array<{ stream: StreamName; key: string; sortId: string; body: string }>,
): void {
  for (const chat of output.chats) access.setChat(chat)
  const add = <S extends Exclude<StreamName, 'chats'>>(
    stream: S,
    items: readonly ItemIdentity[S][],
  ) => {
    const spec = streamSpec(stream)
    for (const item of items) {
      const { key, sortId } = spec.itemIds(item)
      others.push({ stream, key, sortId, body: JSON.stringify(item) })
    }
  }
  add('conversions', output.conversions)
  add('department_events', output.department_events)
  add('agent_events', output.agent_events)
  add('agent_timeline', output.agent_timeline)
}
