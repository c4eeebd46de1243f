/**
 * OAuth over HTTP (chat-rest-api.md §1 rows 23, 37–39, §4, §7.15–7.16), on both host styles:
 * - `/oauth2/token` and `/oauth2/chat/token`: the token endpoint (form-encoded or JSON body;
 *   client credentials in the body or as HTTP Basic). Errors in the RFC 6749 shape.
 * - `/oauth2/authorizations/new` and `/oauth2/chat/authorizations/new`: the consent page, a plain
 *   HTML form the account owner approves by entering an owner token of the account (there is no
 *   other login here); or, with `serve --oauth-auto-approve`, an immediate approval for tests.
 * - `/oauth/clients[/{id}]`, `/oauth/tokens[/{id}]` under `/api/v2/chat` and `/api/v2`: the
 *   clients and issued tokens of the bearer token's account, with the catalogue's errors.
 * @module
 */
import type { Context, MiddlewareHandler } from 'hono'
import { Hono } from 'hono'
import { every } from 'hono/combine'
import type { Clock } from '../domain/clock.js'
import { AppError } from '../domain/errors.js'
import { OAuthError, type OAuthOptions } from '../domain/oauth.js'
import { formatIso } from '../domain/time.js'
import {
  createOAuthClient,
  exchangeToken,
  findOAuthClient,
  grantScope,
  issueAuthorizationCode,
  resolveRedirectUri,
} from '../auth/oauth.js'
import { verifyToken } from '../auth/tokens.js'
import type {
  OAuthClientChanges,
  OAuthClientRecord,
  OAuthClientType,
  OAuthGrantRecord,
  OAuthStore,
} from '../store/oauth-port.js'
import type { Scope, Store } from '../store/store.js'
import type { AuthVariables } from './auth.js'
import { authorize } from './auth.js'
import { hostTarget } from './zendesk-hosts.js'

export interface OAuthRoutesOptions {
  store: Store
  oauth: OAuthStore
  clock: Clock
  options: OAuthOptions
  /** Approve authorization requests without asking (tests only; see src/config/oauth-config.ts). */
  autoApprove: boolean
}

type Ctx = Context<{ Variables: AuthVariables }>
type Params = Record<string, string | undefined>

const MAX_BODY_BYTES = 64 * 1024
const WRITE_ROLES = ['owner', 'administrator'] as const
const METHOD_NOT_ALLOWED = 'The method is not allowed for the requested URL.'

/** The token endpoint and the consent page; mount at the root. */
export function oauthEndpoints(options: OAuthRoutesOptions): Hono<{ Variables: AuthVariables }> {
  const app = new Hono<{ Variables: AuthVariables }>()

  for (const path of ['/oauth2/token', '/oauth2/chat/token']) {
    app.post(path, async (c) => {
      const noStore = { 'cache-control': 'no-store', pragma: 'no-cache' }
      try {
        const params = await readParams(c)
        const response = await exchangeToken(
          options.store,
          options.oauth,
          options.clock.now(),
          options.options,
          {
            params,
            basic: basicCredentials(c.req.header('authorization')),
            hostAccountId: await hostAccountId(options.store, c),
          },
        )
        return c.json(response, 200, noStore)
      } catch (error) {
        if (!(error instanceof OAuthError)) throw error
        const headers: Record<string, string> = { ...noStore }
        if (error.status === 401) headers['www-authenticate'] = 'Basic realm="chat-export"'
        return c.json(error.body(), error.status, headers)
      }
    })
    // A wrong method: Werkzeug's 405 body, as the real token URL answers (reference-notes §2.3).
    app.all(path, () => {
      throw new AppError('METHOD_NOT_ALLOWED', METHOD_NOT_ALLOWED, { headers: { allow: 'POST' } })
    })
  }

  for (const path of ['/oauth2/authorizations/new', '/oauth2/chat/authorizations/new']) {
    app.get(path, async (c) => authorizationRequest(c, options, queryParams(c), undefined))
    app.post(path, async (c) => {
      let form: Params
      try {
        form = await readParams(c)
      } catch (error) {
        if (!(error instanceof OAuthError)) throw error
        return page(c, 400, 'Invalid request', `<p>${html(error.description)}</p>`)
      }
      return authorizationRequest(c, options, form, form)
    })
    app.all(path, () => {
      throw new AppError('METHOD_NOT_ALLOWED', METHOD_NOT_ALLOWED, {
        headers: { allow: 'GET, POST' },
      })
    })
  }
  return app
}

/** The longest `state` accepted: it is copied into the redirect (RFC 6749 sets no limit). */
export const MAX_STATE_CHARS = 2048

/**
 * One authorization request: shown (GET), decided (POST of the form), or approved at once
 * (auto-approve). RFC 6749 §4.1.2.1: an unknown client or a redirect URI not registered for it
 * is shown on the page (never redirected to); every later error goes back to the client.
 */
async function authorizationRequest(
  c: Ctx,
  options: OAuthRoutesOptions,
  params: Params,
  decision: Params | undefined,
): Promise<Response> {
  const client = params['client_id']
    ? await findOAuthClient(options.oauth, params['client_id'])
    : undefined
  if (client === undefined) {
    return page(
      c,
      400,
      'Unknown client',
      '<p>The client_id of this link is not a client of this server. Check the OAuth client settings of the application that sent you here.</p>',
    )
  }
  const redirectUri = resolveRedirectUri(client, params['redirect_uri'])
  if (redirectUri === undefined) {
    return page(
      c,
      400,
      'Invalid redirect URI',
      `<p>The redirect_uri of this link is not registered for the client <b>${html(client.name)}</b>. Register it (PUT /api/v2/oauth/clients/${client.id}) or fix the link.</p>`,
    )
  }
  const state = params['state']
  if (state !== undefined && state.length > MAX_STATE_CHARS) {
    // Copied into the redirect's Location, a longer state would make a header over Node's limit.
    return page(
      c,
      400,
      'State too long',
      `<p>The state parameter of this link has ${state.length} characters; at most ${MAX_STATE_CHARS} are accepted, since it is sent back in the redirect. Use a shorter state (a random value of 16 to 64 characters is usual).</p>`,
    )
  }
  const back = (query: Record<string, string>) => redirect(c, redirectUri, { ...query }, state)
  const account = await options.store.getAccountById(client.accountId)
  const subdomain = params['subdomain'] || hostSubdomain(c)
  if (subdomain !== undefined && subdomain !== account?.name) {
    return back({
      error: 'invalid_request',
      error_description: `The client belongs to another account than "${subdomain}".`,
    })
  }
  if (params['response_type'] !== 'code') {
    return back({
      error: 'unsupported_response_type',
      error_description: 'Only response_type=code is supported.',
    })
  }
  let scope: string
  try {
    scope = grantScope(client, params['scope'])
  } catch (error) {
    if (error instanceof OAuthError) {
      return back({ error: error.error, error_description: error.description })
    }
    throw error
  }
  const approve = async () => {
    const code = await issueAuthorizationCode(options.oauth, {
      client,
      redirectUri,
      scope,
      role: 'owner',
      now: options.clock.now(),
      options: options.options,
    })
    return back({ code })
  }
  if (options.autoApprove) return approve()
  if (decision === undefined)
    return consentForm(c, 200, client, account?.name ?? '', scope, params, '')
  if (decision['decision'] === 'deny') {
    return back({ error: 'access_denied', error_description: 'The account owner denied access.' })
  }
  const check = await verifyToken(options.store, decision['owner_token'] ?? '', options.clock.now())
  if (!check.ok || check.record.accountId !== client.accountId || check.record.role !== 'owner') {
    return consentForm(
      c,
      401,
      client,
      account?.name ?? '',
      scope,
      params,
      'That is not a valid owner token of this account. Create one with: chat-export tokens create --account ' +
        (account?.name ?? '') +
        ' --role owner',
    )
  }
  return approve()
}

function consentForm(
  c: Ctx,
  status: 200 | 401,
  client: OAuthClientRecord,
  accountName: string,
  scope: string,
  params: Params,
  problem: string,
): Response {
  const hidden = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'subdomain']
    .filter((name) => params[name] !== undefined)
    .map((name) => `<input type="hidden" name="${name}" value="${html(params[name] ?? '')}">`)
    .join('\n    ')
  return page(
    c,
    status,
    'Authorize access',
    `<p><b>${html(client.name)}</b>${client.company ? ` (${html(client.company)})` : ''} asks for access to the account <b>${html(accountName)}</b> with the scopes <b>${html(scope)}</b>.</p>
  ${problem ? `<p role="alert">${html(problem)}</p>` : ''}
  <form method="post">
    ${hidden}
    <label>Owner token of ${html(accountName)} <input type="password" name="owner_token" autocomplete="off"></label>
    <button type="submit" name="decision" value="approve">Approve</button>
    <button type="submit" name="decision" value="deny">Deny</button>
  </form>`,
  )
}

function page(c: Ctx, status: 200 | 400 | 401, title: string, body: string): Response {
  return c.html(
    `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${html(title)} · chat-export</title></head>
<body><h1>${html(title)}</h1>
  ${body}
</body></html>
`,
    status,
    {
      // The page takes a credential: never inside another site's frame, never cached.
      'x-frame-options': 'DENY',
      'content-security-policy': "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
    },
  )
}

function redirect(c: Ctx, uri: string, query: Record<string, string>, state: string | undefined) {
  const url = new URL(uri)
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value)
  if (state !== undefined) url.searchParams.set('state', state)
  c.header('cache-control', 'no-store')
  return c.redirect(url.toString(), 302)
}

function html(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch,
  )
}

function queryParams(c: Ctx): Params {
  return Object.fromEntries(new URL(c.req.url).searchParams)
}

/** A form-encoded body (what OAuth clients send), or a JSON object of strings. */
async function readParams(c: Ctx): Promise<Params> {
  const text = await c.req.text()
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
    throw new OAuthError('invalid_request', `The body is larger than ${MAX_BODY_BYTES} bytes.`)
  }
  const type = c.req.header('content-type') ?? ''
  if (/^application\/json\b/i.test(type) || (type === '' && text.trimStart().startsWith('{'))) {
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new OAuthError('invalid_request', 'The body is not valid JSON.')
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new OAuthError('invalid_request', 'The body must be a JSON object of parameters.')
    }
    const params: Params = {}
    for (const [key, value] of Object.entries(parsed)) {
      if (typeof value === 'string' || typeof value === 'number') params[key] = String(value)
    }
    return params
  }
  return Object.fromEntries(new URLSearchParams(text))
}

/** RFC 6749 §2.3.1: `Basic base64(urlencode(id):urlencode(secret))`. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '')
  if (!match) return undefined
  const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return undefined
  try {
    return {
      id: decodeURIComponent(decoded.slice(0, colon)),
      secret: decodeURIComponent(decoded.slice(colon + 1)),
    }
  } catch {
    return undefined
  }
}

function hostSubdomain(c: Ctx): string | undefined {
  const target = hostTarget(new URL(c.req.url).host)
  return target.kind === 'subdomain' ? target.account : undefined
}

/** The account the Host names; 0 (matches no client) when it names one that does not exist. */
async function hostAccountId(store: Store, c: Ctx): Promise<number | undefined> {
  const subdomain = hostSubdomain(c)
  if (subdomain === undefined) return undefined
  return (await store.getAccountByName(subdomain))?.id ?? 0
}

// ---- /oauth/clients and /oauth/tokens --------------------------------------------------------

export interface OAuthApiOptions {
  oauth: OAuthStore
  clock: Clock
  /** Authentication (and rate limit, faults) run before every handler here. */
  guards: MiddlewareHandler<{ Variables: AuthVariables }>[]
}

/** The clients and tokens API; mount once per path shape (`/api/v2/chat`, `/api/v2`). */
export function oauthApiRoutes(options: OAuthApiOptions): Hono<{ Variables: AuthVariables }> {
  const app = new Hono<{ Variables: AuthVariables }>()
  const { oauth, clock } = options
  const guard = every(...options.guards)
  const reading = (c: Ctx, what: string) => {
    authorize(c.var.token, WRITE_ROLES, 'read', `Reading ${what}`)
    return c.var.token.accountId
  }
  const writing = (c: Ctx, what: string) => {
    authorize(c.var.token, WRITE_ROLES, 'write', `Changing ${what}`)
    return c.var.token.accountId
  }

  app.get('/oauth/clients', guard, async (c) => {
    const accountId = reading(c, 'OAuth clients')
    return c.json((await oauth.listClients(accountId)).map((client) => renderClient(client)))
  })
  app.post('/oauth/clients', guard, async (c) => {
    const accountId = writing(c, 'OAuth clients')
    const fields = clientFields(await readJson(c), true)
    const { client, secret } = await createOAuthClient(oauth, {
      accountId,
      name: fields.name ?? '',
      company: fields.company,
      redirectUris: fields.redirectUris ?? [],
      clientType: fields.clientType ?? 'public',
      role: c.var.token.role,
      scopes: fields.scopes,
      now: clock.now(),
    })
    return c.json(renderClient(client, secret), 201)
  })
  app.get('/oauth/clients/:id', guard, async (c) => {
    const accountId = reading(c, 'OAuth clients')
    const client = await oauth.getClient(accountId, numericId(c))
    if (!client) throw notFound('OAuth client', c.req.param('id'))
    return c.json(renderClient(client))
  })
  const update = async (c: Ctx) => {
    const accountId = writing(c, 'OAuth clients')
    const changes = clientFields(await readJson(c), false)
    const client = await oauth.updateClient(accountId, numericId(c), changes, clock.now())
    if (!client) throw notFound('OAuth client', c.req.param('id') ?? '')
    return c.json(renderClient(client))
  }
  app.put('/oauth/clients/:id', guard, update)
  app.patch('/oauth/clients/:id', guard, update)
  app.delete('/oauth/clients/:id', guard, async (c) => {
    const accountId = writing(c, 'OAuth clients')
    if (!(await oauth.deleteClient(accountId, numericId(c), clock.now()))) {
      throw notFound('OAuth client', c.req.param('id'))
    }
    return c.body(null, 204)
  })

  app.get('/oauth/tokens', guard, async (c) => {
    const accountId = reading(c, 'OAuth tokens')
    const clients = new Map((await oauth.listClients(accountId)).map((cl) => [cl.id, cl]))
    const grants = await oauth.listActiveGrants(accountId, clock.now())
    return c.json(grants.map((g) => renderGrant(g, clients.get(g.clientId))))
  })
  app.get('/oauth/tokens/:id', guard, async (c) => {
    const accountId = reading(c, 'OAuth tokens')
    const grant = await oauth.getGrant(accountId, numericId(c))
    if (!grant || grant.revokedAt !== null) throw notFound('OAuth token', c.req.param('id'))
    return c.json(renderGrant(grant, await oauth.getClient(accountId, grant.clientId)))
  })
  app.delete('/oauth/tokens/:id', guard, async (c) => {
    const accountId = writing(c, 'OAuth tokens')
    if (!(await oauth.revokeGrant(accountId, numericId(c), clock.now()))) {
      throw notFound('OAuth token', c.req.param('id'))
    }
    return c.body(null, 204)
  })

  const allowed: Record<string, string> = {
    '/oauth/clients': 'GET, POST',
    '/oauth/clients/:id': 'GET, PUT, PATCH, DELETE',
    '/oauth/tokens': 'GET',
    '/oauth/tokens/:id': 'GET, DELETE',
  }
  for (const [path, methods] of Object.entries(allowed)) {
    app.all(path, () => {
      throw new AppError(
        'METHOD_NOT_ALLOWED',
        `${METHOD_NOT_ALLOWED} This path serves ${methods}.`,
        { headers: { allow: methods } },
      )
    })
  }
  return app
}

/** Zendesk's OAuth client object (reference-notes §1.5); the secret only right after creation. */
function renderClient(client: OAuthClientRecord, secret?: string): Record<string, unknown> {
  return {
    id: client.id,
    name: client.name,
    company: client.company,
    client_identifier: client.identifier,
    ...(secret === undefined ? {} : { client_secret: secret }),
    client_type: client.clientType,
    redirect_uris: client.redirectUris.join(' '),
    scopes: client.scopes.join(' '),
    agent_id: null,
    create_date: formatIso(client.createdAt),
    update_date: formatIso(client.updatedAt),
  }
}

/**
 * Zendesk's OAuth token object, without `access_token` and `refresh_token`: only their SHA-256
 * is stored, so they cannot be shown again (they were shown once, by the token endpoint).
 */
function renderGrant(
  grant: OAuthGrantRecord,
  client: OAuthClientRecord | undefined,
): Record<string, unknown> {
  return {
    id: grant.id,
    client_identifier: client?.identifier ?? null,
    scopes: grant.scope,
    token_type: 'Bearer',
    agent_id: null,
    create_date: formatIso(grant.createdAt),
    expire_date: grant.expiresAt === null ? null : formatIso(grant.expiresAt),
  }
}

interface ClientFields {
  name?: string
  company?: string
  redirectUris?: string[]
  clientType?: OAuthClientType
  scopes?: Scope[]
}

/** The writable fields of a client body (bare, or under `client` / `oauth_client`). */
function clientFields(body: unknown, creating: boolean): ClientFields & OAuthClientChanges {
  let record = asObject(body)
  const wrapped = record['oauth_client'] ?? record['client']
  if (wrapped !== undefined) record = asObject(wrapped)
  const fields: ClientFields = {}
  const bad = (why: string) => new AppError('INVALID_RESOURCE', why)
  for (const key of Object.keys(record)) {
    if (
      ![
        'name',
        'company',
        'redirect_uris',
        'client_type',
        'scopes',
        'id',
        'client_identifier',
        'agent_id',
        'create_date',
        'update_date',
      ].includes(key)
    ) {
      throw bad(
        `"${key.slice(0, 40)}" is not a field of an OAuth client. Send name, company, redirect_uris, scopes, client_type.`,
      )
    }
  }
  const text = (key: string): string | undefined => {
    const value = record[key]
    if (value === undefined) return undefined
    if (typeof value !== 'string') throw bad(`${key} must be a string.`)
    return value
  }
  const list = (key: string): string[] | undefined => {
    const value = record[key]
    if (value === undefined) return undefined
    const items = typeof value === 'string' ? value.split(/\s+/) : value
    if (!Array.isArray(items) || !items.every((v) => typeof v === 'string')) {
      throw bad(`${key} must be a space-separated string or an array of strings.`)
    }
    return items.filter((v: string) => v !== '')
  }
  const name = text('name')
  if (name !== undefined) {
    if (name.trim() === '' || name.length > 200) throw bad('name must be 1 to 200 characters.')
    fields.name = name
  } else if (creating) throw bad('name is required.')
  const company = text('company')
  if (company !== undefined) fields.company = company.slice(0, 200)
  const uris = list('redirect_uris')
  if (uris !== undefined) {
    if (uris.length === 0) throw bad('redirect_uris needs at least one absolute URL.')
    for (const uri of uris) {
      if (!isAbsoluteUrl(uri))
        throw bad(`redirect_uris: "${uri.slice(0, 80)}" is not an absolute URL.`)
    }
    fields.redirectUris = uris
  } else if (creating) throw bad('redirect_uris is required (one or more absolute URLs).')
  const type = text('client_type')
  if (type !== undefined) {
    if (type !== 'public' && type !== 'confidential') {
      throw bad('client_type must be "public" or "confidential".')
    }
    fields.clientType = type
  }
  const scopes = list('scopes')
  if (scopes !== undefined) {
    // A client's scopes are read and/or write (reference-notes §1.5); chat is always grantable.
    const known = scopes.filter((s): s is Scope => s === 'read' || s === 'write')
    if (known.length === 0) throw bad('scopes must include read and/or write.')
    fields.scopes = [...new Set(known)]
  }
  return fields
}

function isAbsoluteUrl(text: string): boolean {
  try {
    const url = new URL(text)
    return url.protocol !== 'javascript:' && url.protocol !== 'data:' && url.hash === ''
  } catch {
    return false
  }
}

function asObject(value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AppError('INVALID_BODY', 'The body must be a JSON object of fields.')
  }
  return value as Record<string, unknown>
}

async function readJson(c: Ctx): Promise<unknown> {
  const text = await c.req.text()
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
    throw new AppError('PAYLOAD_TOO_LARGE', `The body is larger than ${MAX_BODY_BYTES} bytes.`)
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new AppError('INVALID_BODY', 'The body is not valid JSON. Send a JSON object of fields.')
  }
}

function numericId(c: Ctx): number {
  const raw = c.req.param('id') ?? ''
  return /^\d{1,15}$/.test(raw) ? Number(raw) : 0
}

function notFound(what: string, id: string | undefined): AppError {
  return new AppError(
    'RESOURCE_NOT_FOUND',
    `There is no ${what} "${(id ?? '').slice(0, 40)}" in this account. List them with GET on the collection.`,
  )
}
