/**
 * The `fetch` a sync uses for an uncompressed `http:` source on this machine: node:http instead of
 * the runtime's fetch. Over loopback nothing limits a sync but CPU, and undici's fetch hands a
 * page's body through a web ReadableStream chunk by chunk before copying it into one ArrayBuffer:
 * for a 3.9 MB page of 1000 chats that cost the sync about 12 ms of CPU, node:http about 7 ms
 * (the same pages fetched and joined, nothing parsed). Here the socket's chunks are joined once.
 *
 * Anything this transport does not do the runtime's fetch does: a redirect is handed to it (it
 * follows redirects as before), and runSync leaves other hosts, https and compressed pages to it
 * (TLS, proxies and decompression stay the runtime's).
 * @module
 */
import type { IncomingMessage } from 'node:http'
import { Agent, request } from 'node:http'
import type { FetchLike, FetchResponse } from '../client/index.js'

/** A FetchLike over node:http, with `close` to drop its kept-alive connections. */
export interface LoopbackFetch {
  fetch: FetchLike
  close(): void
}

/**
 * A node:http fetch for `http:` URLs that sends the request's headers as they are (the client's
 * `Accept-Encoding: identity` included) and resolves once the headers have arrived; the body is
 * read from then on, whether or not `arrayBuffer` has been called yet.
 */
export function loopbackFetch(): LoopbackFetch {
  const agent = new Agent({ keepAlive: true })
  const fetch: FetchLike = (input, init) => {
    // A next_page on another scheme (a server behind a TLS proxy) goes to the runtime's fetch.
    if (!input.startsWith('http:')) return globalThis.fetch(input, init)
    return new Promise<FetchResponse>((resolve, reject) => {
      const signal = init.signal ?? undefined
      if (signal?.aborted) return reject(abortReason(signal))
      // This transport never decompresses, so it asks for none (what the client itself asks for
      // over loopback); left unsaid, a server may compress anyway.
      const headers = { 'accept-encoding': 'identity', ...headerRecord(init.headers) }
      const req = request(input, { method: init.method ?? 'GET', headers, agent }, (res) => {
        signal?.removeEventListener('abort', onAbort)
        const status = res.statusCode ?? 0
        if (status >= 300 && status < 400 && res.headers.location !== undefined) {
          // Redirects are rare for an export server: let the runtime's fetch follow them.
          res.resume()
          globalThis.fetch(input, init).then(resolve, reject)
          return
        }
        resolve(new NodeResponse(res, signal))
      })
      const onAbort = () => req.destroy(abortReason(signal))
      signal?.addEventListener('abort', onAbort, { once: true })
      req.on('error', (error) => {
        signal?.removeEventListener('abort', onAbort)
        reject(error)
      })
      req.end()
    })
  }
  return { fetch, close: () => agent.destroy() }
}

/** The part of a Response the export client reads, over an IncomingMessage. */
class NodeResponse implements FetchResponse {
  readonly status: number
  readonly headers: { get(name: string): string | null }
  readonly body: { cancel(): Promise<void> }
  private readonly bytes: Promise<ArrayBuffer>

  constructor(res: IncomingMessage, signal: AbortSignal | undefined) {
    this.status = res.statusCode ?? 0
    this.headers = {
      get: (name) => {
        const value = res.headers[name.toLowerCase()]
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value
      },
    }
    this.body = {
      cancel: () => {
        res.destroy()
        return Promise.resolve()
      },
    }
    this.bytes = readBody(res, signal)
    // Read by arrayBuffer(); a body nobody asks for must not become an unhandled rejection.
    this.bytes.catch(() => {})
  }

  arrayBuffer(): Promise<ArrayBuffer> {
    return this.bytes
  }
}

/** The whole body as one ArrayBuffer of exactly its length; rejects if the body is cut off. */
function readBody(res: IncomingMessage, signal: AbortSignal | undefined): Promise<ArrayBuffer> {
  return new Promise<ArrayBuffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    let length = 0
    let settled = false
    const fail = (error: Error) => {
      if (settled) return
      settled = true
      signal?.removeEventListener('abort', onAbort)
      res.destroy()
      reject(error)
    }
    const onAbort = () => fail(abortReason(signal))
    signal?.addEventListener('abort', onAbort, { once: true })
    res.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      length += chunk.length
    })
    res.on('error', fail)
    res.on('end', () => {
      if (settled) return
      if (!res.complete) return fail(new Error('the connection closed before the body ended'))
      settled = true
      signal?.removeEventListener('abort', onAbort)
      // allocUnsafeSlow: an ArrayBuffer of its own (never a slice of Node's shared pool), so the
      // client can take it whole; every byte is written below.
      const out = Buffer.allocUnsafeSlow(length)
      let at = 0
      for (const chunk of chunks) {
        out.set(chunk, at)
        at += chunk.length
      }
      resolve(out.buffer)
    })
    res.on('close', () => fail(new Error('the connection closed before the body ended')))
  })
}

/** The request's headers as the plain record node:http takes. */
function headerRecord(headers: RequestInit['headers']): Record<string, string> {
  if (headers === undefined) return {}
  if (headers instanceof Headers || Array.isArray(headers)) {
    const record: Record<string, string> = {}
    new Headers(headers).forEach((value, name) => (record[name] = value))
    return record
  }
  return { ...headers }
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason
  return reason instanceof Error
    ? reason
    : new DOMException('The request was aborted.', 'AbortError')
}
