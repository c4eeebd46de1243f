/**
 * The one error catalogue. Every failure a user can see has a code here; `src/http/error-handler.ts`
 * renders it, in one place, as the Werkzeug-shaped body the real Chat API uses:
 * `{"error": "<HTTP reason phrase>", "description": "<what was wrong and how to fix it>"}`.
 * `docs/errors.md` lists every code (a test keeps the two in step).
 * @module
 */

export const ERRORS = {
  INVALID_START_TIME: { status: 400, summary: 'start_time is not a valid number for this stream' },
  START_TIME_WRONG_UNIT: {
    status: 400,
    summary: 'start_time is in the wrong unit for this stream',
  },
  START_TIME_IN_FUTURE: { status: 400, summary: 'start_time lies in the future' },
  START_TIME_TOO_RECENT: { status: 400, summary: 'start_time is more recent than the minimum age' },
  INVALID_START_ID: { status: 400, summary: 'start_id is not valid' },
  INVALID_LIMIT: { status: 400, summary: 'limit is not a positive integer' },
  INVALID_FIELDS: { status: 400, summary: 'fields is not valid for this stream' },
  INVALID_BODY: { status: 400, summary: 'the request body could not be read' },
  INVALID_IMPORT: { status: 400, summary: 'an import line is not a valid item' },
  IMPORT_BEHIND_HIGH_WATER_MARK: {
    status: 409,
    summary: 'an import with preserved timestamps would land behind exported cursors',
  },
  INVALID_EVENT: { status: 400, summary: 'an ingest event is not valid' },
  UNAUTHORIZED: { status: 401, summary: 'no valid token' },
  FORBIDDEN_ROLE: { status: 403, summary: 'the token role may not use this endpoint' },
  FORBIDDEN_SCOPE: { status: 403, summary: 'the token lacks the needed scope' },
  NOT_FOUND: { status: 404, summary: 'unknown path' },
  METHOD_NOT_ALLOWED: { status: 405, summary: 'wrong method for this path' },
  PAYLOAD_TOO_LARGE: { status: 413, summary: 'the request body is too large' },
  RATE_LIMITED: { status: 429, summary: 'too many requests' },
  INTERNAL: { status: 500, summary: 'unexpected server error' },
  STORE_UNAVAILABLE: { status: 503, summary: 'the store cannot serve now' },
  INJECTED_FAULT: { status: 500, summary: 'a fault injected on purpose for testing' },
  INJECTED_BAD_GATEWAY: { status: 502, summary: 'a 502 injected on purpose for testing' },
  INJECTED_GATEWAY_TIMEOUT: { status: 504, summary: 'a 504 injected on purpose for testing' },
  ADMIN_FORBIDDEN: { status: 403, summary: 'the token may not administer this account or server' },
  ACCOUNT_NOT_FOUND: { status: 404, summary: 'no account has this name' },
  INVALID_ADMIN_REQUEST: { status: 400, summary: 'an admin request body or parameter is invalid' },
  CLOCK_NOT_MANUAL: { status: 409, summary: 'the clock moves only with serve --clock manual' },
} as const satisfies Record<string, { status: number; summary: string }>

export type ErrorCode = keyof typeof ERRORS

/** Standard HTTP reason phrases, used as the `error` member of error bodies (Werkzeug style). */
export const REASON_PHRASES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
}

/** Options an error may carry beyond its code and description. */
export interface AppErrorOptions extends ErrorOptions {
  /** Seconds to put in `Retry-After` (429, 503). */
  retryAfterSeconds?: number
  /** Structured detail for API callers (e.g. per-line import errors). */
  details?: unknown
  /** Extra response headers (e.g. `Allow` on a 405). */
  headers?: Record<string, string>
}

/**
 * An error a user is meant to see. `description` says what was wrong and how to fix it; it is sent
 * as is, so it must never contain secrets, SQL or stack traces.
 */
export class AppError extends Error {
  override readonly name = 'AppError'
  readonly status: number
  readonly retryAfterSeconds: number | undefined
  readonly details: unknown
  readonly headers: Record<string, string>

  constructor(
    readonly code: ErrorCode,
    readonly description: string,
    options: AppErrorOptions = {},
  ) {
    super(`${code}: ${description}`, options.cause === undefined ? {} : { cause: options.cause })
    this.status = ERRORS[code].status
    this.retryAfterSeconds = options.retryAfterSeconds
    this.details = options.details
    this.headers = options.headers ?? {}
  }
}

/** The response body for an error: `{"error": reason, "description": text}` (+ `details`). */
export function errorBody(
  status: number,
  description: string,
  details?: unknown,
): { error: string; description: string; details?: unknown } {
  const body: { error: string; description: string; details?: unknown } = {
    error: REASON_PHRASES[status] ?? 'Error',
    description,
  }
  if (details !== undefined) body.details = details
  return body
}
