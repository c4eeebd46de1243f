/**
 * Delivery of event batches to a chat-export server's ingest endpoint,
 * `POST {baseUrl}/api/chat-export/v1/events`, with retries.
 *
 * Retries: 429 waits at least the server's `Retry-After`; 408, 5xx and network failures back off
 * exponentially with jitter: `max(retryAfter, min(maxDelay, base · 2^attempt · (½ … 1)))`. A retry
 * resends the very same bytes: events are idempotent by id, so a batch that was committed before
 * its answer got lost only counts as duplicates the second time. Other 4xx answers are not
 * retried: the batch or the token is wrong and will stay wrong.
 * @module
 */
import { setTimeout as delay } from 'node:timers/promises'
import { seededRandom, systemClock, type Clock, type Random } from '../domain/clock.js'
import type { IngestEvent } from '../domain/events.js'

/** Waits `ms` milliseconds; rejects when `signal` aborts. Injected so tests need not wait. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>

/** What the server reported for a batch. */
export interface SinkResult {
  accepted: number
  duplicates: number
  /** Attempts beyond the first that this batch needed. */
  retries?: number
}

/** Receives batches of events in order; resolves once the batch is durably accepted. */
export type EventSink = (events: IngestEvent[]) => Promise<void | SinkResult>

/** One retry about to happen, for progress output. */
export interface RetryInfo {
  /** HTTP status, or null for a network failure or timeout. */
  status: number | null
  /** 1 for the first retry. */
  attempt: number
  waitMs: number
  events: number
}

export interface HttpSinkOptions {
  /** Server base URL, e.g. `http://127.0.0.1:8080` (a trailing slash is fine). */
  baseUrl: string
  /** Bearer token with write scope; never logged. */
  token: string
  fetch?: typeof fetch
  clock?: Clock
  sleep?: Sleep
  /** Aborts waits between retries (a request in flight is allowed to finish). */
  signal?: AbortSignal
  /** Attempts per batch before giving up; default 10. */
  maxAttempts?: number
  /** First backoff step; default 500 ms. */
  baseDelayMs?: number
  /** Longest backoff step (Retry-After may ask for longer); default 30 s. */
  maxDelayMs?: number
  /** Per-request timeout; default 30 s. */
  requestTimeoutMs?: number
  /** Jitter source; default a fixed seed, so retry timing is reproducible. */
  random?: Random
  onRetry?: (info: RetryInfo) => void
}

/** A batch could not be delivered: the server refused it, or retries ran out. */
export class IngestDeliveryError extends Error {
  override readonly name = 'IngestDeliveryError'
  constructor(
    message: string,
    /** HTTP status of the last answer; null when the last attempt got no answer. */
    readonly status: number | null,
    /** The server's `description`, when it sent one. */
    readonly description: string | null,
    readonly url: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

/** The ingest endpoint's URL for a server base URL. */
export function ingestUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/api/chat-export/v1/events`
}

/** The default {@link Sleep}: a timer that an AbortSignal cancels. */
export const realSleep: Sleep = (ms, signal) =>
  delay(ms, undefined, signal === undefined ? {} : { signal })

/**
 * `Retry-After` in milliseconds: delta-seconds or an HTTP date (relative to `nowMs`); 0 when
 * absent or unreadable.
 */
export function parseRetryAfter(value: string | null, nowMs: number): number {
  if (value === null) return 0
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text) * 1000
  const date = Date.parse(text)
  return Number.isNaN(date) ? 0 : Math.max(0, date - nowMs)
}

function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500
}

async function readError(response: Response): Promise<{ error: string; description: string }> {
  try {
    const body = (await response.json()) as { error?: unknown; description?: unknown }
    return {
      error: typeof body.error === 'string' ? body.error : response.statusText,
      description: typeof body.description === 'string' ? body.description : '',
    }
  } catch {
    return { error: response.statusText, description: '' }
  }
}

function hint(status: number): string {
  if (status === 401) return ' Check the token (--token or CHAT_EXPORT_TOKEN).'
  if (status === 403) return ' The token needs the write scope and an owner or administrator role.'
  if (status === 404) return ' Check the server URL, and that the server has event ingest enabled.'
  return ''
}

/**
 * An {@link EventSink} that posts each batch as a JSON array with `Authorization: Bearer TOKEN`
 * and retries as described in the module comment.
 *
 * @example
 * const sink = createHttpSink({ baseUrl: 'http://127.0.0.1:8080', token })
 * await sink(events) // { accepted: 500, duplicates: 0 }
 */
export function createHttpSink(
  options: HttpSinkOptions,
): (events: IngestEvent[]) => Promise<SinkResult> {
  const url = ingestUrl(options.baseUrl)
  const doFetch = options.fetch ?? globalThis.fetch
  const clock = options.clock ?? systemClock()
  const sleep = options.sleep ?? realSleep
  const maxAttempts = options.maxAttempts ?? 10
  const baseDelayMs = options.baseDelayMs ?? 500
  const maxDelayMs = options.maxDelayMs ?? 30_000
  const timeoutMs = options.requestTimeoutMs ?? 30_000
  const random = options.random ?? seededRandom(0x5eed)

  return async function postBatch(events: IngestEvent[]): Promise<SinkResult> {
    // Serialised once: every attempt sends identical bytes.
    const body = JSON.stringify(events)
    for (let attempt = 0; ; attempt++) {
      let status: number | null = null
      let retryAfterMs = 0
      let failure: unknown
      let description: string | null = null
      try {
        const response = await doFetch(url, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${options.token}`,
            'content-type': 'application/json',
            accept: 'application/json',
          },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        })
        status = response.status
        if (response.ok) {
          const result = (await response.json().catch(() => ({}))) as Partial<SinkResult>
          return {
            accepted: typeof result.accepted === 'number' ? result.accepted : events.length,
            duplicates: typeof result.duplicates === 'number' ? result.duplicates : 0,
            retries: attempt,
          }
        }
        const err = await readError(response)
        description = err.description
        if (!retryable(status)) {
          throw new IngestDeliveryError(
            `The ingest endpoint refused a batch of ${events.length} events with ${status} ${err.error}` +
              `${err.description === '' ? '.' : `: ${err.description}`}${hint(status)}`,
            status,
            description,
            url,
          )
        }
        retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), clock.now() / 1000)
      } catch (err) {
        if (err instanceof IngestDeliveryError) throw err
        // A network failure or timeout: the batch may or may not have been committed; resending
        // is safe because events are idempotent.
        failure = err
      }
      if (attempt + 1 >= maxAttempts) {
        const what =
          status === null
            ? `no answer (${failure instanceof Error ? failure.message : String(failure)})`
            : `${status}${description ? `: ${description}` : ''}`
        throw new IngestDeliveryError(
          `Gave up delivering a batch of ${events.length} events to ${url} after ${maxAttempts} attempts; last: ${what}. Is the server up? Rerun with the same --seed and --from to resend (duplicates are ignored).`,
          status,
          description,
          url,
          failure === undefined ? undefined : { cause: failure },
        )
      }
      const step = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt)
      const waitMs = Math.ceil(Math.max(retryAfterMs, step / 2 + (random.next() * step) / 2))
      options.onRetry?.({ status, attempt: attempt + 1, waitMs, events: events.length })
      await sleep(waitMs, options.signal)
    }
  }
}
