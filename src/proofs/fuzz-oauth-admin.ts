/**
 * The fuzz proof's OAuth endpoints (docs/oauth.md: the token endpoint's form and JSON bodies, the
 * consent page's query and form) and admin routes (docs/admin.md: accounts, reset and seed, fault
 * scripts, the request journal, stats and tail, the clock).
 * @module
 */
import fc from 'fast-check'
import type { FuzzContext, FuzzRequest } from './fuzz-values.js'
import {
  authHeader,
  jsonBody,
  pct,
  queryParams,
  queryString,
  queryValue,
  rawBodies,
  segment,
} from './fuzz-values.js'

const ADMIN = '/api/chat-export/v1/admin'

/** A parameter value: a real one (weighted) or an extreme one. */
function value(...real: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...real) },
    { weight: 2, arbitrary: queryValue },
  )
}

/** Encodes parameters as a form body, JSON, or JSON with extreme non-string values. */
function paramsBody(
  params: Record<string, string>,
): fc.Arbitrary<{ body: string | Uint8Array; type: string }> {
  const form = new URLSearchParams(params).toString()
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc.constant({ body: form, type: 'application/x-www-form-urlencoded' }),
    },
    {
      weight: 2,
      arbitrary: fc.constant({ body: JSON.stringify(params), type: 'application/json' }),
    },
    fc.constant({ body: form, type: '' }),
    jsonBody([params]).map((body) => ({ body, type: 'application/json' })),
    rawBodies.map((body) => ({ body, type: 'application/x-www-form-urlencoded' })),
    fc.constant({ body: `a=${'x'.repeat(70_000)}`, type: 'application/x-www-form-urlencoded' }),
  )
}

function tokenRoute(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const clients = ctx.oauthClients
  const client = clients.length
    ? fc.constantFrom(...clients)
    : fc.constant({ id: 'x', secret: 'y', redirectUri: 'https://x' })
  const params = fc
    .record({
      grant_type: value(
        'authorization_code',
        'refresh_token',
        'client_credentials',
        'password',
        '',
      ),
      client: client,
      sendId: fc.boolean(),
      secret: fc.constantFrom('right', 'wrong', 'none', 'basic', 'basic wrong'),
      code: value('cxa_0000000000000000', 'cxa_', ''),
      redirect_uri: fc.oneof(
        client.map((c) => c.redirectUri),
        queryValue,
      ),
      refresh_token: value('cxr_0000000000000000', 'cxr_'),
      scope: value('read', 'read write', 'write', 'chat', 'read admin', ''),
      username: value(ctx.accountName, ctx.otherName, 'fuzz@example.com'),
      password: value(ctx.owner, ctx.readOnly, ctx.agent, ctx.other, 'cxp_'),
      extra: queryParams(['state', 'client_id', 'grant_type'], 2),
    })
    .map((p) => {
      const out: Record<string, string> = { ...p.extra, grant_type: p.grant_type }
      for (const k of [
        'code',
        'redirect_uri',
        'refresh_token',
        'scope',
        'username',
        'password',
      ] as const) {
        out[k] = p[k]
      }
      if (p.sendId) out['client_id'] = p.client.id
      if (p.secret === 'right') out['client_secret'] = p.client.secret
      if (p.secret === 'wrong') out['client_secret'] = `${p.client.secret}x`
      const basic =
        p.secret === 'basic' || p.secret === 'basic wrong'
          ? `Basic ${Buffer.from(`${encodeURIComponent(p.client.id)}:${p.secret === 'basic' ? encodeURIComponent(p.client.secret) : '%E0%A4%A'}`).toString('base64')}`
          : undefined
      return { params: out, basic }
    })
  return fc
    .record({
      path: fc.constantFrom('/oauth2/token', '/oauth2/chat/token'),
      p: params,
      m: fc.oneof(
        { weight: 19, arbitrary: fc.constant('POST') },
        fc.constantFrom('GET', 'PUT', 'DELETE'),
      ),
      host: fc.constantFrom(
        '',
        `${ctx.accountName}.zendesk.com`,
        `${ctx.otherName}.zopim.com`,
        'nope.zendesk.com',
      ),
    })
    .chain(({ path, p, m, host }) =>
      paramsBody(p.params).map(({ body, type }) => ({
        route: 'oauth token',
        method: m,
        path,
        headers: {
          ...(type ? { 'content-type': type } : {}),
          ...(p.basic ? { authorization: p.basic } : {}),
          ...(host ? { host } : {}),
        },
        ...(m === 'GET' ? {} : { body }),
        errorShape: m === 'POST' ? ('oauth' as const) : ('api' as const),
      })),
    )
}

function authorizeRoute(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const clients = ctx.oauthClients
  const client = clients.length
    ? fc.constantFrom(...clients)
    : fc.constant({ id: 'x', secret: 'y', redirectUri: 'https://x' })
  return fc
    .record({
      path: fc.constantFrom('/oauth2/authorizations/new', '/oauth2/chat/authorizations/new'),
      m: fc.oneof(
        { weight: 9, arbitrary: fc.constantFrom('GET', 'POST') },
        fc.constantFrom('PUT', 'DELETE'),
      ),
      client,
      params: fc.record(
        {
          response_type: value('code', 'token'),
          redirect_uri: queryValue,
          scope: value('read', 'read write', 'chat', 'write admin'),
          state: queryValue,
          subdomain: value(ctx.accountName, ctx.otherName),
          decision: value('approve', 'deny'),
          owner_token: value(ctx.owner, ctx.readOnly, ctx.agent, ctx.other),
        },
        { requiredKeys: [] },
      ),
      realRedirect: fc.boolean(),
      sendId: fc.oneof(
        { weight: 4, arbitrary: fc.constant('real') },
        fc.constantFrom('none', 'random'),
      ),
      randomId: queryValue,
    })
    .chain(({ path, m, client, params, realRedirect, sendId, randomId }) => {
      const all: Record<string, string> = {}
      for (const [k, v] of Object.entries(params)) if (v !== undefined) all[k] = v
      if (realRedirect) all['redirect_uri'] = client.redirectUri
      if (sendId === 'real') all['client_id'] = client.id
      if (sendId === 'random') all['client_id'] = randomId
      const request = (body?: string | Uint8Array, type?: string): FuzzRequest => ({
        route: 'oauth authorize',
        method: m,
        path: m === 'GET' ? `${path}${queryString(all)}` : path,
        headers: type ? { 'content-type': type } : {},
        ...(body === undefined ? {} : { body }),
        errorShape: m === 'GET' || m === 'POST' ? 'page' : 'api',
      })
      return m === 'POST'
        ? paramsBody(all).map(({ body, type }) => request(body, type))
        : fc.constant(request())
    })
}

/** An account name in an admin path: the admin target, the two others, or an extreme value. */
function accountName(ctx: FuzzContext): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.constant(ctx.adminName) },
    fc.constantFrom(ctx.accountName, ctx.otherName, 'nope'),
    queryValue,
  )
}

function admin(
  ctx: FuzzContext,
  route: string,
  shape: fc.Arbitrary<{
    method: string
    path: string
    body?: string | Uint8Array
    stream?: boolean
  }>,
): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      shape,
      auth: authHeader(ctx, ctx.adminOwner),
      queryToken: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, fc.constant(true)),
    })
    .map(({ shape, auth, queryToken }) => {
      // The live journal also takes ?access_token= (EventSource sends no headers).
      const viaQuery = queryToken && shape.stream === true
      const path = viaQuery
        ? `${shape.path}${shape.path.includes('?') ? '&' : '?'}access_token=${pct(auth.replace(/^Bearer /, ''))}`
        : shape.path
      return {
        route,
        method: shape.method,
        path: `${ADMIN}${path}`,
        headers: {
          ...(auth && !viaQuery ? { authorization: auth } : {}),
          ...(shape.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(shape.body === undefined ? {} : { body: shape.body }),
        ...(shape.stream ? { stream: true } : {}),
      }
    })
}

function method(...usual: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 9, arbitrary: fc.constantFrom(...usual) },
    fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE'),
  )
}

function withBody(m: string, body: fc.Arbitrary<string | Uint8Array>) {
  return m === 'GET' || m === 'DELETE' ? fc.constant({}) : body.map((b) => ({ body: b }))
}

/** Every admin and OAuth route family, by name. */
export function oauthAdminRoutes(ctx: FuzzContext): Array<[string, fc.Arbitrary<FuzzRequest>]> {
  const accounts = fc.record({ m: method('GET', 'POST') }).chain(({ m }) =>
    withBody(m, jsonBody([{ name: 'fuzz-made' }, { name: ctx.adminName }])).map((b) => ({
      method: m,
      path: '/accounts',
      ...b,
    })),
  )
  // Small seeds only: a seeded reset simulates days × arrivals_per_hour chats in one transaction.
  const reset = fc
    .record({ m: method('POST'), name: accountName(ctx) })
    .chain(({ m, name }) =>
      withBody(
        m,
        fc.oneof(
          jsonBody([{ seed: 7, days: 0.05, arrivals_per_hour: 20 }, {}, { seed: 1, days: 0 }]),
          fc.constant(''),
        ),
      ).map((b) => ({ method: m, path: `/accounts/${segment(name)}/reset`, ...b })),
    )
  const rules = [
    {
      match: { stream: 'chats' },
      trigger: { type: 'fail_then_succeed', count: 2 },
      fault: { kind: 'status', status: 429, retry_after: 3 },
    },
    {
      match: { path: '/api/v2' },
      trigger: { type: 'every', k: 3 },
      fault: { kind: 'latency', ms: 5 },
    },
    {
      match: { method: 'GET' },
      trigger: { type: 'next', count: 1 },
      fault: { kind: 'body', damage: 'truncated' },
    },
    { trigger: { type: 'next', count: 1 }, fault: { kind: 'reset', when: 'mid_body' } },
  ]
  const faults = fc
    .record({
      m: method('GET', 'PUT', 'POST', 'DELETE'),
      name: accountName(ctx),
      list: fc.boolean(),
    })
    .chain(({ m, name, list }) =>
      withBody(
        m,
        list ? jsonBody([rules as unknown as Record<string, unknown>]) : jsonBody(rules),
      ).map((b) => ({
        method: m,
        path: `/accounts/${segment(name)}/faults`,
        ...b,
      })),
    )
  const journal = fc
    .record({
      name: accountName(ctx),
      m: method('GET'),
      stream: fc.oneof({ weight: 9, arbitrary: fc.constant(false) }, fc.constant(true)),
      params: queryParams(['path', 'status', 'faulted', 'limit']),
    })
    .map(({ name, m, stream, params }) => ({
      method: m,
      path: `/accounts/${segment(name)}/requests${stream ? '/stream' : ''}${queryString(params)}`,
      stream: stream && m === 'GET',
    }))
  const stats = fc
    .record({
      name: accountName(ctx),
      m: method('GET'),
      which: fc.constantFrom('stats', 'tail'),
      params: queryParams(['window_hours', 'stream', 'after']),
    })
    .map(({ name, m, which, params }) => ({
      method: m,
      path: `/accounts/${segment(name)}/${which}${queryString(params)}`,
    }))
  const clock = fc.record({ m: method('GET', 'POST') }).chain(({ m }) =>
    withBody(m, jsonBody([{ advance_seconds: 60 }, { set: '2030-01-01T00:00:00Z' }])).map((b) => ({
      method: m,
      path: '/clock',
      ...b,
    })),
  )
  return [
    ['oauth token', tokenRoute(ctx)],
    ['oauth authorize', authorizeRoute(ctx)],
    ['admin accounts', admin(ctx, 'admin accounts', accounts)],
    ['admin reset', admin(ctx, 'admin reset', reset)],
    ['admin faults', admin(ctx, 'admin faults', faults)],
    ['admin journal', admin(ctx, 'admin journal', journal)],
    ['admin stats and tail', admin(ctx, 'admin stats and tail', stats)],
    ['admin clock', admin(ctx, 'admin clock', clock)],
  ]
}
