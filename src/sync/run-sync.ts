/**
 * The sync engine: reads streams with the export client and writes them into a destination,
 * committing each page together with the cursor that follows it. A run can be killed at any
 * moment; the next run resumes from the last committed cursor, so the destination ends up equal
 * to the source with nothing lost and nothing applied twice (docs/sync.md).
 * @module
 */
import type {
  ExportClientOptions,
  ExportCursor,
  ExportItem,
  ExportPage,
  ExportStream,
  FetchLike,
  RawItem,
  StartTime,
} from '../client/index.js'
import { EXPORT_STREAMS, ExportClient } from '../client/index.js'
import { formatIso } from '../domain/time.js'
import { rawItemOfText } from '../client/raw-items.js'
import type {
  Destination,
  FaultHooks,
  PageCommit,
  PageUpsert,
  StreamSyncState,
} from './destination.js'
import type { ItemKey } from './item-key.js'
import { isDeleted, itemKey } from './item-key.js'
import { loopbackFetch } from './loopback-fetch.js'
import { openDestination } from './open-destination.js'
import type { DataType } from './postgres-destination.js'
import type { SyncEvent } from './sync-events.js'

/** What to do with items the source marks `deleted: true`. */
export type DeletedMode = 'flag' | 'remove'

export interface RunSyncOptions {
  /** API base URL, e.g. https://acme.zendesk.com/api/v2/chat or http://127.0.0.1:8080/api/v2/chat. */
  from: string
  token: string
  /** `sqlite:PATH`, `jsonl:DIR`, `postgres://…`, or an open Destination (left open afterwards). */
  to: string | Destination
  /** Default: all five streams. */
  streams?: readonly ExportStream[]
  /** Where streams without a stored cursor start (default: the beginning). */
  startTime?: StartTime
  /** Keep polling after catching up, until `signal` aborts. */
  follow?: boolean
  /** Poll interval once caught up (follow only). Default 30 s. */
  intervalMs?: number
  /** `flag` (default) keeps deleted items with their flag; `remove` deletes them. */
  deletedMode?: DeletedMode
  onProgress?: (event: SyncEvent) => void
  /** Stops the sync after the page being committed; the promise then rejects with the reason. */
  signal?: AbortSignal
  fetch?: FetchLike
  /** Further client settings (limit, retries, backoff, timeouts; injected sleep/random in tests). */
  client?: Omit<Partial<ExportClientOptions>, 'baseUrl' | 'token' | 'fetch' | 'signal' | 'onRetry'>
  /** Crash-injection points inside commits, for tests. */
  hooks?: FaultHooks
  /** SQLite / PostgreSQL: also keep the typed tables (kept from then on; docs/sync.md). */
  typedTables?: boolean
  /** PostgreSQL: the type of `data` in tables the sync creates (default jsonb; docs/sync.md). */
  postgresData?: DataType
  /** Wall clock in ms (items/s and state timestamps). Default Date.now. */
  now?: () => number
}

export interface StreamSyncResult {
  stream: ExportStream
  /** Items and pages committed by this run. */
  items: number
  pages: number
  /** The cursor the next run resumes from. */
  cursor: ExportCursor | null
}

export interface SyncResult {
  streams: StreamSyncResult[]
}

/** The stored cursor came from another server: resuming it against `from` would mix sources. */
export class SyncSourceMismatchError extends Error {
  override readonly name = 'SyncSourceMismatchError'
}

/**
 * Syncs `streams` from `from` into `to`, concurrently per stream. Resolves when every stream has
 * caught up (never, with `follow`, until aborted). Rejects with the first stream's error (the
 * others are stopped after their current commit), or with the abort reason.
 */
export async function runSync(options: RunSyncOptions): Promise<SyncResult> {
  const streams = [...new Set(options.streams ?? EXPORT_STREAMS)]
  const deletedMode = options.deletedMode ?? 'flag'
  const now = options.now ?? Date.now
  const stop = new AbortController()
  const onOuterAbort = () => stop.abort(options.signal?.reason)
  options.signal?.addEventListener('abort', onOuterAbort, { once: true })
  if (options.signal?.aborted) stop.abort(options.signal.reason)
  // Over loopback a compressed page costs both sides CPU and saves nothing: ask for it only
  // from another host (docs/sync.md, "How items travel"). An explicit setting wins.
  const compression = options.client?.compression ?? !isLoopbackUrl(options.from)
  // Uncompressed pages from this machine come through node:http (loopback-fetch.ts), unless the
  // caller brought a fetch of its own.
  const transport =
    options.fetch === undefined && !compression && isLoopbackHttpUrl(options.from)
      ? loopbackFetch()
      : undefined
  const fetch = options.fetch ?? transport?.fetch
  const client = new ExportClient({
    ...options.client,
    compression,
    baseUrl: options.from,
    token: options.token,
    ...(fetch === undefined ? {} : { fetch }),
    signal: stop.signal,
    onRetry: (info) =>
      options.onProgress?.({
        type: 'retry',
        stream: info.stream,
        retry: info.retry,
        delayMs: info.delayMs,
        reason: info.reason,
        status: info.status,
      }),
  })
  const destination =
    typeof options.to === 'string'
      ? await openDestination(options.to, {
          ...(options.hooks === undefined ? {} : { hooks: options.hooks }),
          ...(options.typedTables === true ? { typedTables: true } : {}),
          ...(options.postgresData === undefined ? {} : { postgresData: options.postgresData }),
        })
      : options.to
  try {
    const context: StreamContext = {
      client,
      destination,
      deletedMode,
      now,
      options,
      signal: stop.signal,
    }
    const tasks = streams.map((stream) =>
      syncStream(stream, context).catch((error: unknown) => {
        // One failing stream stops the others (after their current commit) and the run.
        stop.abort(error)
        throw error
      }),
    )
    const settled = await Promise.allSettled(tasks)
    if (options.signal?.aborted) throw abortError(options.signal)
    const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')
    if (failure) throw failure.reason
    return { streams: settled.map((s) => (s as PromiseFulfilledResult<StreamSyncResult>).value) }
  } finally {
    options.signal?.removeEventListener('abort', onOuterAbort)
    transport?.close()
    if (typeof options.to === 'string') await destination.close()
  }
}

interface StreamContext {
  client: ExportClient
  destination: Destination
  deletedMode: DeletedMode
  now: () => number
  options: RunSyncOptions
  signal: AbortSignal
}

async function syncStream(stream: ExportStream, context: StreamContext): Promise<StreamSyncResult> {
  const { client, destination, options, now } = context
  const source = client.baseUrl
  const stored = await destination.readState(stream)
  if (stored?.cursor && stored.source !== null && stored.source !== source) {
    throw new SyncSourceMismatchError(
      `The ${stream} cursor in ${destination.description} was recorded from ${stored.source}, not ${source}. ` +
        `Sync from the same server, or run \`chat-export sync state reset --to … --streams ${stream}\` to start over from --start-time.`,
    )
  }
  let state: StreamSyncState = stored ?? {
    stream,
    cursor: null,
    source,
    items: 0,
    pages: 0,
    endTime: null,
    updatedAt: new Date(now()).toISOString(),
  }
  options.onProgress?.({
    type: 'stream-start',
    stream,
    resumed: state.cursor !== null,
    cursorTime: state.cursor !== null && state.endTime !== null ? formatIso(state.endTime) : null,
  })
  const started = now()
  let items = 0
  let pages = 0
  const pagesOptions = {
    signal: context.signal,
    follow: options.follow ?? false,
    ...(state.cursor !== null ? { cursor: state.cursor } : {}),
    ...(state.cursor === null && options.startTime !== undefined
      ? { startTime: options.startTime }
      : {}),
    ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
    // Items are stored as the server sent them: found in the page, never parsed and re-written.
    rawItems: true,
    rawAttributes: keyAttributes(stream),
  }
  const window = new RateWindow(RATE_WINDOW_MS)
  window.add(started, 0)
  const iterator = client.pages(stream, pagesOptions)[Symbol.asyncIterator]()
  let pending = iterator.next()
  try {
    for (;;) {
      const result = await pending
      if (result.done) break
      const page = result.value
      // Fetch the next page while this one commits: the network and the destination overlap. The
      // commit order is unchanged (page N is committed before page N + 1 is even looked at).
      pending = iterator.next()
      // If the commit fails, the prefetch's own failure (if any) must not go unhandled.
      pending.catch(() => {})
      const pageItems = page.rawItems?.length ?? page.items.length
      const unchanged = pageItems === 0 && state.cursor?.nextPage === page.nextPage
      if (!unchanged) {
        const next: StreamSyncState = {
          stream,
          cursor: page.cursor,
          source,
          items: state.items + pageItems,
          pages: state.pages + 1,
          endTime: page.endTime ?? state.endTime,
          updatedAt: new Date(now()).toISOString(),
        }
        await destination.commit(buildCommit(page, next, context.deletedMode))
        state = next
        items += pageItems
        pages++
      }
      const at = now()
      window.add(at, items)
      const elapsedSeconds = Math.max((at - started) / 1000, 0.001)
      options.onProgress?.({
        type: 'page',
        stream,
        pageItems,
        items,
        pages,
        totalItems: state.items,
        itemsPerSecond: items / elapsedSeconds,
        recentItemsPerSecond: window.rate(at, items),
        cursorTime: state.endTime === null ? null : formatIso(state.endTime),
        caughtUp: page.caughtUp,
      })
    }
  } finally {
    // Close the page generator. Not awaited: after a failed commit it may still be inside the
    // prefetch (a request, a backoff wait), and the failure should be reported now.
    iterator.return?.().catch(() => {})
  }
  options.onProgress?.({ type: 'stream-done', stream, items, pages })
  return { stream, items, pages, cursor: state.cursor }
}

/** Whether `url` names this machine (localhost, 127.0.0.0/8, ::1); false for what does not parse. */
export function isLoopbackUrl(url: string): boolean {
  let host: string
  try {
    host = new URL(url).hostname.toLowerCase()
  } catch {
    return false
  }
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  )
}

/** Whether `url` is an `http:` URL of this machine (see isLoopbackUrl). */
function isLoopbackHttpUrl(url: string): boolean {
  return url.startsWith('http:') && isLoopbackUrl(url)
}

/**
 * The top-level attributes an item of `stream` is keyed by (see item-key.ts) and `deleted`, read
 * from its raw text. Only these: in the item-lines layout a line is read no further than the last
 * of them (a chat's come before its history).
 */
function keyAttributes(stream: ExportStream): readonly string[] {
  return stream === 'agent_timeline' ? SPAN_ATTRIBUTES : ID_ATTRIBUTES
}
const ID_ATTRIBUTES = ['id', 'deleted'] as const
const SPAN_ATTRIBUTES = ['agent_id', 'start_time', 'deleted'] as const

/** The span of the "recent" rate: long enough to smooth pages, short enough to show a change. */
const RATE_WINDOW_MS = 30_000

/**
 * Items per second over the last `spanMs`: the rate a `--follow` run shows, where the whole-run
 * average falls for ever once the stream has caught up.
 */
export class RateWindow {
  private readonly samples: { at: number; items: number }[] = []
  constructor(private readonly spanMs: number) {}

  /** Records that `items` items were done by time `at` (ms). */
  add(at: number, items: number): void {
    this.samples.push({ at, items })
    // Keep one sample at or before the window's start, so the rate covers the whole window.
    while (this.samples.length > 2 && (this.samples[1]?.at ?? at) <= at - this.spanMs)
      this.samples.shift()
  }

  /** Items per second over the window that ends at `at`, with `items` done by then. */
  rate(at: number, items: number): number {
    const first = this.samples[0]
    if (first === undefined) return 0
    const seconds = Math.max((at - Math.max(first.at, at - this.spanMs)) / 1000, 0.001)
    return Math.max(0, items - first.items) / seconds
  }
}

/**
 * The commit for one page. A key that appears twice on a page (not expected from a correct
 * server) keeps its last version, so the upsert batch never touches one row twice. Items are
 * committed as the JSON the server sent (`rawItems`: its bytes, undecoded), or re-written from
 * `items` for a page that has none.
 */
export function buildCommit(
  page: ExportPage,
  state: StreamSyncState,
  deletedMode: DeletedMode,
): PageCommit {
  const latest = new Map<string, Upsert>()
  const add = (upsert: Upsert) => {
    latest.delete(upsert.key.key)
    latest.set(upsert.key.key, upsert)
  }
  if (page.rawItems !== undefined) {
    for (const raw of page.rawItems) {
      add(new Upsert(rawItemKey(page.stream, raw), raw, raw.attributes.deleted === 'true'))
    }
  } else {
    for (const item of page.items) {
      const raw = rawItemOfText(JSON.stringify(item), {})
      add(new Upsert(itemKey(page.stream, item), raw, isDeleted(item)))
    }
  }
  const all = [...latest.values()]
  if (deletedMode === 'flag') return { stream: page.stream, upserts: all, removals: [], state }
  return {
    stream: page.stream,
    upserts: all.filter((u) => !u.deleted),
    removals: all.filter((u) => u.deleted).map((u) => u.key),
    state,
  }
}

/** An upsert whose JSON is the raw item's: its text is decoded only if a destination reads it. */
class Upsert implements PageUpsert {
  constructor(
    readonly key: ItemKey,
    private readonly raw: RawItem,
    public deleted: boolean,
  ) {}

  get json(): string {
    return this.raw.json
  }

  get bytes(): Uint8Array {
    return this.raw.bytes
  }
}

/** The key of a raw item, from the raw text of its key attributes only. */
function rawItemKey(stream: ExportStream, raw: RawItem): ItemKey {
  const keyed: ExportItem = {}
  for (const name of keyAttributes(stream)) {
    const text = raw.attributes[name]
    if (text !== undefined) keyed[name] = attributeValue(text)
  }
  return itemKey(stream, keyed)
}

/** The value of an attribute's raw JSON text; a string without escapes needs no parser. */
function attributeValue(text: string): unknown {
  if (text.length >= 2 && text.charCodeAt(0) === 0x22 && !text.includes('\\'))
    return text.slice(1, -1)
  return JSON.parse(text) as unknown
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason
  return reason instanceof Error ? reason : new DOMException('The sync was aborted.', 'AbortError')
}
