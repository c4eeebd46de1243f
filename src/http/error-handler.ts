/**
 * The one place errors become responses: `{"error": "<reason phrase>", "description": "..."}`.
 * Unknown errors are logged (without request bodies or secrets) and answered with a generic 500:
 * never a stack trace or SQL text in a response.
 * @module
 */
import type { Context } from 'hono'
import type { Logger } from 'pino'
import { AppError, errorBody } from '../domain/errors.js'

/** Renders an AppError (or any error) as the JSON error response. */
export function renderError(err: unknown, c: Context, logger: Logger): Response {
  if (err instanceof AppError) {
    const headers: Record<string, string> = { ...err.headers, 'content-type': 'application/json' }
    if (err.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.retryAfterSeconds)
    if (err.status === 401) headers['www-authenticate'] = 'Bearer realm="chat-export"'
    return new Response(JSON.stringify(errorBody(err.status, err.description, err.details)), {
      status: err.status,
      headers,
    })
  }
  if (isClientAbort(err, c)) {
    // The client hung up mid-upload: expected on any network, nobody reads the answer. One short
    // line, no stack: it is not a server error.
    logger.info({ path: c.req.path, method: c.req.method }, 'request aborted by the client')
    return renderError(
      new AppError(
        'REQUEST_ABORTED',
        'The connection closed before the request body arrived. Send it again.',
      ),
      c,
      logger,
    )
  }
  if (isStoreUnavailable(err)) {
    logger.warn({ err: summarize(err), path: c.req.path }, 'store unavailable')
    return new Response(
      JSON.stringify(
        errorBody(503, 'The data store is busy or unreachable. Retry after the indicated delay.'),
      ),
      { status: 503, headers: { 'content-type': 'application/json', 'retry-after': '1' } },
    )
  }
  logger.error({ err: summarize(err), path: c.req.path }, 'unexpected error')
  return new Response(
    JSON.stringify(
      errorBody(
        500,
        'The server hit an unexpected error. Nothing was written. Retry; if it persists, report it with the time of the request.',
      ),
    ),
    { status: 500, headers: { 'content-type': 'application/json' } },
  )
}

/** Node's "aborted" (ECONNRESET from the incoming message) or the request's abort signal. */
function isClientAbort(err: unknown, c: Context): boolean {
  if (c.req.raw.signal.aborted) return true
  if (!(err instanceof Error)) return false
  const code = (err as { code?: unknown }).code
  return (code === 'ECONNRESET' && err.message === 'aborted') || err.name === 'AbortError'
}

function isStoreUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false
  const code = (err as { code?: unknown }).code
  return (
    code === 'SQLITE_BUSY' ||
    code === 'SQLITE_LOCKED' ||
    code === 'ECONNREFUSED' ||
    code === '57P03' || // cannot_connect_now
    code === '53300' // too_many_connections
  )
}

/** What may be logged about an error: its name, code and message (no bodies, no tokens). */
function summarize(err: unknown): {
  name: string
  code?: unknown
  message: string
  stack?: string
} {
  if (err instanceof Error) {
    return {
      name: err.name,
      code: (err as { code?: unknown }).code,
      message: err.message,
      ...(err.stack === undefined ? {} : { stack: err.stack }),
    }
  }
  return { name: 'NonError', message: String(err) }
}
