/**
 * OAuth settings of `serve`: access token lifetime and the auto-approve switch for tests.
 * Declared as `serve` settings (flag > environment > default, like the others).
 * @module
 */
import { DEFAULT_OAUTH_OPTIONS } from '../domain/oauth.js'
import { MICROS_PER_SECOND } from '../domain/time.js'
import type { Setting, SettingsReader } from './settings.js'
import { booleanValue, integer } from './settings.js'

export interface OAuthConfig {
  /**
   * Approve every authorization request (`/oauth2/authorizations/new`) at once, for the account
   * of the client (the `subdomain` parameter or the Host's subdomain must name that account when
   * given), as if its owner had approved. For tests and local connector setups only: anyone who
   * can reach the server can then obtain a token for any client.
   */
  autoApprove: boolean
  /** Access token lifetime in µs. */
  accessTokenTtlMicros: number
  /** Authorization code lifetime in µs. */
  codeTtlMicros: number
}

export const DEFAULT_OAUTH_CONFIG: OAuthConfig = { autoApprove: false, ...DEFAULT_OAUTH_OPTIONS }

/** `serve`'s OAuth settings. */
export const OAUTH_SETTINGS = {
  oauthAutoApprove: {
    flag: '--oauth-auto-approve',
    help: 'approve OAuth authorization requests without asking the owner (tests only)',
    env: ['CHAT_EXPORT_OAUTH_AUTO_APPROVE'],
    parse: booleanValue,
  },
  oauthTokenTtl: {
    flag: '--oauth-token-ttl <seconds>',
    help: 'lifetime of OAuth access tokens',
    env: ['CHAT_EXPORT_OAUTH_TOKEN_TTL'],
    default: String(DEFAULT_OAUTH_OPTIONS.accessTokenTtlMicros / MICROS_PER_SECOND),
    parse: integer(1, 365 * 86_400),
  },
} as const satisfies Record<string, Setting<unknown>>

/** The OAuth settings, read with the command's reader (problems are collected there). */
export function readOAuth(read: SettingsReader): OAuthConfig {
  const ttl = read.value(OAUTH_SETTINGS.oauthTokenTtl)
  return {
    autoApprove: read.value(OAUTH_SETTINGS.oauthAutoApprove) ?? false,
    accessTokenTtlMicros:
      ttl === undefined ? DEFAULT_OAUTH_CONFIG.accessTokenTtlMicros : ttl * MICROS_PER_SECOND,
    codeTtlMicros: DEFAULT_OAUTH_CONFIG.codeTtlMicros,
  }
}
