/**
 * The OAuth port: what the OAuth service (`src/auth/oauth.ts`) needs from storage. Both stores
 * implement it (`src/store/{sqlite,postgres}/<db>-oauth.ts`, tables of migration 4); every method
 * is scoped to one account, like the rest of the store.
 *
 * Nothing secret is stored in the clear: client secrets, authorization codes and refresh tokens
 * are kept as SHA-256 hashes beside a public prefix (codes, refresh tokens) or the client row
 * (secrets), exactly like bearer tokens. The access token of a grant IS a bearer token: a row of
 * the `tokens` table (kind `cxo_`), so it is checked by the one `verifyToken` and revoked, expired
 * and listed like any other.
 * @module
 */
import type { Micros } from '../domain/time.js'
import type { NewToken, Role, Scope, TokenRecord } from './store.js'

export type OAuthClientType = 'public' | 'confidential'

/** One OAuth client (Zendesk's "API client") of an account. */
export interface OAuthClientRecord {
  id: number
  accountId: number
  /** The public `client_id` clients send (`cxc_<account id>_<random>`). */
  identifier: string
  name: string
  company: string
  redirectUris: string[]
  clientType: OAuthClientType
  /** SHA-256 of the client secret. */
  secretHash: Buffer
  /** The role tokens issued to the client itself (client_credentials) act with: its creator's. */
  role: Role
  /** The scopes the client may be granted (read and/or write; `chat` is always grantable). */
  scopes: Scope[]
  createdAt: Micros
  updatedAt: Micros
}

export type NewOAuthClient = Omit<OAuthClientRecord, 'id'>

/** What a client update may change. */
export type OAuthClientChanges = Partial<
  Pick<OAuthClientRecord, 'name' | 'company' | 'redirectUris' | 'clientType' | 'scopes'>
>

/** A one-time authorization code (authorization_code grant). */
export interface OAuthCodeRecord {
  id: number
  accountId: number
  clientId: number
  prefix: string
  hash: Buffer
  redirectUri: string
  /** The granted scope words, space-separated (may include `chat`). */
  scope: string
  role: Role
  createdAt: Micros
  expiresAt: Micros
  usedAt: Micros | null
}

export type NewOAuthCode = Omit<OAuthCodeRecord, 'id' | 'usedAt'>

/** One issued OAuth token (Zendesk's token object): an access token plus its refresh token. */
export interface OAuthGrantRecord {
  id: number
  accountId: number
  clientId: number
  /** The `tokens` row of the access token. */
  accessTokenId: number
  refreshPrefix: string
  refreshHash: Buffer
  /** The granted scope words, space-separated (may include `chat`). */
  scope: string
  createdAt: Micros
  /** The access token's role and expiry. */
  role: Role
  expiresAt: Micros | null
  /** When the grant (or its access token, by `tokens revoke`) was revoked or rotated away. */
  revokedAt: Micros | null
}

/** What {@link OAuthStore.issueGrant} writes, in one transaction. */
export interface GrantIssue {
  clientId: number
  /** The access token row. */
  access: NewToken
  refreshPrefix: string
  refreshHash: Buffer
  scope: string
  /** A code to mark used: the issue fails (undefined) when it was used already. */
  consumesCodeId?: number | undefined
  /** A grant to revoke (refresh rotation): the issue fails when it was revoked already. */
  replacesGrantId?: number | undefined
}

export interface OAuthStore {
  /** A `DuplicateKeyError` (key `'token-prefix'`) on an identifier collision. */
  createClient(client: NewOAuthClient): Promise<OAuthClientRecord>
  getClient(accountId: number, id: number): Promise<OAuthClientRecord | undefined>
  getClientByIdentifier(
    accountId: number,
    identifier: string,
  ): Promise<OAuthClientRecord | undefined>
  listClients(accountId: number): Promise<OAuthClientRecord[]>
  /** Undefined when no such client. */
  updateClient(
    accountId: number,
    id: number,
    changes: OAuthClientChanges,
    at: Micros,
  ): Promise<OAuthClientRecord | undefined>
  /** Deletes the client, its unused codes, and revokes every token issued to it; false when none. */
  deleteClient(accountId: number, id: number, at: Micros): Promise<boolean>

  insertCode(code: NewOAuthCode): Promise<OAuthCodeRecord>
  getCodeByPrefix(accountId: number, prefix: string): Promise<OAuthCodeRecord | undefined>

  /**
   * Atomically: marks the code used / revokes the replaced grant (each only if not already so),
   * inserts the access token and the grant. Undefined (nothing written) when the code was used or
   * the grant revoked in the meantime: two concurrent exchanges of one code get one token.
   */
  issueGrant(
    accountId: number,
    issue: GrantIssue,
    at: Micros,
  ): Promise<{ grant: OAuthGrantRecord; token: TokenRecord } | undefined>
  getGrant(accountId: number, id: number): Promise<OAuthGrantRecord | undefined>
  getGrantByRefreshPrefix(accountId: number, prefix: string): Promise<OAuthGrantRecord | undefined>
  /** Grants neither revoked nor expired at `now`, ascending by id. */
  listActiveGrants(accountId: number, now: Micros): Promise<OAuthGrantRecord[]>
  /** Revokes a grant and its access token; false when no such grant or already revoked. */
  revokeGrant(accountId: number, id: number, at: Micros): Promise<boolean>
}
