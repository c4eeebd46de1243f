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
  INVALID_PARAMETER: {
    status: 400,
    summary: 'a query parameter or request header has a value the server does not understand',
  },
  INVALID_IMPORT: { status: 400, summary: 'an import line is not a valid item' },
  IMPORT_BEHIND_HIGH_WATER_MARK: {
    status: 409,
    summary: 'an import with preserved timestamps would land behind exported cursors',
  },
  INVALID_EVENT: { status: 400, summary: 'an ingest event is not valid' },
  INVALID_REQUEST: {
    status: 400,
    summary: 'the request line or headers could not be parsed',
  },
  REQUEST_ABORTED: { status: 400, summary: 'the client closed the connection mid-request' },
  INVALID_ID_WINDOW: { status: 400, summary: 'since_id or max_id is not a non-negative integer' },
  INVALID_RESOURCE: { status: 400, summary: 'a write body names an unknown or invalid field' },
  INVALID_CURSOR: { status: 400, summary: 'a /chats cursor this server did not issue' },
  INVALID_SEARCH_QUERY: { status: 400, summary: 'the chats/search q is not understood' },
  SEARCH_PAGE_LIMIT: { status: 400, summary: 'a chats/search page beyond the pagination limit' },
  RESOURCE_NOT_FOUND: { status: 404, summary: 'no such resource in the account' },
  RESOURCE_CONFLICT: { status: 409, summary: 'the write clashes with an existing resource' },
  UNAUTHORIZED: { status: 401, summary: 'no valid token' },
  FORBIDDEN_ROLE: { status: 403, summary: 'the token role may not use this endpoint' },
  FORBIDDEN_SCOPE: { status: 403, summary: 'the token lacks the needed scope' },
  NOT_FOUND: { status: 404, summary: 'unknown path' },
  METHOD_NOT_ALLOWED: { status: 405, summary: 'wrong method for this path' },
  REQUEST_TIMEOUT: { status: 408, summary: 'the request did not arrive in time' },
  PAYLOAD_TOO_LARGE: { status: 413, summary: 'the request body is too large' },
  HEADERS_TOO_LARGE: { status: 431, summary: 'the request headers are too large' },
  RATE_LIMITED: { status: 429, summary: 'too many requests' },
  INTERNAL: {
    status: 500,
    summary: 'unexpected server error',
    description:
      'The server hit an unexpected error. Nothing was written. Retry; if it persists, report it with the time of the request.',
  },
  STORE_UNAVAILABLE: {
    status: 503,
    summary: 'the store cannot serve now',
    description: 'The data store is busy or unreachable. Retry after the indicated delay.',
  },
  OVERLOADED: { status: 503, summary: 'too many response bytes are waiting to be sent' },
  INJECTED_FAULT: { status: 500, summary: 'a fault injected on purpose for testing' },
  INJECTED_BAD_GATEWAY: { status: 502, summary: 'a 502 injected on purpose for testing' },
  INJECTED_GATEWAY_TIMEOUT: { status: 504, summary: 'a 504 injected on purpose for testing' },
  ADMIN_FORBIDDEN: { status: 403, summary: 'the token may not administer this account or server' },
  ACCOUNT_NOT_FOUND: { status: 404, summary: 'no account has this name' },
  INVALID_ADMIN_REQUEST: { status: 400, summary: 'an admin request body or parameter is invalid' },
  CLOCK_NOT_MANUAL: { status: 409, summary: 'the clock moves only with serve --clock manual' },
} as const satisfies Record<string, { status: number; summary: string; description?: string }>

export type ErrorCode = keyof typeof ERRORS

/**
 * The catalogue's own description for a code, for errors raised without a more specific one (an
 * unexpected failure becomes INTERNAL with this text). Undefined for codes that always say more.
 */
export function defaultDescription(code: ErrorCode): string | undefined {
  const entry = ERRORS[code]
  return 'description' in entry ? entry.description : undefined
}

/** Standard HTTP reason phrases, used as the `error` member of error bodies (Werkzeug style). */
export const REASON_PHRASES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
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

  readonly description: string

  /** `description` may be left out for codes whose catalogue entry has a default one. */
  constructor(
    readonly code: ErrorCode,
    description?: string,
    options: AppErrorOptions = {},
  ) {
    const text = description ?? defaultDescription(code) ?? ERRORS[code].summary
    super(`${code}: ${text}`, options.cause === undefined ? {} : { cause: options.cause })
    this.description = text
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
