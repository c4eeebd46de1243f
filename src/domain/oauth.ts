/**
 * OAuth rules without I/O: scope words, and the RFC 6749 errors of the token and authorization
 * endpoints. Those two endpoints answer `{"error": "<rfc code>", "error_description": "..."}`
 * (RFC 6749 §5.2, what every OAuth client library parses) instead of the catalogue's Werkzeug
 * shape; docs/errors.md says so. Every other OAuth route (clients, tokens) uses the catalogue.
 * @module
 */

import { MICROS_PER_SECOND, type Micros } from './time.js'

/** Lifetimes of what the OAuth service issues. */
export interface OAuthOptions {
  /** Access token lifetime (Zendesk's example token lives 10 h; default 10 h). */
  accessTokenTtlMicros: Micros
  /** Authorization code lifetime (RFC 6749 §4.1.2: short, at most 10 minutes; default 5 min). */
  codeTtlMicros: Micros
}

export const DEFAULT_OAUTH_OPTIONS: OAuthOptions = {
  accessTokenTtlMicros: 10 * 3600 * MICROS_PER_SECOND,
  codeTtlMicros: 5 * 60 * MICROS_PER_SECOND,
}

/** The scope words of Zendesk Chat (chat-rest-api.md §4.1); any other word is ignored (§7.16). */
export const OAUTH_SCOPE_WORDS = ['read', 'write', 'chat'] as const
export type OAuthScopeWord = (typeof OAUTH_SCOPE_WORDS)[number]

/**
 * The known scope words of a `scope` parameter (space-, plus- or comma-separated), deduplicated,
 * in the order read, write, chat. Unknown words (`chat:read`, `offline`) are dropped.
 */
export function parseOAuthScope(text: string | undefined): OAuthScopeWord[] {
  const given = new Set((text ?? '').split(/[\s,+]+/).filter((w) => w !== ''))
  return OAUTH_SCOPE_WORDS.filter((w) => given.has(w))
}

/** The error codes of RFC 6749 §4.1.2.1 (authorization) and §5.2 (token). */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'access_denied'

/**
 * An RFC 6749 error. 401 for `invalid_client` (the client failed to authenticate, §5.2 allows
 * 401 and clients sending Basic credentials expect it), 400 for every other code.
 */
export class OAuthError extends Error {
  override readonly name = 'OAuthError'
  readonly status: 400 | 401

  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
  ) {
    super(`${error}: ${description}`)
    this.status = error === 'invalid_client' ? 401 : 400
  }

  /** The response body of RFC 6749 §5.2. */
  body(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.description }
  }
}
