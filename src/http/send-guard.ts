/**
 * Bounded memory for slow readers (issue 13, finding 5). Every export page is a Buffer held until
 * the kernel has taken all of it; a reader that reads slowly, or not at all, keeps it alive. The
 * guard counts those bytes over all connections and refuses a page that would push the total over
 * the bound (503 OVERLOADED with Retry-After), and drops a connection whose response makes no
 * progress for the send timeout.
 *
 * A page is refused before it is built whenever possible: `admit` reserves what the page will
 * probably take (its items times the bytes per item of that stream's recent pages) and refuses
 * when that would not fit. Its items are first taken to be its whole limit; only when that would
 * not fit does the guard ask how many items the page would really hold (an index-only count, at
 * most the limit), so a `limit=1000` request to an account of 48 chats is not refused for 1000
 * chats it does not have. Counts are kept for a second by the page's cursor: under overload the
 * same first page is asked again and again, and a count per refusal (on PostgreSQL a round
 * trip) multiplied the writers' latency by ten in the slow-readers proof.
 *
 * Refusing only once the page is built (as this guard first did) costs a whole page build per 503: measured with 200 readers of 10 MB pages, the server spent its CPU
 * building pages it threw away (`/healthz` waited over 20 s) and their garbage took RSS from
 * 190 to 520 MB.
 * @module
 */
import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Context } from 'hono'
import type { LimitsConfig } from '../config/limits-config.js'
import { AppError } from '../domain/errors.js'

/** Weight of the newest page in a stream's bytes-per-item estimate. */
const ESTIMATE_WEIGHT = 0.25

/** How long a page's item count is reused for the same cursor (ms). */
const COUNT_TTL_MS = 1000
/** Counts kept at most; beyond it all are forgotten (they live a second anyway). */
const MAX_COUNTS = 4096

/** How many items a page would really hold. */
export interface PageCount {
  /** Names the page (account, stream, cursor, limit); made only when a count is needed. */
  key(): string
  /** At most the page's limit. */
  items(): Promise<number>
}

/** Room reserved for one page between `admit` and `send` (or `release` when it is not sent). */
export interface Admission {
  /** Gives the reservation back (the page failed before it was sent); once only, then a no-op. */
  release(): void
}

export interface SendGuard {
  /** Bytes of pages built and not yet sent, plus the room reserved for pages being built. */
  readonly bytesInFlight: number
  /**
   * Reserves room for a page of `stream` with up to `limit` items before it is built; rejects
   * with OVERLOADED when that would push the bytes in flight over the bound. `count` (how many
   * items the page would really hold) is asked only when `limit` items would not fit, and its
   * answer is reused for the same key for a second. The caller must hand the admission to
   * `send`, or release it.
   */
  admit(stream: string, limit: number, count?: PageCount): Promise<Admission>
  /**
   * Sends the page's `body` as the response, counted until the connection has taken it or is
   * gone. With `encode` (the page compressed as it is sent), the stream it makes is the response,
   * made only once the page is accepted; `body` is still what is counted, since the page is held
   * until the compressor has read it.
   */
  send(
    c: Context,
    admission: Admission,
    page: { stream: string; count: number; body: Uint8Array },
    headers: Record<string, string>,
    encode?: () => ReadableStream<Uint8Array>,
  ): Response
}

/**
 * A guard with the given limits; one per server. `nowMs` (a monotonic clock in ms) dates the
 * kept item counts.
 */
export function createSendGuard(
  limits: LimitsConfig,
  nowMs: () => number = () => performance.now(),
): SendGuard {
  let inFlight = 0
  const counts = new Map<string, { items: number; at: number }>()
  const countItems = async (count: PageCount): Promise<number> => {
    const now = nowMs()
    const key = count.key()
    const kept = counts.get(key)
    if (kept !== undefined && now - kept.at < COUNT_TTL_MS) return kept.items
    const items = await count.items()
    if (counts.size >= MAX_COUNTS) counts.clear()
    counts.set(key, { items, at: now })
    return items
  }
  /** Bytes per item of each stream's recent pages (unknown until one is served). */
  const perItem = new Map<string, number>()
  const overloaded = () =>
    new AppError(
      'OVERLOADED',
      'The server holds too many export bytes that readers have not taken yet. Retry after the indicated delay.',
      { retryAfterSeconds: limits.overloadRetryAfterSeconds },
    )
  const reserve = (bytes: number): Admission => {
    inFlight += bytes
    let held = true
    return {
      release() {
        if (held) inFlight -= bytes
        held = false
      },
    }
  }

  return {
    get bytesInFlight() {
      return inFlight
    },
    async admit(stream, limit, count) {
      const bytesPerItem = perItem.get(stream) ?? 0
      // A page alone is always served: a bound smaller than one page must not refuse it forever.
      const fits = (bytes: number) =>
        inFlight < limits.maxBytesInFlight &&
        (inFlight === 0 || inFlight + bytes <= limits.maxBytesInFlight)
      let estimate = Math.ceil(limit * bytesPerItem)
      if (!fits(estimate) && count !== undefined) {
        // The worst case does not fit: the page may hold far fewer items than its limit.
        estimate = Math.ceil(Math.min(limit, await countItems(count)) * bytesPerItem)
      }
      if (!fits(estimate)) throw overloaded()
      return reserve(estimate)
    },
    send(c, admission, page, headers, encode) {
      admission.release()
      const body = page.body
      const size = body.byteLength
      if (page.count > 0) {
        const last = size / page.count
        const before = perItem.get(page.stream)
        perItem.set(
          page.stream,
          before === undefined ? last : before + ESTIMATE_WEIGHT * (last - before),
        )
      }
      // The estimate can be short (larger items than before): the same rule on the real size.
      if (inFlight > 0 && inFlight + size > limits.maxBytesInFlight) throw overloaded()
      const encoded = encode?.()
      const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing
      // app.request() in unit tests has no socket: nothing is held after the response is made.
      if (outgoing === undefined)
        return c.body(encoded ?? (body as Uint8Array<ArrayBuffer>), 200, headers)
      const held = reserve(size)
      watch(outgoing, limits.sendTimeoutSeconds * 1000, () => held.release())
      // The whole page in one write, as a plain node:http server would: streaming it in pieces
      // (each waiting for 'drain' so each could count as progress) cost some 2 ms of CPU per
      // 3.9 MB page in web streams and callbacks. Progress is watched on the socket instead.
      if (encoded) return c.body(encoded, 200, headers)
      // Declared, so that a HEAD (answered without a body) says it too.
      return c.body(body as Uint8Array<ArrayBuffer>, 200, {
        ...headers,
        'content-length': String(size),
      })
    },
  }
}

/** How many checks without progress make the send timeout (each check is a tenth of it). */
const CHECKS_PER_TIMEOUT = 10

/**
 * Releases once the response is finished or its connection is gone; destroys the connection when
 * bytes wait for the reader and the kernel takes none of them for `timeoutMs`, so a reader that
 * is slow but steady is kept however long the whole page takes.
 *
 * Node's socket timeout cannot tell that: it restarts only when a write completes, and a page is
 * one write. What moves while the reader reads is the libuv write queue (`writeQueueSize` on the
 * socket's handle: the bytes of dispatched writes the kernel has not taken yet); `bytesWritten`
 * and `writableLength` count a write whole until it completes.
 */
function watch(outgoing: ServerResponse, timeoutMs: number, release: () => void): void {
  const socket = outgoing.socket
  let timer: NodeJS.Timeout | undefined
  if (socket) {
    let before = backlog(socket)
    let idleChecks = 0
    timer = setInterval(
      () => {
        const now = backlog(socket)
        // Progress: the kernel took queued bytes, or a write completed. Nothing waiting at all
        // (the response is still being made, e.g. compressed) is not the reader's doing either.
        const moved =
          now.queued < before.queued ||
          now.buffered < before.buffered ||
          (now.queued === 0 && now.buffered === 0)
        idleChecks = moved ? 0 : idleChecks + 1
        if (idleChecks >= CHECKS_PER_TIMEOUT) socket.destroy()
        before = now
      },
      Math.max(1, timeoutMs / CHECKS_PER_TIMEOUT),
    )
    // The check never keeps the process alive (a closing server waits for its sockets, not this).
    timer.unref()
  }
  outgoing.once('close', () => {
    clearInterval(timer)
    release()
  })
}

/**
 * Bytes of the response not taken by the kernel yet: `queued` in libuv's write queue (it shrinks
 * as the kernel takes them), `buffered` in writes not completed (it shrinks only as writes complete).
 */
function backlog(socket: Socket): { queued: number; buffered: number } {
  const handle = (socket as { _handle?: { writeQueueSize?: unknown } | null })._handle
  const queued = typeof handle?.writeQueueSize === 'number' ? handle.writeQueueSize : 0
  return { queued, buffered: socket.writableLength }
}
