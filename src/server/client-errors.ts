/**
 * Errors that happen before a request reaches the app: Node's HTTP parser rejecting the request
 * line or headers (`clientError`), and @hono/node-server refusing to build a Request (a malformed
 * Host, a backslash in the path). Node and the adapter answer those with an empty 400 or 431;
 * here they get the documented `{"error", "description"}` body like every other error.
 * @module
 */
import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http'
import type { Http2SecureServer, Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import type { Duplex } from 'node:stream'
import { getRequestListener } from '@hono/node-server'
import type { Logger } from 'pino'
import { ERRORS, errorBody, type ErrorCode } from '../domain/errors.js'

export interface ClientErrorOptions {
  logger: Logger
  /** The app's fetch handler: the request listener is rebuilt with a JSON error handler. */
  fetch: (request: Request, env: unknown) => Response | Promise<Response>
  /** The hostname the adapter checks Host headers against (as given to `serve`). */
  hostname?: string | undefined
}

const DESCRIPTIONS: Partial<Record<ErrorCode, string>> = {
  INVALID_REQUEST:
    'The request line or a header is not valid HTTP (invalid characters, a malformed Host header, or a backslash in the path). Send a well-formed HTTP/1.1 request.',
  HEADERS_TOO_LARGE:
    'The request headers are larger than the server accepts (16 KiB by default). Send fewer or shorter headers.',
  REQUEST_TIMEOUT:
    'The request headers or body did not arrive in time. Send the whole request without pausing.',
}

/**
 * The raw HTTP/1.1 response for a parser error: JSON body, then the connection is closed. The
 * answer to a HEAD request has the headers only: a client reads no body after a HEAD answer, and
 * Node's own client reports "Data after `Connection: close`" when one follows.
 */
export function rawErrorResponse(code: ErrorCode, method?: string): string {
  const status = ERRORS[code].status
  const body = JSON.stringify(errorBody(status, DESCRIPTIONS[code] ?? ERRORS[code].summary))
  const reason = errorBody(status, '').error
  return (
    `HTTP/1.1 ${status} ${reason}\r\n` +
    'Content-Type: application/json\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    (method === 'HEAD' ? '' : body)
  )
}

/**
 * The method of the request the parser refused, from the bytes it had read (`rawPacket`; a URL
 * too long for the header limit still has a readable method), or undefined.
 */
function requestMethod(err: NodeJS.ErrnoException & { rawPacket?: unknown }): string | undefined {
  const raw = err.rawPacket
  if (!Buffer.isBuffer(raw)) return undefined
  return /^([A-Z]+) /.exec(raw.subarray(0, 16).toString('latin1'))?.[1]
}

/** Which catalogue code answers a Node parser error (Node's own mapping, made explicit). */
function codeFor(err: NodeJS.ErrnoException): ErrorCode {
  if (err.code === 'HPE_HEADER_OVERFLOW') return 'HEADERS_TOO_LARGE'
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'REQUEST_TIMEOUT'
  return 'INVALID_REQUEST'
}

/**
 * Attaches JSON answers for parser errors and adapter request errors to a node server created by
 * @hono/node-server: the plain listener (`serve()`) and the HTTPS one (`createAdaptorServer` over
 * node:http2 with `allowHTTP1`, whose HTTP/1.1 connections go through the same parser and emit
 * the same `clientError`). Call once, right after the server is made.
 */
export function attachClientErrors(
  target: HttpServer | Http2SecureServer,
  options: ClientErrorOptions,
): void {
  // Both emit 'clientError' and 'request' with the arguments used here (node:http2's compat API).
  const server = target as HttpServer
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // A client that went away (or a response already under way) has nobody left to answer.
    const gone = err.code === 'ECONNRESET' || err.code === 'EPIPE' || !socket.writable
    if (gone || (socket as Duplex & { _httpMessage?: unknown })._httpMessage) {
      options.logger.debug({ code: err.code }, 'client connection error')
      socket.destroy()
      return
    }
    // Expected hostile or broken input: one line at info, the parser's code only, no stack.
    const code = codeFor(err)
    options.logger.info({ code: err.code, answer: ERRORS[code].status }, 'unparsable request')
    // end() flushes the answer, then closes: the parser state of this connection is unusable.
    socket.end(rawErrorResponse(code, requestMethod(err)))
  })

  const listener = getRequestListener(options.fetch, {
    hostname: options.hostname,
    errorHandler: (err) => {
      options.logger.info({ reason: (err as Error).message }, 'invalid request')
      return new Response(JSON.stringify(errorBody(400, DESCRIPTIONS.INVALID_REQUEST as string)), {
        status: 400,
        headers: { 'content-type': 'application/json', connection: 'close' },
      })
    },
  })
  server.removeAllListeners('request')
  server.on(
    'request',
    (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) =>
      void listener(req, res),
  )
}
