/**
 * Bounded memory for slow readers (issue 13, finding 5). Every export page is a Buffer held until
 * the kernel has taken all of it; a reader that reads slowly, or not at all, keeps it alive. The
 * guard counts those bytes over all connections and refuses a page that would push the total over
 * the bound (503 OVERLOADED with Retry-After), and drops a connection whose response makes no
 * progress for the send timeout.
 *
 * A page is refused before it is built whenever possible: `admit` reserves what the page will
 * probably take (its limit times the bytes per item of that stream's recent pages) and refuses
 * when that would not fit. Refusing only once the page is built (as this guard first did) costs
 * a whole page build per 503: measured with 200 readers of 10 MB pages, the server spent its CPU
 * building pages it threw away (`/healthz` waited over 20 s) and their garbage took RSS from
 * 190 to 520 MB.
 * @module
 */
import type { ServerResponse } from 'node:http'
import type { Context } from 'hono'
import type { LimitsConfig } from '../config/limits-config.js'
import { AppError } from '../domain/errors.js'

/** Bodies above this are streamed in pieces of this size, so each piece sent counts as progress. */
const CHUNK_BYTES = 64 * 1024

/** Weight of the newest page in a stream's bytes-per-item estimate. */
const ESTIMATE_WEIGHT = 0.25

/** Room reserved for one page between `admit` and `send` (or `release` when it is not sent). */
export interface Admission {
  /** Gives the reservation back (the page failed before it was sent); once only, then a no-op. */
  release(): void
}

export interface SendGuard {
  /** Bytes of pages built and not yet sent, plus the room reserved for pages being built. */
  readonly bytesInFlight: number
  /**
   * Reserves room for a page of `stream` with up to `limit` items before it is built; throws
   * OVERLOADED when that would push the bytes in flight over the bound. The caller must hand
   * the admission to `send`, or release it.
   */
  admit(stream: string, limit: number): Admission
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

/** A guard with the given limits; one per server. */
export function createSendGuard(limits: LimitsConfig): SendGuard {
  let inFlight = 0
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
    admit(stream, limit) {
      const estimate = Math.ceil(limit * (perItem.get(stream) ?? 0))
      // A page alone is always served: a bound smaller than one page must not refuse it forever.
      if (inFlight > 0 && inFlight + estimate > limits.maxBytesInFlight) throw overloaded()
      if (inFlight >= limits.maxBytesInFlight) throw overloaded()
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
      if (encoded) return c.body(encoded, 200, headers)
      if (size <= CHUNK_BYTES) return c.body(body as Uint8Array<ArrayBuffer>, 200, headers)
      return c.body(chunked(body), 200, { ...headers, 'content-length': String(size) })
    },
  }
}

/**
 * Releases once the response is finished or its connection is gone; destroys the connection when
 * the socket makes no progress for `timeoutMs` (Node's socket timeout restarts on every completed
 * write, so a reader that is slow but steady is kept).
 */
function watch(outgoing: ServerResponse, timeoutMs: number, release: () => void): void {
  const socket = outgoing.socket
  const onTimeout = () => socket?.destroy()
  if (socket) {
    socket.setTimeout(timeoutMs)
    socket.once('timeout', onTimeout)
  }
  outgoing.once('close', () => {
    release()
    if (socket && !socket.destroyed) {
      socket.removeListener('timeout', onTimeout)
      // Keep-alive: the next request on this socket starts without a send timeout.
      socket.setTimeout(0)
    }
  })
}

/** The body as a stream of CHUNK_BYTES views (no copies). */
function chunked(body: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= body.byteLength) {
        controller.close()
        return
      }
      const end = Math.min(offset + CHUNK_BYTES, body.byteLength)
      controller.enqueue(body.subarray(offset, end))
      offset = end
    },
  })
}
