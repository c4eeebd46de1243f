/**
 * The one place errors become responses: `{"error": "<reason phrase>", "description": "..."}`.
 * Only catalogue entries are rendered: an AppError as itself, anything else as the catalogue's
 * INTERNAL entry, after logging what may be logged about it (never a stack trace or SQL text in a
 * response). Stores raise STORE_UNAVAILABLE themselves; nothing here knows a driver's codes.
 * @module
 */
import type { Context } from 'hono'
import type { Logger } from 'pino'
import { AppError, errorBody } from '../domain/errors.js'

/** Renders an error as the JSON error response (an unexpected one as INTERNAL). */
export function renderError(err: unknown, c: Context, logger: Logger): Response {
  if (!(err instanceof AppError) && isClientAbort(err, c)) {
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
  const appError = err instanceof AppError ? err : new AppError('INTERNAL')
  if (appError !== err) {
    logger.error({ err: summarize(err), path: c.req.path }, 'unexpected error')
  } else if (appError.status >= 500) {
    // Expected but worth seeing in the log: unavailable stores, injected faults.
    logger.warn({ err: summarize(err), path: c.req.path }, appError.code)
  }
  const headers: Record<string, string> = {
    ...appError.headers,
    'content-type': 'application/json',
  }
  if (appError.retryAfterSeconds !== undefined) {
    headers['retry-after'] = String(appError.retryAfterSeconds)
  }
  if (appError.status === 401) headers['www-authenticate'] = 'Bearer realm="chat-export"'
  return new Response(
    JSON.stringify(errorBody(appError.status, appError.description, appError.details)),
    { status: appError.status, headers },
  )
}

/** Node's "aborted" (ECONNRESET from the incoming message) or the request's abort signal. */
function isClientAbort(err: unknown, c: Context): boolean {
  if (c.req.raw.signal.aborted) return true
  if (!(err instanceof Error)) return false
  const code = (err as { code?: unknown }).code
  return (code === 'ECONNRESET' && err.message === 'aborted') || err.name === 'AbortError'
}

/** What may be logged about an error: its name, code, message and stack (no bodies, no tokens). */
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
