/**
 * The fetch loop of one stream as an explicit state machine. `transition` is pure: the client feeds
 * it what happened (a page, an error, a timer that fired, an abort) and performs whatever the new
 * state asks for (fetch a URL, sleep, yield, throw). Every (state, event) pair has an entry in
 * TRANSITIONS, so adding a state or event without deciding each case does not compile.
 *
 * ```
 *                      start
 *        +------+ ---------------> +----------+ <----------------------------------+
 *        | idle |                  | fetching | --- full page (count == limit) ---+
 *        +------+                  +----------+     fetch next_page now, retry = 0
 *                                   |   |   |  ^
 *      429 / 5xx / network error,   |   |   |  |  wake: same URL again
 *      retries left: wait           |   |   |  |  (retry + 1)
 *      max(Retry-After, jitter)     v   |   |  |
 *                           +-------------+ |  |
 *                           | backing-off |-+--+
 *                           +-------------+ |
 *                                           |  short page (count < limit)
 *               +---------------------------+---------------------------+
 *               | follow                                                | no follow
 *               v                                                       v
 *        +-----------+   wake (poll interval elapsed):           +------+
 *        | caught-up |   fetch the polling URL, retry = 0        | done |  iteration ends
 *        +-----------+ ----------------------------------------> +------+
 *                          (back to fetching)
 *
 *   any non-terminal state --- abort / other 4xx / bad body / retries used up ---> +--------+
 *                                                                                  | failed |
 *   any non-terminal state --- stop (the consumer left the loop) --> done          +--------+
 * ```
 *
 * Invariants (checked by test/unit/client-pager-machine.test.ts):
 * - a retry always refetches the URL that failed; a page moves to its `next_page` and resets
 *   the retry count;
 * - at most `maxRetries` retries per URL; the wait is never shorter than the server's Retry-After;
 * - `done` and `failed` are terminal: no event leaves them.
 * @module
 */
import type { BackoffOptions } from './backoff.js'
import { backoffDelayMs } from './backoff.js'

export type PagerState =
  | { kind: 'idle'; url: string }
  /** `retry` is 0 for the first request of a URL, n for its n-th retry. */
  | { kind: 'fetching'; url: string; retry: number }
  /** Waiting `delayMs` before retry number `retry` of `url`. */
  | {
      kind: 'backing-off'
      url: string
      retry: number
      delayMs: number
      /** The failure being retried (for progress reporting). */
      error: unknown
    }
  /** Caught up (follow mode): waiting the poll interval before fetching the polling URL `url`. */
  | { kind: 'caught-up'; url: string }
  /** Finished: caught up without follow, or stopped by the consumer. `url` resumes it. */
  | { kind: 'done'; url: string }
  | { kind: 'failed'; url: string; error: unknown }

export type PagerStateKind = PagerState['kind']

export type PagerEvent =
  | { type: 'start' }
  /** A page arrived; `caughtUp` is `count < limit`. */
  | { type: 'page'; nextPage: string; caughtUp: boolean }
  /** 429, 5xx, a network failure or a cut-off body. */
  | { type: 'retryable-error'; error: unknown; retryAfterMs?: number | undefined }
  /** Anything retrying cannot fix: other 4xx, a body that is not an export page. */
  | { type: 'fatal-error'; error: unknown }
  /** The current wait (backoff or poll interval) is over. */
  | { type: 'wake' }
  | { type: 'abort'; reason: unknown }
  /** The consumer stopped iterating. */
  | { type: 'stop' }

export type PagerEventType = PagerEvent['type']

export interface PagerConfig {
  maxRetries: number
  follow: boolean
  backoff: BackoffOptions
  /** A float in [0, 1): full jitter. */
  random: () => number
}

type Handler<S extends PagerStateKind, E extends PagerEventType> = (
  state: Extract<PagerState, { kind: S }>,
  event: Extract<PagerEvent, { type: E }>,
  config: PagerConfig,
) => PagerState

type Table = { [S in PagerStateKind]: { [E in PagerEventType]: Handler<S, E> } }

/** The event does not apply in this state: nothing changes. */
const ignore = <S extends PagerState>(state: S): S => state

const toFailed = (state: PagerState, error: unknown): PagerState => ({
  kind: 'failed',
  url: state.url,
  error,
})

const TRANSITIONS: Table = {
  idle: {
    start: (s) => ({ kind: 'fetching', url: s.url, retry: 0 }),
    page: ignore,
    'retryable-error': ignore,
    'fatal-error': ignore,
    wake: ignore,
    abort: (s, e) => toFailed(s, e.reason),
    stop: (s) => ({ kind: 'done', url: s.url }),
  },
  fetching: {
    start: ignore,
    page: (_s, e, c) => {
      if (!e.caughtUp) return { kind: 'fetching', url: e.nextPage, retry: 0 }
      return c.follow ? { kind: 'caught-up', url: e.nextPage } : { kind: 'done', url: e.nextPage }
    },
    'retryable-error': (s, e, c) => {
      const retry = s.retry + 1
      if (retry > c.maxRetries) return toFailed(s, e.error)
      const delayMs = backoffDelayMs(retry, c.backoff, c.random, e.retryAfterMs)
      return { kind: 'backing-off', url: s.url, retry, delayMs, error: e.error }
    },
    'fatal-error': (s, e) => toFailed(s, e.error),
    wake: ignore,
    abort: (s, e) => toFailed(s, e.reason),
    stop: (s) => ({ kind: 'done', url: s.url }),
  },
  'backing-off': {
    start: ignore,
    page: ignore,
    'retryable-error': ignore,
    'fatal-error': ignore,
    wake: (s) => ({ kind: 'fetching', url: s.url, retry: s.retry }),
    abort: (s, e) => toFailed(s, e.reason),
    stop: (s) => ({ kind: 'done', url: s.url }),
  },
  'caught-up': {
    start: ignore,
    page: ignore,
    'retryable-error': ignore,
    'fatal-error': ignore,
    wake: (s) => ({ kind: 'fetching', url: s.url, retry: 0 }),
    abort: (s, e) => toFailed(s, e.reason),
    stop: (s) => ({ kind: 'done', url: s.url }),
  },
  done: {
    start: ignore,
    page: ignore,
    'retryable-error': ignore,
    'fatal-error': ignore,
    wake: ignore,
    abort: ignore,
    stop: ignore,
  },
  failed: {
    start: ignore,
    page: ignore,
    'retryable-error': ignore,
    'fatal-error': ignore,
    wake: ignore,
    abort: ignore,
    stop: ignore,
  },
}

/** The state after `event` (the same object when the event does not apply). Pure. */
export function transition(state: PagerState, event: PagerEvent, config: PagerConfig): PagerState {
  // The table is indexed by the pair; TypeScript cannot correlate the two unions, hence the cast.
  const handler = TRANSITIONS[state.kind][event.type] as (
    s: PagerState,
    e: PagerEvent,
    c: PagerConfig,
  ) => PagerState
  return handler(state, event, config)
}

/** Whether no event can leave `state`. */
export function isTerminal(state: PagerState): boolean {
  return state.kind === 'done' || state.kind === 'failed'
}
