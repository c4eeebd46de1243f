/**
 * The fuzz proof's REST routes (docs/rest.md): the directory resources, the chats outside the
 * export, and the OAuth clients and tokens API, under both path shapes, with parameters, bodies
 * mutated from valid templates and every kind of token.
 * @module
 */
import fc from 'fast-check'
import { SEARCH_VALUE_FIELDS } from '../domain/rest/chat-search.js'
import type { FuzzContext, FuzzRequest } from './fuzz-values.js'
import {
  authHeader,
  jsonBody,
  pathId,
  queryParams,
  queryString,
  queryValue,
  REST_PREFIXES,
  segment,
} from './fuzz-values.js'

type Json = Record<string, unknown>

/** A collection of the directory: its path and valid create bodies. */
interface Collection {
  path: string
  singular: string
  templates: Json[]
  /** What `GET /{path}/{lookup}/{value}` serves, if anything. */
  lookup?: 'name' | 'email'
  remove: boolean
  update: boolean
}

const COLLECTIONS: Collection[] = [
  {
    path: 'agents',
    singular: 'agent',
    lookup: 'email',
    remove: true,
    update: true,
    templates: [
      {
        email: 'fuzz@example.com',
        password: 'secret12',
        first_name: 'F',
        last_name: 'Z',
        display_name: 'FZ',
        enabled: true,
        role_id: null,
        departments: [],
        enabled_departments: [],
        skills: [],
      },
      { email: 'fuzz2@example.com', password: 'secret12', 'agent.display_name': 'Ann' },
    ],
  },
  {
    path: 'bans',
    singular: 'ban',
    remove: true,
    update: false,
    templates: [
      { ip_address: '10.0.0.1', reason: 'spam' },
      { visitor_id: '1.2', visitor_name: 'v', reason: '' },
    ],
  },
  {
    path: 'departments',
    singular: 'department',
    lookup: 'name',
    remove: true,
    update: true,
    templates: [
      {
        name: 'Fuzz',
        description: '',
        enabled: true,
        members: [],
        settings: { chat_enabled: true, solved_ticket_reassignment_strategy: '' },
      },
      { name: 'Fuzz 2', 'settings.chat_enabled': 0 },
    ],
  },
  {
    path: 'goals',
    singular: 'goal',
    remove: true,
    update: true,
    templates: [
      {
        name: 'G',
        description: '',
        enabled: 1,
        attribution_model: 'first_touch',
        attribution_period: 30,
        settings: { conditions: [{ type: 'url', operator: 'contains', value: 'x' }] },
      },
    ],
  },
  {
    path: 'roles',
    singular: 'role',
    remove: false,
    update: true,
    templates: [
      { name: 'R', description: '', enabled: true, permissions: { visitors_seen: 'all' } },
    ],
  },
  {
    path: 'skills',
    singular: 'skill',
    lookup: 'name',
    remove: true,
    update: true,
    templates: [{ name: 'S', description: '', enabled: true, members: [] }],
  },
  {
    path: 'shortcuts',
    singular: 'shortcut',
    remove: true,
    update: true,
    templates: [
      { name: 'sc', message: 'Hello', options: 'a/b', tags: ['t'], scope: 'all' },
      { name: 'sc2', message: 'Bye', departments: [1], agents: [] },
    ],
  },
  {
    path: 'triggers',
    singular: 'trigger',
    remove: true,
    update: true,
    templates: [
      {
        name: 'T',
        description: '',
        enabled: true,
        definition: { event: 'chat_requested', condition: ['and'], actions: [] },
      },
    ],
  },
]

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const

/** Content types a write body is sent with. */
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  '',
)

/** Templates, and the same wrapped in the resource's singular name (zenpy's envelope). */
function withEnvelope(singular: string, templates: Json[]): Json[] {
  return [...templates, ...templates.map((t) => ({ [singular]: t }))]
}

/** Ids of the fuzzed account's own records of a kind, and small integers the fuzzer's creates get. */
function ids(ctx: FuzzContext, key: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: pathId(ctx.ownIds[key] ?? []) },
    { weight: 2, arbitrary: fc.integer({ min: 1, max: 300 }).map(String) },
    {
      weight: 1,
      arbitrary: ctx.otherIds.length ? fc.constantFrom(...ctx.otherIds) : fc.constant('1'),
    },
  )
}

interface Shape {
  method: string
  /** Path after the prefix. */
  path: string
  body?: string | Uint8Array
}

function request(
  ctx: FuzzContext,
  route: string,
  shape: fc.Arbitrary<Shape>,
): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      prefix: fc.constantFrom(...REST_PREFIXES),
      shape,
      auth: authHeader(ctx),
      type: contentType,
      accept: fc.constantFrom('application/json', '*/*', 'text/html', ''),
    })
    .map(({ prefix, shape, auth, type, accept }) => ({
      route,
      method: shape.method,
      path: `${prefix}${shape.path}`,
      headers: {
        ...(auth ? { authorization: auth } : {}),
        ...(accept ? { accept } : {}),
        ...(shape.body !== undefined && type ? { 'content-type': type } : {}),
      },
      ...(shape.body === undefined ? {} : { body: shape.body }),
      ownRead: shape.method === 'GET',
    }))
}

/** The method: mostly the given ones, sometimes any other. */
function method(...usual: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 9, arbitrary: fc.constantFrom(...usual) },
    { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
  )
}

/** A body for the methods that take one (and sometimes for those that do not). */
function bodyFor(m: string, body: fc.Arbitrary<string | Uint8Array>) {
  if (m === 'POST' || m === 'PUT' || m === 'PATCH') return body.map((b) => ({ body: b }))
  // fetch sends no body with GET or HEAD.
  return m === 'GET' || m === 'HEAD' ? fc.constant({}) : fc.constantFrom({}, { body: '{}' })
}

function collectionRoute(ctx: FuzzContext, c: Collection): fc.Arbitrary<FuzzRequest> {
  const body = jsonBody(withEnvelope(c.singular, c.templates))
  const writes = ['POST', ...(c.update ? ['PUT', 'PATCH'] : []), ...(c.remove ? ['DELETE'] : [])]
  const list = fc
    .record({
      m: method('GET', 'POST'),
      params: queryParams(['since_id', 'max_id', 'limit']),
    })
    .chain(({ m, params }) =>
      bodyFor(m, body).map((b) => ({ method: m, path: `/${c.path}${queryString(params)}`, ...b })),
    )
  const one = fc
    .record({ m: method('GET', ...writes.filter((w) => w !== 'POST')), id: ids(ctx, c.path) })
    .chain(({ m, id }) =>
      bodyFor(m, body).map((b) => ({ method: m, path: `/${c.path}/${segment(id)}`, ...b })),
    )
  const lookups: fc.Arbitrary<Shape>[] = []
  if (c.lookup) {
    lookups.push(
      fc
        .record({
          m: method('GET'),
          v: fc.oneof(
            queryValue,
            fc.constantFrom('Fuzz', 'S', 'FUZZ@EXAMPLE.COM', 'fuzz@example.com', 'Other Dept'),
          ),
        })
        .map(({ m, v }) => ({ method: m, path: `/${c.path}/${c.lookup}/${segment(v)}` })),
    )
  }
  if (c.path === 'agents') lookups.push(fc.constant({ method: 'GET', path: '/agents/me' }))
  if (c.path === 'bans') lookups.push(fc.constant({ method: 'GET', path: '/bans/ip' }))
  return request(
    ctx,
    `rest ${c.path}`,
    fc.oneof({ weight: 3, arbitrary: list }, { weight: 4, arbitrary: one }, ...lookups),
  )
}

function accountRoute(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const account = jsonBody(
    withEnvelope('account', [
      { status: 'active', billing: { city: 'Oslo', company: 'Fuzz', cycle: 1 } },
      { 'billing.city': 'Bergen', account_key: 'echoed', plan: { name: 'x' } },
    ]),
  )
  const routing = jsonBody([
    {
      routing_mode: 'assigned',
      chat_limit: { enabled: true, limit: 3, limit_type: 'account', allow_agent_override: false },
      skill_routing: { enabled: false, max_wait_time: 30 },
    },
    { data: { reassignment: { enabled: true, timeout: 30 } } },
    { 'auto_idle.new_status': 'away', 'auto_accept.enabled': 1 },
  ])
  const shape = fc
    .record({
      which: fc.constantFrom('/account', '/routing_settings/account'),
      m: method('GET', 'PUT', 'PATCH'),
    })
    .chain(({ which, m }) =>
      bodyFor(m, which === '/account' ? account : routing).map((b) => ({
        method: m,
        path: which,
        ...b,
      })),
    )
  return request(ctx, 'rest account', shape)
}

function agentRoutingRoute(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const body = jsonBody([
    { chat_limit: { enabled: true, limit: 5 } },
    { data: { chat_limit: { enabled: false, limit: 0 } } },
    { 'chat_limit.limit': 20, id: 1 },
  ])
  const shape = fc
    .record({
      which: fc.oneof(
        fc.constant(''),
        fc.constant('/me'),
        ids(ctx, 'agents').map((id) => `/${segment(id)}`),
      ),
      m: method('GET', 'PUT', 'PATCH'),
    })
    .chain(({ which, m }) =>
      bodyFor(m, body).map((b) => ({ method: m, path: `/routing_settings/agents${which}`, ...b })),
    )
  return request(ctx, 'rest routing_settings agents', shape)
}

function visitorsRoute(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const body = jsonBody(
    withEnvelope('visitor', [
      { name: 'v', email: 'v@example.com', phone: '+47', notes: '', external_id: 'x' },
      { 'visitor.notes': 'vip', banned: 1 },
    ]),
  )
  const create = fc
    .record({ m: method('POST') })
    .chain(({ m }) => bodyFor(m, body).map((b) => ({ method: m, path: '/visitors', ...b })))
  const one = fc
    .record({ m: method('GET', 'PUT', 'PATCH'), id: ids(ctx, 'visitors') })
    .chain(({ m, id }) =>
      bodyFor(m, body).map((b) => ({ method: m, path: `/visitors/${segment(id)}`, ...b })),
    )
  return request(ctx, 'rest visitors', fc.oneof(create, one))
}

/** A chat id: one of the account's, the other account's, or an extreme value. */
function chatId(ctx: FuzzContext): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: pathId(ctx.ownIds['chats'] ?? []) },
    {
      weight: 2,
      arbitrary: ctx.otherIds.length ? fc.constantFrom(...ctx.otherIds) : fc.constant('x'),
    },
  )
}

function chatsListRoute(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const cursor = fc.oneof(
    chatId(ctx).map((id) => Buffer.from(id, 'utf8').toString('base64url')),
    queryValue,
    fc.constantFrom('', '====', 'AA', Buffer.from('\ud800', 'utf8').toString('base64url')),
  )
  const shape = fc
    .record({
      m: method('GET'),
      limit: fc.option(fc.oneof(queryValue, fc.integer({ min: -5, max: 200 }).map(String))),
      cursor: fc.option(cursor),
      extra: queryParams(['page', 'sort', 'since_id'], 2),
    })
    .map(({ m, limit, cursor, extra }) => {
      const params: Record<string, string> = { ...extra }
      if (limit !== null) params['limit'] = limit
      if (cursor !== null) params['cursor'] = cursor
      return { method: m, path: `/chats${queryString(params)}` }
    })
  return request(ctx, 'rest chats list', shape)
}

function chatsIdsRoute(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const shape = fc
    .record({
      m: method('GET'),
      ids: fc.array(fc.oneof(chatId(ctx), fc.constantFrom('', ' ', ',,')), { maxLength: 60 }),
      huge: fc.boolean(),
    })
    .map(({ m, ids, huge }) => {
      const list = huge ? [...ids, ...Array.from({ length: 3000 }, (_, i) => `x${i}`)] : ids
      return { method: m, path: `/chats${queryString({ ids: list.join(',') })}` }
    })
  return request(ctx, 'rest chats ids', shape)
}

const searchValue = fc.oneof(
  queryValue,
  fc.constantFrom('2026-01-01', '2026-01-01T00:00:00', '2026-01-01T00:00:00Z', '*', '"a b"', '"'),
)
const searchTerm = fc.oneof(
  searchValue.chain((a) => searchValue.map((b) => `timestamp:[${a} TO ${b}]`)),
  searchValue.chain((a) => searchValue.map((b) => `end_timestamp:[${a} TO ${b}]`)),
  fc
    .tuple(
      // Every field the search grammar knows, and one it does not.
      fc.constantFrom<string>(...SEARCH_VALUE_FIELDS, 'unknown'),
      searchValue,
    )
    .map(([k, v]) => `${k}:${v}`),
  fc.constantFrom('type:chat', 'type:offline_msg', 'OR', 'NOT', 'AND', '(', ')', '[', ']', ':'),
  searchValue,
)

function chatsSearchRoute(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const shape = fc
    .record({
      m: method('GET'),
      q: fc.option(
        fc
          .array(searchTerm, { minLength: 1, maxLength: 5 })
          .chain((terms) => fc.constantFrom(' AND ', ' ', '  ', ' OR ').map((j) => terms.join(j))),
      ),
      page: fc.option(fc.oneof(queryValue, fc.integer({ min: -1, max: 300 }).map(String))),
    })
    .map(({ m, q, page }) => {
      const params: Record<string, string> = {}
      if (q !== null) params['q'] = q
      if (page !== null) params['page'] = page
      return { method: m, path: `/chats/search${queryString(params)}` }
    })
  return request(ctx, 'rest chats search', shape)
}

function chatRoute(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const body = jsonBody([
    {
      tags: ['a', 'b'],
      rating: 'good',
      comment: 'fine',
      unread: true,
      visitor: { name: 'Ann', email: 'a@example.com', phone: '', notes: '' },
    },
    { chat: { rating: 'bad', comment: null } },
    { 'visitor.name': 'Ann Lee', unread: 0, id: 'echoed' },
    { rating: null, tags: [] },
  ])
  const shape = fc
    .record({ m: method('GET', 'PUT', 'PATCH', 'GET', 'DELETE'), id: chatId(ctx) })
    .chain(({ m, id }) =>
      bodyFor(m, body).map((b) => ({ method: m, path: `/chats/${segment(id)}`, ...b })),
    )
  return request(ctx, 'rest chat', shape)
}

function oauthClientsRoute(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const body = jsonBody([
    {
      name: 'Fuzz client',
      company: 'Fuzz',
      redirect_uris: ['https://fuzz.example/cb'],
      client_type: 'public',
      scopes: 'read write',
    },
    { client: { name: 'c', redirect_uris: 'https://a.example/x https://b.example/y' } },
    { oauth_client: { name: 'c', redirect_uris: ['javascript:alert(1)'], scopes: ['chat'] } },
  ])
  // The clients the token route uses are left alone: creates get ids above them.
  const setup = ctx.oauthClients.length + 10
  const id = fc.oneof(
    fc.integer({ min: setup, max: setup + 300 }).map(String),
    queryValue,
    fc.constantFrom('0', '-1', '1e3', '9007199254740993', '999999999999999999'),
  )
  const list = fc
    .record({ m: method('GET', 'POST') })
    .chain(({ m }) => bodyFor(m, body).map((b) => ({ method: m, path: '/oauth/clients', ...b })))
  const one = fc
    .record({ m: method('GET', 'PUT', 'PATCH', 'DELETE'), id })
    .chain(({ m, id }) =>
      bodyFor(m, body).map((b) => ({ method: m, path: `/oauth/clients/${segment(id)}`, ...b })),
    )
  return request(ctx, 'rest oauth clients', fc.oneof(list, one))
}

function oauthTokensRoute(ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const id = fc.oneof(fc.integer({ min: 0, max: 400 }).map(String), queryValue)
  const shape = fc.oneof(
    method('GET').map((m) => ({ method: m, path: '/oauth/tokens' })),
    fc
      .record({ m: method('GET', 'GET', 'DELETE'), id })
      .map(({ m, id }) => ({ method: m, path: `/oauth/tokens/${segment(id)}` })),
  )
  return request(ctx, 'rest oauth tokens', shape)
}

/** Every REST route family, by name. */
export function restRoutes(ctx: FuzzContext): Array<[string, fc.Arbitrary<FuzzRequest>]> {
  const routes: fc.Arbitrary<FuzzRequest>[] = [
    accountRoute(ctx),
    agentRoutingRoute(ctx),
    ...COLLECTIONS.map((c) => collectionRoute(ctx, c)),
    visitorsRoute(ctx),
    chatsListRoute(ctx),
    chatsIdsRoute(ctx),
    chatsSearchRoute(ctx),
    chatRoute(ctx),
    oauthClientsRoute(ctx),
    oauthTokensRoute(ctx),
  ]
  const names = [
    'rest account',
    'rest routing_settings agents',
    ...COLLECTIONS.map((c) => `rest ${c.path}`),
    'rest visitors',
    'rest chats list',
    'rest chats ids',
    'rest chats search',
    'rest chat',
    'rest oauth clients',
    'rest oauth tokens',
  ]
  return routes.map((r, i) => [names[i] as string, r])
}

/** Valid create bodies of the collections, for seeding an account before the run. */
export function seedBodies(marker: string): Array<{ path: string; body: Json }> {
  const mail = marker.replace(/\W/g, '').toLowerCase()
  return [
    {
      path: 'agents',
      body: { email: `${mail}@example.com`, password: 'secret12', display_name: marker },
    },
    { path: 'departments', body: { name: `${marker} Dept` } },
    { path: 'goals', body: { name: `${marker} Goal` } },
    { path: 'roles', body: { name: `${marker} Role` } },
    { path: 'skills', body: { name: `${marker} Skill` } },
    { path: 'shortcuts', body: { name: `${marker}-shortcut`, message: `${marker} message` } },
    { path: 'triggers', body: { name: `${marker} Trigger` } },
    { path: 'bans', body: { ip_address: '10.9.9.9', reason: marker } },
    { path: 'visitors', body: { name: `${marker} Visitor`, email: `${mail}v@example.com` } },
  ]
}
