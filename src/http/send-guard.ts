/**
 * Bounded memory for slow readers (issue 13, finding 5). Every export page is a Buffer held until
 * the kernel has taken all of it; a reader that reads slowly, or not at all, keeps it alive. The
 * guard counts those bytes over all connections and refuses a page that would push the total over
 * the bound (503 OVERLOADED with Retry-After), and drops a connection whose response makes no
 * progress for the send timeout.
 * @module
 */
import type { ServerResponse } from 'node:http'
import type { Context } from 'hono'
import type { LimitsConfig } from '../config/limits-config.js'
import { AppError } from '../domain/errors.js'

/** Bodies above this are streamed in pieces of this size, so each piece sent counts as progress. */
const CHUNK_BYTES = 64 * 1024

export interface SendGuard {
  /** Bytes of pages built and not yet sent. */
  readonly bytesInFlight: number
  /** Throws OVERLOADED when the bound is already reached (before a page is built). */
  admit(): void
  /**
   * Sends `body` as the response, counted until the connection has taken it or is gone. With
   * `encoded` (the page compressed as it is sent), that stream is the response; `body` is still
   * what is counted, since the page is held until the compressor has read it.
   */
  send(
    c: Context,
    body: Uint8Array,
    headers: Record<string, string>,
    encoded?: ReadableStream<Uint8Array>,
  ): Response
}

/** A guard with the given limits; one per server. */
export function createSendGuard(limits: LimitsConfig): SendGuard {
  let inFlight = 0
  const overloaded = () =>
    new AppError(
      'OVERLOADED',
      'The server holds too many export bytes that readers have not taken yet. Retry after the indicated delay.',
      { retryAfterSeconds: limits.overloadRetryAfterSeconds },
    )

  return {
    get bytesInFlight() {
      return inFlight
    },
    admit() {
      if (inFlight >= limits.maxBytesInFlight) throw overloaded()
    },
    send(c, body, headers, encoded) {
      const size = body.byteLength
      // A page alone is always served: a bound smaller than one page must not refuse it forever.
      if (inFlight > 0 && inFlight + size > limits.maxBytesInFlight) throw overloaded()
      const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing
      // app.request() in unit tests has no socket: nothing is held after the response is made.
      if (outgoing === undefined)
        return c.body(encoded ?? (body as Uint8Array<ArrayBuffer>), 200, headers)
      inFlight += size
      watch(outgoing, limits.sendTimeoutSeconds * 1000, () => {
        inFlight -= size
      })
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
