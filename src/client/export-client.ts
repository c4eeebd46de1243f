/**
 * The export client: pages through the five incremental export streams of a chat-export server or
 * of Zendesk itself. Runs wherever `fetch` exists (Node, Deno, Bun, browsers): no Node imports.
 *
 * It follows `next_page` verbatim, stops when a page is short (`count < limit`, semantics.md §2)
 * unless asked to follow, retries 429 / 5xx / network failures with backoff (Retry-After as a
 * floor) and never retries other 4xx. The loop itself is the state machine in pager-machine.ts.
 *
 * @example
 * ```ts
 * const client = new ExportClient({ baseUrl: 'https://acme.zendesk.com/api/v2/chat', token })
 * for await (const chat of client.items('chats', { startTime: new Date('2024-01-01') })) {
 *   console.log(chat.id)
 * }
 * ```
 * @module
 */
import { ITEM_LINES, prefers } from '../domain/prefer.js'
import { formatMicrosAsDecimalSeconds, parseDecimalSecondsToMicros } from '../domain/time.js'
import type { BackoffOptions } from './backoff.js'
import { DEFAULT_BACKOFF, parseRetryAfterMs } from './backoff.js'
import {
  ExportHttpError,
  ExportNetworkError,
  ExportProtocolError,
  InvalidClientOptionsError,
  InvalidCursorError,
  isRetryableStatus,
  redactUrl,
} from './errors.js'
import type { ExportCursor, ExportItem, ExportPage, ParsePageOptions } from './export-page.js'
import type { PageItem } from './items.js'
import {
  DamagedPageError,
  isHttpUrl,
  parseExportCursor,
  parsePageBody,
  peekNextPage,
} from './export-page.js'
import type { ExportStream } from './export-streams.js'
import { DEFAULT_FIELDS, STREAM_TIME_UNIT, isExportStream } from './export-streams.js'
import type { PagerConfig, PagerEvent, PagerState } from './pager-machine.js'
import { transition } from './pager-machine.js'
import type { Sleep } from './sleep.js'
import { abortReason, abortableSleep, anySignal } from './sleep.js'

/**
 * What the client reads of a response. A `Response` has all of it, so any `fetch` fits; a
 * transport of its own (the sync's node:http one) need not build a full `Response`.
 */
export interface FetchResponse {
  readonly status: number
  readonly headers: { get(name: string): string | null }
  /** The whole body (decompressed). */
  arrayBuffer(): Promise<ArrayBuffer>
  /** Cancelled when the request is aborted while the body is still arriving. */
  readonly body?: { cancel(): Promise<void> } | null
}

/** The `fetch` the client calls: the global one by default. */
export type FetchLike = (input: string, init: RequestInit) => Promise<FetchResponse>

/** What `onRetry` is told before each wait. */
export interface RetryInfo {
  stream: ExportStream
  /** The URL that failed and will be retried (credentials removed). */
  url: string
  /** 1 for the first retry of this URL. */
  retry: number
  /** How long the client waits before retrying. */
  delayMs: number
  reason: 'rate-limited' | 'server-error' | 'network'
  /** The HTTP status, when there was a response. */
  status?: number
  error: unknown
}

export interface ExportClientOptions {
  /**
   * The API root, e.g. `https://acme.zendesk.com/api/v2/chat`, `http://127.0.0.1:8080/api/v2/chat`
   * or the legacy `https://www.zopim.com/api/v2`. A bare origin (`http://127.0.0.1:8080`) gets
   * `/api/v2/chat` appended.
   */
  baseUrl: string
  /** OAuth / API token, sent as `Authorization: Bearer <token>`. */
  token: string
  /** Injected fetch (tests, proxies, custom agents). Default: `globalThis.fetch`. */
  fetch?: FetchLike
  /**
   * Ask for compressed pages (`Accept-Encoding: br, gzip`; default true). Only with the runtime's
   * own fetch, which decompresses them (Node's does; browsers set the header themselves): a
   * custom `fetch` is sent no such header, since it may hand the compressed bytes back as they are.
   */
  compression?: boolean
  /** Items per page, 1..1000 (default 1000, the server's maximum). */
  limit?: number
  /** Retries per URL before giving up (default 10). 0 disables retrying. */
  maxRetries?: number
  backoff?: Partial<BackoffOptions>
  /** Aborts every request and wait of this client. */
  signal?: AbortSignal
  /** Called before each retry wait (for logging or progress). */
  onRetry?: (info: RetryInfo) => void
  /** A request that has not delivered its whole body after this long is retried (default 60 s). */
  requestTimeoutMs?: number
  /** Injected wait (default: an abortable timer). */
  sleep?: Sleep
  /** Injected randomness for jitter, a float in [0, 1) (default Math.random). */
  random?: () => number
  /** Injected wall clock in ms, for HTTP-date Retry-After (default Date.now). */
  now?: () => number
}

/**
 * Where a stream starts when there is no cursor: a Date, epoch **seconds** as a number (a fraction
 * is allowed and kept to the microsecond), or exact epoch microseconds.
 */
export type StartTime = Date | number | { epochMicros: number }

export interface PagesOptions {
  /** Resume here (a cursor from a previous page); wins over `startTime`. */
  cursor?: ExportCursor | string
  /** Where to start without a cursor (default: the beginning, start_time=0). */
  startTime?: StartTime
  /** `fields` for chats/conversions (default `chats(*)` / `conversions(*)`). */
  fields?: string
  signal?: AbortSignal
  /** Keep polling after catching up instead of ending the iteration. */
  follow?: boolean
  /** Wait between polls once caught up (follow only; default 30 s). */
  intervalMs?: number
  /**
   * Hand out each item's JSON text as the server sent it (`page.rawItems`), found without parsing
   * it; `page.items` is then parsed only when read. For code that stores items as JSON.
   */
  rawItems?: boolean
  /** With `rawItems`: top-level attributes whose raw text each raw item carries (default `id`). */
  rawAttributes?: readonly string[]
}

const DEFAULT_LIMIT = 1000
const MAX_LIMIT = 1000
const DEFAULT_MAX_RETRIES = 10
const DEFAULT_REQUEST_TIMEOUT_MS = 60_000
const DEFAULT_INTERVAL_MS = 30_000
/** 10^11 s is the year 5138: a larger "seconds" value is milliseconds or microseconds by mistake. */
const MAX_PLAUSIBLE_SECONDS = 1e11

/** The client. One instance can serve any number of concurrent iterations. */
export class ExportClient {
  readonly baseUrl: string
  private readonly token: string
  private readonly fetchFn: FetchLike
  private readonly requestHeaders: Record<string, string>
  private readonly limit: number
  private readonly maxRetries: number
  private readonly backoff: BackoffOptions
  private readonly signal: AbortSignal | undefined
  private readonly onRetry: ((info: RetryInfo) => void) | undefined
  private readonly requestTimeoutMs: number
  private readonly sleep: Sleep
  private readonly random: () => number
  private readonly now: () => number

  constructor(options: ExportClientOptions) {
    this.baseUrl = normaliseBaseUrl(options.baseUrl)
    if (typeof options.token !== 'string' || options.token.trim() === '') {
      throw new InvalidClientOptionsError(
        'token: an API token is required (sent as a Bearer token).',
      )
    }
    this.token = options.token
    const fetchFn: unknown = options.fetch ?? globalThis.fetch
    if (typeof fetchFn !== 'function') {
      throw new InvalidClientOptionsError(
        'fetch: this runtime has no global fetch; pass one in the options.',
      )
    }
    // Called unbound, the global fetch of some runtimes throws "Illegal invocation".
    this.fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
    // Node's fetch offers only `gzip, deflate` over plain http, and gzip costs the server 3x the
    // CPU of brotli for a page: name brotli first. Without compression, say `identity`: left
    // unsaid, Node's fetch would offer gzip on its own (browsers ignore the header either way).
    this.requestHeaders = {
      Authorization: `Bearer ${this.token}`,
      Accept: 'application/json',
      ...(options.fetch === undefined
        ? { 'Accept-Encoding': options.compression === false ? 'identity' : 'br, gzip' }
        : {}),
    }
    this.limit = integerOption('limit', options.limit ?? DEFAULT_LIMIT, 1, MAX_LIMIT)
    this.maxRetries = integerOption(
      'maxRetries',
      options.maxRetries ?? DEFAULT_MAX_RETRIES,
      0,
      1000,
    )
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff }
    if (!(
      this.backoff.initialMs > 0 &&
      this.backoff.maxMs >= this.backoff.initialMs &&
      this.backoff.multiplier >= 1
    )) {
      throw new InvalidClientOptionsError(
        'backoff: expected initialMs > 0, maxMs >= initialMs and multiplier >= 1.',
      )
    }
    this.signal = options.signal
    this.onRetry = options.onRetry
    this.requestTimeoutMs = integerOption(
      'requestTimeoutMs',
      options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      1,
      Number.MAX_SAFE_INTEGER,
    )
    this.sleep = options.sleep ?? abortableSleep
    this.random = options.random ?? Math.random
    this.now = options.now ?? Date.now
  }

  /**
   * The URL of the first page of `stream` (what `pages` requests when there is no cursor).
   * Exposed for logging and tests.
   */
  firstPageUrl(
    stream: ExportStream,
    options: Pick<PagesOptions, 'startTime' | 'fields'> = {},
  ): string {
    assertStream(stream)
    const params = new URLSearchParams()
    const fields = options.fields ?? DEFAULT_FIELDS[stream]
    if (fields !== undefined) params.set('fields', fields)
    params.set('limit', String(this.limit))
    params.set('start_time', formatStartTime(stream, options.startTime))
    return `${this.baseUrl}/incremental/${stream}?${params.toString()}`
  }

  /**
   * The pages of `stream`, from `cursor` (or `startTime`) until caught up — or forever with
   * `follow`. Each page carries the cursor that resumes after it. Throws ExportHttpError,
   * ExportNetworkError, ExportProtocolError, or the abort reason when aborted.
   */
  pages<S extends ExportStream>(
    stream: S,
    options?: PagesOptions & { fields?: undefined },
  ): AsyncGenerator<ExportPage<PageItem<S>>, void, undefined>
  pages(stream: ExportStream, options?: PagesOptions): AsyncGenerator<ExportPage, void, undefined>
  async *pages(
    stream: ExportStream,
    options: PagesOptions = {},
  ): AsyncGenerator<ExportPage, void, undefined> {
    assertStream(stream)
    const startUrl = this.startUrl(stream, options)
    const intervalMs = integerOption(
      'intervalMs',
      options.intervalMs ?? DEFAULT_INTERVAL_MS,
      0,
      Number.MAX_SAFE_INTEGER,
    )
    const config: PagerConfig = {
      maxRetries: this.maxRetries,
      follow: options.follow ?? false,
      backoff: this.backoff,
      random: this.random,
    }
    const parseOptions: ParsePageOptions =
      options.rawItems === true ? { rawAttributes: options.rawAttributes ?? ['id'] } : {}
    // Raw items are found fastest when each is on a line of its own: ask a chat-export server for
    // that layout (any other server ignores the preference, and the page is scanned as before).
    const headers =
      options.rawItems === true
        ? { ...this.requestHeaders, Prefer: ITEM_LINES }
        : this.requestHeaders
    const { signal, dispose } = anySignal([this.signal, options.signal])
    let state: PagerState = transition({ kind: 'idle', url: startUrl }, { type: 'start' }, config)
    // The request for the page after a full one, sent as soon as that page's tail names it, so the
    // server builds it while this page's items are scanned and handed out (see `requestAhead`).
    let ahead: RequestAhead | undefined
    const dropAhead = () => {
      ahead?.stop.abort()
      ahead = undefined
    }
    const requestAhead = (next: string | undefined, current: string) => {
      if (next === undefined || next === current) return
      const stop = new AbortController()
      const linked = anySignal([signal, stop.signal])
      const fetched = this.request(next, linked.signal, headers)
      void fetched.finally(() => linked.dispose())
      ahead = { url: next, fetched, stop }
    }
    try {
      for (;;) {
        switch (state.kind) {
          case 'idle':
            // `start` always leaves idle; reaching this is a bug in the table.
            throw new Error('pager left in idle state')
          case 'fetching': {
            let fetched: Promise<Fetched>
            if (ahead !== undefined && ahead.url === state.url && state.retry === 0) {
              fetched = ahead.fetched
              ahead = undefined
            } else {
              dropAhead()
              fetched = this.request(state.url, signal, headers)
            }
            const url = state.url
            const outcome = this.interpret(
              stream,
              url,
              state.retry,
              await fetched,
              signal,
              parseOptions,
              (next) => requestAhead(next, url),
            )
            if (outcome.type === 'page') {
              state = transition(
                state,
                { type: 'page', nextPage: outcome.page.nextPage, caughtUp: outcome.page.caughtUp },
                config,
              )
              yield outcome.page
            } else {
              state = transition(state, outcome, config)
            }
            break
          }
          case 'backing-off': {
            this.onRetry?.(this.retryInfo(stream, state))
            state = await this.wait(state, state.delayMs, signal, config)
            break
          }
          case 'caught-up':
            state = await this.wait(state, intervalMs, signal, config)
            break
          case 'done':
            return
          case 'failed':
            throw state.error
        }
      }
    } finally {
      dropAhead()
      dispose()
    }
  }

  /** The items of `stream`, page after page (see `pages`). */
  items<S extends ExportStream>(
    stream: S,
    options?: PagesOptions & { fields?: undefined },
  ): AsyncGenerator<PageItem<S>, void, undefined>
  items(stream: ExportStream, options?: PagesOptions): AsyncGenerator<ExportItem, void, undefined>
  async *items(
    stream: ExportStream,
    options: PagesOptions = {},
  ): AsyncGenerator<ExportItem, void, undefined> {
    for await (const page of this.pages(stream, options)) yield* page.items
  }

  private startUrl(stream: ExportStream, options: PagesOptions): string {
    if (options.cursor === undefined) return this.firstPageUrl(stream, options)
    const cursor = parseExportCursor(options.cursor)
    if (cursor.stream !== stream) {
      throw new InvalidCursorError(
        `The cursor belongs to stream "${cursor.stream}", not "${stream}"; keep one cursor per stream.`,
      )
    }
    return cursor.nextPage
  }

  private async wait(
    state: PagerState,
    ms: number,
    signal: AbortSignal,
    config: PagerConfig,
  ): Promise<PagerState> {
    try {
      await this.sleep(ms, signal)
    } catch (error) {
      if (signal.aborted)
        return transition(state, { type: 'abort', reason: abortReason(signal) }, config)
      throw error
    }
    if (signal.aborted)
      return transition(state, { type: 'abort', reason: abortReason(signal) }, config)
    return transition(state, { type: 'wake' }, config)
  }

  private retryInfo(
    stream: ExportStream,
    state: Extract<PagerState, { kind: 'backing-off' }>,
  ): RetryInfo {
    const base = {
      stream,
      url: redactUrl(state.url),
      retry: state.retry,
      delayMs: state.delayMs,
      error: state.error,
    }
    if (state.error instanceof ExportHttpError) {
      const reason = state.error.status === 429 ? 'rate-limited' : 'server-error'
      return { ...base, reason, status: state.error.status }
    }
    return { ...base, reason: 'network' }
  }

  /**
   * One GET of `url` with its whole body, or why there is none. Never throws: what went wrong is
   * judged by `interpret`, when (and if) the page is wanted.
   */
  private async request(
    url: string,
    signal: AbortSignal,
    headers: Record<string, string>,
  ): Promise<Fetched> {
    if (signal.aborted) return { type: 'aborted' }
    const timeout = new AbortController()
    const timer = setTimeout(() => timeout.abort(new Error('timeout')), this.requestTimeoutMs)
    const request = anySignal([signal, timeout.signal])
    const failed = (what: string, cause: unknown): Fetched =>
      signal.aborted
        ? { type: 'aborted' }
        : { type: 'failed', what, cause, timedOut: timeout.signal.aborted }
    try {
      let response: FetchResponse
      try {
        response = await this.fetchFn(url, {
          method: 'GET',
          headers,
          signal: request.signal,
        })
      } catch (cause) {
        return failed('Could not reach', cause)
      }
      try {
        return { type: 'response', response, body: await untilAborted(response, request.signal) }
      } catch (cause) {
        return failed('The response was cut off from', cause)
      }
    } finally {
      clearTimeout(timer)
      request.dispose()
    }
  }

  /**
   * What a request brought: a page, or the event that describes why there is none. `onNext` is
   * told the next page's URL when the tail of a full page names it, before the items are scanned.
   */
  private interpret(
    stream: ExportStream,
    url: string,
    retry: number,
    fetched: Fetched,
    signal: AbortSignal,
    parseOptions: ParsePageOptions,
    onNext: (next: string | undefined) => void,
  ): { type: 'page'; page: ExportPage } | Exclude<PagerEvent, { type: 'page' }> {
    const redacted = redactUrl(url)
    const attempts = retry + 1
    if (fetched.type === 'aborted' || signal.aborted)
      return { type: 'abort', reason: abortReason(signal) }
    const networkFailure = (what: string, cause: unknown) => {
      const message =
        fetched.type === 'failed' && fetched.timedOut
          ? `No complete response from ${redacted} within ${this.requestTimeoutMs} ms.`
          : `${what} ${redacted}: ${cause instanceof Error ? cause.message : String(cause)}.`
      const error = new ExportNetworkError(message, redacted, attempts, { cause })
      return { type: 'retryable-error' as const, error }
    }
    if (fetched.type === 'failed') return networkFailure(fetched.what, fetched.cause)
    const { response, body } = fetched
    if (response.status >= 200 && response.status < 300) {
      onNext(peekNextPage(stream, body, limitOf(url)))
      let page: ExportPage
      try {
        const itemLines = prefers(response.headers.get('preference-applied'), ITEM_LINES)
        page = parsePageBody(stream, body, limitOf(url), redacted, { ...parseOptions, itemLines })
      } catch (cause) {
        if (cause instanceof SyntaxError)
          return networkFailure('The body is not complete JSON from', cause)
        if (cause instanceof DamagedPageError)
          return networkFailure('The page is damaged from', cause)
        return { type: 'fatal-error', error: cause }
      }
      if (!isHttpUrl(page.nextPage)) {
        return {
          type: 'fatal-error',
          error: new ExportProtocolError(`next_page is not an http(s) URL.`, redacted),
        }
      }
      // A server that hands out the same URL with items again would make every client loop
      // forever (clients.md §4: zenpy #489, dlt #629); refuse instead of repeating items.
      if (page.count > 0 && page.nextPage === url) {
        return {
          type: 'fatal-error',
          error: new ExportProtocolError(
            `The server returned ${page.count} items and a next_page equal to the request URL ${redacted}; following it would repeat them forever.`,
            redacted,
          ),
        }
      }
      return { type: 'page', page }
    }
    const retryAfterMs = parseRetryAfterMs(response.headers.get('retry-after'), this.now())
    const { error: reason, description } = errorFields(new TextDecoder().decode(body))
    const error = new ExportHttpError({
      status: response.status,
      error: reason,
      description,
      url: redacted,
      retryAfterMs,
      attempts,
    })
    if (!isRetryableStatus(response.status)) return { type: 'fatal-error', error }
    return { type: 'retryable-error', error, retryAfterMs }
  }
}

/** What one request brought (see `ExportClient.request`). */
type Fetched =
  | { type: 'response'; response: FetchResponse; body: Uint8Array }
  | { type: 'failed'; what: string; cause: unknown; timedOut: boolean }
  | { type: 'aborted' }

/** A request sent ahead for the page after a full one, and how to call it off. */
interface RequestAhead {
  url: string
  fetched: Promise<Fetched>
  stop: AbortController
}

function assertStream(stream: string): asserts stream is ExportStream {
  if (!isExportStream(stream)) {
    throw new InvalidClientOptionsError(
      `stream: unknown stream "${stream}"; use chats, conversions, department_events, agent_timeline or agent_events.`,
    )
  }
}

function integerOption(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidClientOptionsError(
      `${name}: expected an integer from ${min} to ${max}, got ${value}.`,
    )
  }
  return value
}

/** Validates the base URL and drops a trailing slash; a bare origin gets `/api/v2/chat`. */
function normaliseBaseUrl(baseUrl: string): string {
  if (typeof baseUrl !== 'string' || !isHttpUrl(baseUrl)) {
    throw new InvalidClientOptionsError(
      `baseUrl: expected an http(s) URL such as https://acme.zendesk.com/api/v2/chat, got ${JSON.stringify(redactUrl(String(baseUrl)))}.`,
    )
  }
  const url = new URL(baseUrl)
  if (url.username !== '' || url.password !== '') {
    throw new InvalidClientOptionsError(
      'baseUrl: must not contain credentials; pass the token option.',
    )
  }
  if (url.search !== '' || url.hash !== '') {
    throw new InvalidClientOptionsError('baseUrl: must not have a query or fragment.')
  }
  const path = url.pathname.replace(/\/+$/, '')
  return `${url.origin}${path === '' ? '/api/v2/chat' : path}`
}

/** The `limit` the server applies to `url` (absent ⇒ the server default 1000; clamped). */
function limitOf(url: string): number {
  const text = new URL(url).searchParams.get('limit')
  if (text === null || !/^\d+$/.test(text)) return DEFAULT_LIMIT
  return Math.min(MAX_LIMIT, Math.max(1, Number(text)))
}

/**
 * `start_time` in the stream's unit: decimal seconds exact to the microsecond, or integer
 * microseconds for agent_timeline (semantics.md §1).
 */
function formatStartTime(stream: ExportStream, startTime: StartTime | undefined): string {
  const micros = startTimeMicros(startTime)
  return STREAM_TIME_UNIT[stream] === 'microseconds'
    ? String(micros)
    : formatMicrosAsDecimalSeconds(micros)
}

function startTimeMicros(startTime: StartTime | undefined): number {
  if (startTime === undefined) return 0
  let micros: number
  if (startTime instanceof Date) {
    micros = startTime.getTime() * 1000
  } else if (typeof startTime === 'number') {
    if (!Number.isFinite(startTime) || startTime > MAX_PLAUSIBLE_SECONDS) {
      throw new InvalidClientOptionsError(
        `startTime: ${startTime} is not epoch seconds (too large: milliseconds or microseconds?). Pass seconds, a Date, or { epochMicros }.`,
      )
    }
    // Through the shortest decimal text of the number, so 1608615725.123456 stays ...123456 µs.
    micros = parseDecimalSecondsToMicros(String(startTime)) ?? Math.round(startTime * 1_000_000)
  } else {
    micros = startTime.epochMicros
  }
  if (!Number.isSafeInteger(micros) || micros < 0) {
    throw new InvalidClientOptionsError(
      `startTime: must be at or after 1970-01-01T00:00:00Z, got ${String(micros)} µs.`,
    )
  }
  return micros
}

/**
 * The response's bytes, or a rejection as soon as `signal` aborts. Runtimes do not all end a body
 * read on abort: Node's fetch, decoding a compressed body, can leave the read pending forever,
 * which would hold a stopped sync (or an expired request timeout) until the process is killed.
 * Bytes, not text: a page read for its raw items is never decoded as a whole (export-page.ts).
 */
function untilAborted(response: FetchResponse, signal: AbortSignal): Promise<Uint8Array> {
  if (signal.aborted) return Promise.reject(abortReason(signal))
  return new Promise<Uint8Array>((resolve, reject) => {
    const onAbort = () => {
      response.body?.cancel().catch(() => {})
      reject(abortReason(signal))
    }
    signal.addEventListener('abort', onAbort, { once: true })
    response.arrayBuffer().then(
      (buffer) => {
        signal.removeEventListener('abort', onAbort)
        resolve(new Uint8Array(buffer))
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error instanceof Error ? error : new Error(String(error)))
      },
    )
  })
}

/** `error` and `description` of an error body, when it is the Chat API's JSON shape. */
function errorFields(body: string): { error: string | undefined; description: string | undefined } {
  try {
    const data = JSON.parse(body) as unknown
    if (typeof data === 'object' && data !== null) {
      const { error, description } = data as { error?: unknown; description?: unknown }
      return {
        error: typeof error === 'string' ? error : undefined,
        description: typeof description === 'string' ? description : undefined,
      }
    }
  } catch {
    // Not JSON (a proxy's HTML page): the status alone has to do.
  }
  return { error: undefined, description: undefined }
}
