/**
 * OAuth as Zendesk Chat does it (chat-rest-api.md §4): clients per account, one-time
 * authorization codes, and the token endpoint's grants. The application service behind the CLI
 * (`chat-export oauth clients ...`) and the HTTP routes (src/http/oauth-routes.ts).
 *
 * Secrets, all random and stored only as SHA-256 (like bearer tokens, src/auth/tokens.ts):
 * - client secret `cxs_<43>` (shown once, on creation), checked against the client row;
 * - authorization code `cxa_<prefix>_<secret>`: one use, `OAuthOptions.codeTtlMicros`;
 * - access token `cxo_<prefix>_<secret>`: a bearer token like `tokens create` makes, so it works
 *   wherever one does, expires after `OAuthOptions.accessTokenTtlMicros`, and is revoked by
 *   `DELETE /oauth/tokens/{id}` (or `tokens revoke`);
 * - refresh token `cxr_<prefix>_<secret>`: one use: a refresh revokes the grant it came from
 *   (its access token too) and issues a new one.
 *
 * A client's id names its account (`cxc_<account id>_<random>`), so a token request to a host
 * that names no account (`www.zopim.com/oauth2/token`) finds the client inside its account.
 * @module
 */
import { randomBytes } from 'node:crypto'
import type { OAuthOptions, OAuthScopeWord } from '../domain/oauth.js'
import { OAuthError, parseOAuthScope } from '../domain/oauth.js'
import { MICROS_PER_SECOND, type Micros } from '../domain/time.js'
import type {
  OAuthClientRecord,
  OAuthClientType,
  OAuthGrantRecord,
  OAuthStore,
} from '../store/oauth-port.js'
import type { Role, Scope, Store, TokenRecord } from '../store/store.js'
import { hashMatches, hashToken, newSecret, secretPrefix, verifyToken } from './tokens.js'

const CLIENT_ID = /^cxc_([1-9]\d{0,15})_[A-Za-z0-9_-]{16}$/

/** The account a client id names, or undefined when it is not one of ours. */
export function accountOfClientId(identifier: string): number | undefined {
  const match = CLIENT_ID.exec(identifier)
  const id = Number(match?.[1])
  return match && Number.isSafeInteger(id) ? id : undefined
}

/** What a new client needs. */
export interface NewClientInput {
  accountId: number
  name: string
  company?: string | undefined
  redirectUris: string[]
  clientType: OAuthClientType
  /** The role of its creator: the role its client_credentials tokens act with. */
  role: Role
  scopes?: Scope[] | undefined
  now: Micros
}

/** Creates a client; the secret is returned here and never again. */
export async function createOAuthClient(
  oauth: OAuthStore,
  input: NewClientInput,
): Promise<{ client: OAuthClientRecord; secret: string }> {
  const secret = `cxs_${randomBytes(32).toString('base64url')}`
  const client = await oauth.createClient({
    accountId: input.accountId,
    identifier: `cxc_${input.accountId}_${randomBytes(12).toString('base64url')}`,
    name: input.name,
    company: input.company ?? '',
    redirectUris: input.redirectUris,
    clientType: input.clientType,
    secretHash: hashToken(secret),
    role: input.role,
    scopes: input.scopes ?? ['read', 'write'],
    createdAt: input.now,
    updatedAt: input.now,
  })
  return { client, secret }
}

/** The client a client id names, if it exists. */
export async function findOAuthClient(
  oauth: OAuthStore,
  identifier: string,
): Promise<OAuthClientRecord | undefined> {
  const accountId = accountOfClientId(identifier)
  return accountId === undefined ? undefined : oauth.getClientByIdentifier(accountId, identifier)
}

/**
 * A redirect URI is valid for a client when it equals one registered for it, character for
 * character (RFC 6749 §3.1.2.3); omitted, the client's only one.
 */
export function resolveRedirectUri(
  client: OAuthClientRecord,
  given: string | undefined,
): string | undefined {
  if (given === undefined || given === '') {
    return client.redirectUris.length === 1 ? client.redirectUris[0] : undefined
  }
  return client.redirectUris.includes(given) ? given : undefined
}

/**
 * The scope granted for a request: the known words asked for (all the client may have when none
 * is asked), `read`/`write` only where the client (and `ceiling`, when given) allows them, `chat`
 * always. Nothing left → invalid_scope.
 */
export function grantScope(
  client: OAuthClientRecord,
  requested: string | undefined,
  ceiling?: readonly string[],
): string {
  const asked = parseOAuthScope(requested)
  const words: OAuthScopeWord[] = asked.length > 0 ? asked : [...client.scopes]
  const granted = words.filter(
    (w) =>
      w === 'chat' ||
      ((client.scopes as string[]).includes(w) && (ceiling === undefined || ceiling.includes(w))),
  )
  if (granted.length === 0) {
    throw new OAuthError(
      'invalid_scope',
      `None of the requested scopes ("${requested ?? ''}") can be granted: this client may have "${client.scopes.join(' ')}" (and "chat").`,
    )
  }
  return granted.join(' ')
}

/** Issues a one-time authorization code for an approved authorization request. */
export async function issueAuthorizationCode(
  oauth: OAuthStore,
  input: {
    client: OAuthClientRecord
    redirectUri: string
    scope: string
    role: Role
    now: Micros
    options: OAuthOptions
  },
): Promise<string> {
  const { text, prefix, hash } = newSecret('cxa')
  await oauth.insertCode({
    accountId: input.client.accountId,
    clientId: input.client.id,
    prefix,
    hash,
    redirectUri: input.redirectUri,
    scope: input.scope,
    role: input.role,
    createdAt: input.now,
    expiresAt: input.now + input.options.codeTtlMicros,
  })
  return text
}

/** A token endpoint request, as read from the body (form or JSON) and headers. */
export interface TokenRequest {
  params: Readonly<Record<string, string | undefined>>
  /** Client credentials from `Authorization: Basic` (RFC 6749 §2.3.1), if sent. */
  basic?: { id: string; secret: string } | undefined
  /** The account the request's Host names (`{sub}.zendesk.com`), if any. */
  hostAccountId?: number | undefined
}

/** The token endpoint's success body. */
export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  scope: string
  refresh_token?: string
  expires_in: number
}

interface GrantContext {
  store: Store
  oauth: OAuthStore
  now: Micros
  options: OAuthOptions
}

/** Runs the token endpoint: one grant, or an {@link OAuthError}. */
export async function exchangeToken(
  store: Store,
  oauth: OAuthStore,
  now: Micros,
  options: OAuthOptions,
  request: TokenRequest,
): Promise<TokenResponse> {
  const grantType = request.params['grant_type']
  if (grantType === undefined || grantType === '') {
    throw new OAuthError(
      'invalid_request',
      'grant_type is missing. Send authorization_code, refresh_token, client_credentials or password.',
    )
  }
  // Own keys only: `__proto__` or `constructor` must not find Object.prototype's members.
  const handler = Object.hasOwn(GRANTS, grantType) ? GRANTS[grantType] : undefined
  if (handler === undefined) {
    throw new OAuthError(
      'unsupported_grant_type',
      `grant_type "${clip(grantType)}" is not supported. Use authorization_code, refresh_token, client_credentials or password.`,
    )
  }
  const client = await authenticateClient(oauth, request)
  return handler({ store, oauth, now, options }, client, request.params)
}

type GrantHandler = (
  context: GrantContext,
  client: Authenticated,
  params: TokenRequest['params'],
) => Promise<TokenResponse>

interface Authenticated {
  client: OAuthClientRecord
  /** Whether a correct secret was presented (a public client may send none). */
  withSecret: boolean
}

const GRANTS: Record<string, GrantHandler> = {
  authorization_code: authorizationCodeGrant,
  refresh_token: refreshTokenGrant,
  client_credentials: clientCredentialsGrant,
  password: passwordGrant,
}

/**
 * Client authentication (RFC 6749 §2.3): Basic header or `client_id`/`client_secret` in the body.
 * A confidential client must present its secret; a public one may omit it (a wrong one is still
 * refused). The client must belong to the account the Host names, when it names one.
 */
async function authenticateClient(
  oauth: OAuthStore,
  request: TokenRequest,
): Promise<Authenticated> {
  const id = request.basic?.id ?? request.params['client_id']
  const secret = request.basic?.secret ?? request.params['client_secret']
  if (id === undefined || id === '') {
    throw new OAuthError(
      'invalid_client',
      'No client authentication: send client_id and client_secret (in the body or as HTTP Basic).',
    )
  }
  const client = await findOAuthClient(oauth, id)
  const given = secret !== undefined && secret !== ''
  // Hash even for an unknown client, so the answer takes as long either way.
  const secretOk = hashMatches(client?.secretHash, secret ?? '') && given
  if (client === undefined || (given && !secretOk)) {
    throw new OAuthError(
      'invalid_client',
      'Client authentication failed: unknown client_id or wrong client_secret.',
    )
  }
  if (!given && client.clientType === 'confidential') {
    throw new OAuthError('invalid_client', 'This client is confidential: send its client_secret.')
  }
  if (request.hostAccountId !== undefined && request.hostAccountId !== client.accountId) {
    throw new OAuthError(
      'invalid_client',
      "The client belongs to another account than the one this host names; use the client's own subdomain.",
    )
  }
  return { client, withSecret: secretOk }
}

async function authorizationCodeGrant(
  context: GrantContext,
  { client }: Authenticated,
  params: TokenRequest['params'],
): Promise<TokenResponse> {
  const code = required(params, 'code')
  const redirectUri = required(params, 'redirect_uri')
  const prefix = secretPrefix('cxa', code)
  const record =
    prefix === undefined ? undefined : await context.oauth.getCodeByPrefix(client.accountId, prefix)
  const bad = (why: string) => new OAuthError('invalid_grant', `The authorization code ${why}.`)
  if (!hashMatches(record?.hash, code) || record === undefined || record.clientId !== client.id) {
    throw bad('is not valid for this client')
  }
  if (record.usedAt !== null) throw bad('has been used already; start the authorization again')
  if (record.expiresAt <= context.now) throw bad('has expired; start the authorization again')
  if (record.redirectUri !== redirectUri) {
    throw bad('was issued for another redirect_uri; send the one of the authorization request')
  }
  const issued = await issue(context, client, record.role, record.scope, {
    consumesCodeId: record.id,
  })
  if (issued === undefined) throw bad('has been used already; start the authorization again')
  return issued
}

async function refreshTokenGrant(
  context: GrantContext,
  { client }: Authenticated,
  params: TokenRequest['params'],
): Promise<TokenResponse> {
  const refresh = required(params, 'refresh_token')
  const prefix = secretPrefix('cxr', refresh)
  const grant: OAuthGrantRecord | undefined =
    prefix === undefined
      ? undefined
      : await context.oauth.getGrantByRefreshPrefix(client.accountId, prefix)
  const bad = (why: string) => new OAuthError('invalid_grant', `The refresh token ${why}.`)
  if (
    !hashMatches(grant?.refreshHash, refresh) ||
    grant === undefined ||
    grant.clientId !== client.id
  ) {
    throw bad('is not valid for this client')
  }
  if (grant.revokedAt !== null) {
    throw bad('has been used or revoked (refresh tokens are one-time: use the newest one)')
  }
  // A refresh may narrow the scope, never widen it (RFC 6749 §6).
  const original = grant.scope.split(' ')
  const scope =
    params['scope'] === undefined || params['scope'] === ''
      ? grant.scope
      : narrowScope(original, params['scope'])
  const issued = await issue(context, client, grant.role, scope, { replacesGrantId: grant.id })
  if (issued === undefined) throw bad('has been used or revoked (refresh tokens are one-time)')
  return issued
}

async function clientCredentialsGrant(
  context: GrantContext,
  { client, withSecret }: Authenticated,
  params: TokenRequest['params'],
): Promise<TokenResponse> {
  // chat-rest-api.md §4.1: only confidential clients, otherwise invalid_client.
  if (client.clientType !== 'confidential' || !withSecret) {
    throw new OAuthError(
      'invalid_client',
      'client_credentials needs a confidential client and its secret; make the client confidential (PUT /api/v2/oauth/clients/{id} {"client_type":"confidential"}).',
    )
  }
  const scope = grantScope(client, params['scope'])
  const issued = await issue(context, client, client.role, scope, {})
  if (issued === undefined) throw new Error('A grant without a code or a predecessor was refused.')
  // RFC 6749 §4.4.3: no refresh token; the client asks again with its credentials.
  const { refresh_token: _unused, ...response } = issued
  return response
}

/**
 * The password grant. chat-export stores no agent passwords, so the "password" is a bearer token
 * of the client's account (`chat-export tokens create`, owner or administrator) and the username
 * the account's name or an agent email of its directory: the issued token acts with that token's
 * role and at most its scopes. Only for confidential clients presenting their secret.
 */
async function passwordGrant(
  context: GrantContext,
  { client, withSecret }: Authenticated,
  params: TokenRequest['params'],
): Promise<TokenResponse> {
  if (client.clientType !== 'confidential' || !withSecret) {
    throw new OAuthError(
      'unauthorized_client',
      'The password grant is allowed for confidential clients presenting their client_secret only.',
    )
  }
  const username = required(params, 'username')
  const password = required(params, 'password')
  const bad = new OAuthError(
    'invalid_grant',
    'The username or password is wrong. The password is a token of the account with role owner or administrator (chat-export tokens create); the username the account name or an agent email.',
  )
  if (secretPrefix('cxp', password) === undefined) throw bad
  const check = await verifyToken(context.store, password, context.now)
  if (!check.ok || check.record.accountId !== client.accountId) throw bad
  const token: TokenRecord = check.record
  if (token.role === 'agent') throw bad
  if (!(await knownUser(context.store, client.accountId, username))) throw bad
  const scope = grantScope(client, params['scope'], token.scopes)
  const issued = await issue(context, client, token.role, scope, {})
  if (issued === undefined) throw new Error('A grant without a code or a predecessor was refused.')
  return issued
}

async function knownUser(store: Store, accountId: number, username: string): Promise<boolean> {
  const account = await store.getAccountById(accountId)
  if (account?.name === username) return true
  const agent = await store.directory?.findEntry(accountId, 'agent', username.toLowerCase())
  return agent !== undefined
}

function narrowScope(original: string[], requested: string): string {
  const asked = parseOAuthScope(requested)
  if (asked.length === 0 || asked.some((w) => !original.includes(w))) {
    throw new OAuthError(
      'invalid_scope',
      `A refresh may only narrow the scope; this grant has "${original.join(' ')}".`,
    )
  }
  return asked.join(' ')
}

/** Writes a grant (access token row + refresh token) and builds the response. */
async function issue(
  context: GrantContext,
  client: OAuthClientRecord,
  role: Role,
  scope: string,
  link: { consumesCodeId?: number; replacesGrantId?: number },
): Promise<TokenResponse | undefined> {
  const access = newSecret('cxo')
  const refresh = newSecret('cxr')
  const ttl = context.options.accessTokenTtlMicros
  const scopes = scope.split(' ').filter((w): w is Scope => w === 'read' || w === 'write')
  const issued = await context.oauth.issueGrant(
    client.accountId,
    {
      clientId: client.id,
      access: {
        accountId: client.accountId,
        prefix: access.prefix,
        hash: access.hash,
        role,
        scopes,
        label: `oauth: ${client.name}`.slice(0, 200),
        createdAt: context.now,
        expiresAt: context.now + ttl,
      },
      refreshPrefix: refresh.prefix,
      refreshHash: refresh.hash,
      scope,
      consumesCodeId: link.consumesCodeId,
      replacesGrantId: link.replacesGrantId,
    },
    context.now,
  )
  if (issued === undefined) return undefined
  return {
    access_token: access.text,
    token_type: 'Bearer',
    scope,
    refresh_token: refresh.text,
    expires_in: Math.floor(ttl / MICROS_PER_SECOND),
  }
}

function required(params: TokenRequest['params'], name: string): string {
  const value = params[name]
  if (value === undefined || value === '') {
    throw new OAuthError('invalid_request', `${name} is missing.`)
  }
  return value
}

function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text
}
