/**
 * The errors the export client throws. Each class sets `name`, carries structured fields and keeps the
 * underlying failure as `cause`. None of them ever holds the token: URLs are redacted first.
 * @module
 */

/** The client options are invalid; the message names the option and what to pass instead. */
export class InvalidClientOptionsError extends Error {
  override readonly name = 'InvalidClientOptionsError'
}

/** Fields the server sends in an error body (`{"error": "...", "description": "..."}`). */
export interface ExportHttpErrorInit {
  status: number
  /** The body's `error` member (the HTTP reason phrase on the Chat API), when present. */
  error: string | undefined
  /** The body's `description` member: what was wrong and how to fix it, when present. */
  description: string | undefined
  /** The request URL with credentials removed. */
  url: string
  /** The server's `Retry-After`, in milliseconds, when it sent a usable one. */
  retryAfterMs?: number | undefined
  /** How many requests were made for this URL before giving up (1 = no retry). */
  attempts?: number
}

/**
 * The server answered with a non-2xx status. Non-429 4xx are thrown at once (retrying cannot
 * help); 429 and 5xx are thrown only once the retries are used up.
 */
export class ExportHttpError extends Error {
  override readonly name = 'ExportHttpError'
  readonly status: number
  readonly error: string | undefined
  readonly description: string | undefined
  readonly url: string
  readonly retryAfterMs: number | undefined
  readonly attempts: number

  constructor(init: ExportHttpErrorInit) {
    const what = init.description ?? init.error ?? 'no description in the response body'
    super(`${init.status} from ${init.url}: ${what}${hint(init.status)}`)
    this.status = init.status
    this.error = init.error
    this.description = init.description
    this.url = init.url
    this.retryAfterMs = init.retryAfterMs
    this.attempts = init.attempts ?? 1
  }

  /** Whether the same request may succeed later (rate limits and server errors). */
  get retryable(): boolean {
    return isRetryableStatus(this.status)
  }
}

function hint(status: number): string {
  if (status === 401) return ' (check the token: it may be wrong, revoked or expired)'
  if (status === 403)
    return ' (the token is valid but may not read exports: use an Owner or Administrator token with the read scope)'
  return ''
}

/** 429 and 5xx may succeed later; every other status will not. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599)
}

/** The request never produced a complete response: refused or dropped connection, DNS, timeout. */
export class ExportNetworkError extends Error {
  override readonly name = 'ExportNetworkError'
  constructor(
    message: string,
    readonly url: string,
    readonly attempts: number,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

/**
 * The server answered 200 with something that is not an export page (missing `count` or
 * `next_page`, wrong resource key), or with a page that would make the client loop forever. Not
 * retried: the server is incompatible, not busy.
 */
export class ExportProtocolError extends Error {
  override readonly name = 'ExportProtocolError'
  constructor(
    message: string,
    readonly url: string,
  ) {
    super(message)
  }
}

/** A serialised cursor could not be used (wrong stream, not a URL, not JSON). */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError'
}

/** Removes anything secret from a URL before it goes into an error or a log line. */
export { redactUrl } from '../domain/redact-url.js'
