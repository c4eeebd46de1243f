/**
 * The OpenAPI paths of the REST resources outside the export (src/http/rest-routes.ts), on both
 * path shapes, with the component schemas generated from the zod wire schemas
 * (src/domain/rest/json-schemas.ts). One table of routes below; a test checks that every route
 * the app serves, with its method, is described.
 * @module
 */
import { MAX_CHAT_LIST_LIMIT, DEFAULT_CHAT_LIST_LIMIT } from '../domain/rest/chats.js'
import { SEARCH_MAX_PAGES, SEARCH_PAGE_SIZE } from '../domain/rest/chat-search.js'
import type { RestSchemaName } from '../domain/rest/json-schemas.js'
import { restJsonSchemas } from '../domain/rest/json-schemas.js'

type Json = Record<string, unknown>
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete'

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const json = (schema: unknown) => ({ 'application/json': { schema } })
const error = (description: string) => ({ description, content: json(ref('Error')) })

const READ_ERRORS = {
  401: error('No, unknown, revoked or expired token.'),
  403: error('The token may not read this (owner or administrator, read scope).'),
  429: error('Over the rate limit; see Retry-After.'),
}
const WRITE_ERRORS = {
  400: error(
    'The body is not a JSON object of known, valid fields (the description names the field).',
  ),
  401: READ_ERRORS[401],
  403: error('The token may not write (owner or administrator, write scope).'),
  409: error('A name or email another record of the account holds.'),
}

const idWindowParameters = [
  {
    name: 'since_id',
    in: 'query',
    schema: { type: 'integer', minimum: 0 },
    description: 'Ids ≥ since_id (inclusive).',
  },
  {
    name: 'max_id',
    in: 'query',
    schema: { type: 'integer', minimum: 0 },
    description: 'Ids ≤ max_id (inclusive).',
  },
  {
    name: 'limit',
    in: 'query',
    schema: { type: 'integer', minimum: 1, maximum: 1000, default: 10 },
    description:
      'With since_id or max_id: at most this many (default 10, cap 1000). No parameter at all: the whole list.',
  },
]

/** One operation of the table. */
interface Op {
  method: Method
  summary: string
  /** 200 (or 201) body schema; null: 204 No Content. */
  response: unknown
  body?: unknown
  status?: 200 | 201 | 204
  parameters?: unknown[]
  notFound?: boolean
}

const array = (name: RestSchemaName) => ({ type: 'array', items: ref(name) })
const data = (schema: unknown) => ({
  type: 'object',
  required: ['data'],
  properties: { data: schema },
})
const banList = {
  type: 'object',
  required: ['ip_address', 'visitor'],
  properties: { ip_address: array('IpBan'), visitor: array('VisitorBan') },
}
const chatList = {
  type: 'object',
  required: ['chats', 'count', 'next_url'],
  properties: {
    chats: { type: 'array', items: ref('Chat') },
    count: { type: 'integer' },
    next_url: {
      type: ['string', 'null'],
      format: 'uri',
      description: 'Follow verbatim; null on the last page.',
    },
  },
}
const chatDocs = {
  type: 'object',
  required: ['docs', 'count'],
  properties: {
    docs: {
      type: 'object',
      additionalProperties: ref('Chat'),
      description: 'Keyed by chat id; unknown ids are left out.',
    },
    count: { type: 'integer' },
  },
}
const searchResults = {
  type: 'object',
  required: ['results', 'count', 'next_url'],
  properties: {
    results: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'type', 'timestamp', 'preview', 'url'],
        properties: {
          id: { type: 'string' },
          type: { type: 'string', enum: ['chat', 'offline_msg'] },
          timestamp: { type: ['string', 'null'] },
          preview: { type: 'string' },
          url: { type: 'string', format: 'uri', description: "The chat's own API URL." },
        },
      },
    },
    count: { type: 'integer', description: 'Every match of the query, not only this page.' },
    next_url: { type: ['string', 'null'], format: 'uri' },
  },
}

const pathParam = (name: string, description: string) => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description,
})

/** The routes, relative to `/api/v2/chat` (and the legacy `/api/v2`). */
function routes(): Record<string, Op[]> {
  const table: Record<string, Op[]> = {
    '/account': [
      { method: 'get', summary: 'The account', response: ref('Account') },
      {
        method: 'put',
        summary: 'Change the account',
        response: ref('Account'),
        body: ref('AccountWrite'),
      },
    ],
    '/routing_settings/account': [
      {
        method: 'get',
        summary: 'Account routing settings',
        response: data(ref('AccountRoutingSettings')),
      },
      {
        method: 'put',
        summary: 'Change account routing settings',
        response: data(ref('AccountRoutingSettings')),
        body: ref('AccountRoutingSettingsWrite'),
      },
    ],
    '/routing_settings/agents': [
      {
        method: 'get',
        summary: 'Routing settings of every agent',
        response: data({ type: 'array', items: ref('AgentRoutingSettings') }),
      },
    ],
    '/agents/me': [
      { method: 'get', summary: 'The account owner agent', response: ref('Agent'), notFound: true },
    ],
    '/agents/email/{email}': [
      {
        method: 'get',
        summary: 'An agent by email (any case)',
        response: ref('Agent'),
        notFound: true,
      },
    ],
    '/bans/ip': [{ method: 'get', summary: 'IP bans', response: array('IpBan') }],
    '/departments/name/{name}': [
      {
        method: 'get',
        summary: 'A department by name',
        response: ref('Department'),
        notFound: true,
      },
    ],
    '/skills/name/{name}': [
      { method: 'get', summary: 'A skill by name', response: ref('Skill'), notFound: true },
    ],
    '/visitors': [
      {
        method: 'post',
        summary: 'Create a visitor',
        response: ref('Visitor'),
        body: ref('VisitorWrite'),
        status: 201,
      },
    ],
    '/visitors/{id}': [
      { method: 'get', summary: 'A visitor', response: ref('Visitor'), notFound: true },
      {
        method: 'put',
        summary: 'Change a visitor',
        response: ref('Visitor'),
        body: ref('VisitorWrite'),
        notFound: true,
      },
    ],
    '/chats': [
      {
        method: 'get',
        summary: 'Chats by id (cursor pages), or several chats by id (ids=a,b)',
        response: { oneOf: [chatList, chatDocs] },
        parameters: [
          {
            name: 'ids',
            in: 'query',
            schema: { type: 'string' },
            description: 'Comma-separated chat ids: answers {docs, count}.',
          },
          {
            name: 'cursor',
            in: 'query',
            schema: { type: 'string' },
            description: 'From next_url; opaque.',
          },
          {
            name: 'limit',
            in: 'query',
            schema: {
              type: 'integer',
              minimum: 1,
              maximum: MAX_CHAT_LIST_LIMIT,
              default: DEFAULT_CHAT_LIST_LIMIT,
            },
          },
        ],
      },
    ],
    '/chats/search': [
      {
        method: 'get',
        summary: `Search chats (${SEARCH_PAGE_SIZE} a page, pages 1–${SEARCH_MAX_PAGES})`,
        response: searchResults,
        parameters: [
          {
            name: 'q',
            in: 'query',
            required: true,
            schema: {
              type: 'string',
              examples: [
                'type:chat AND end_timestamp:[2024-01-01T00:00:00 TO 2024-01-15T00:00:00]',
              ],
            },
            description:
              'Terms joined by AND: timestamp / end_timestamp ranges, type:, visitor_email:, visitor_name:, rating:, agent_names:, department_name:, tags:, free text. See docs/rest.md.',
          },
          {
            name: 'page',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: SEARCH_MAX_PAGES, default: 1 },
          },
        ],
      },
    ],
    '/chats/{id}': [
      {
        method: 'get',
        summary: 'One chat (deleted chats: 404)',
        response: ref('Chat'),
        notFound: true,
      },
      {
        method: 'put',
        summary:
          'Change tags, rating, comment, unread or visitor details; the chats export serves the change',
        response: ref('Chat'),
        body: ref('ChatUpdate'),
        notFound: true,
      },
      {
        method: 'delete',
        summary: 'Delete a chat; the chats export serves it with deleted: true',
        response: null,
        status: 204,
        notFound: true,
      },
    ],
  }
  for (const routing of ['/routing_settings/agents/me', '/routing_settings/agents/{id}']) {
    table[routing] = [
      {
        method: 'get',
        summary: "An agent's routing settings",
        response: data(ref('AgentRoutingSettings')),
        notFound: true,
      },
      {
        method: 'put',
        summary: "Change an agent's routing settings",
        response: data(ref('AgentRoutingSettings')),
        body: ref('AgentRoutingSettingsWrite'),
        notFound: true,
      },
    ]
  }
  const collections: [string, RestSchemaName, { update: boolean; remove: boolean }][] = [
    ['agents', 'Agent', { update: true, remove: true }],
    ['bans', 'IpBan', { update: false, remove: true }],
    ['departments', 'Department', { update: true, remove: true }],
    ['goals', 'Goal', { update: true, remove: true }],
    ['roles', 'Role', { update: true, remove: false }],
    ['skills', 'Skill', { update: true, remove: true }],
    ['shortcuts', 'Shortcut', { update: true, remove: true }],
    ['triggers', 'Trigger', { update: true, remove: true }],
  ]
  for (const [path, name, verbs] of collections) {
    const ban = path === 'bans'
    const one = ban ? { oneOf: [ref('IpBan'), ref('VisitorBan')] } : ref(name)
    const windowed = path === 'agents' || ban
    table[`/${path}`] = [
      {
        method: 'get',
        summary: `List ${path} (ascending by id; [] when none)`,
        response: ban ? banList : array(name),
        ...(windowed ? { parameters: idWindowParameters } : {}),
      },
      {
        method: 'post',
        summary: `Create a ${name.toLowerCase()}`,
        response: one,
        body: ref(ban ? 'BanWrite' : `${name}Write`),
        status: 201,
      },
    ]
    const item: Op[] = [
      { method: 'get', summary: `One ${path.slice(0, -1)}`, response: one, notFound: true },
    ]
    if (verbs.update) {
      item.push({
        method: 'put',
        summary: `Change a ${path.slice(0, -1)}`,
        response: one,
        body: ref(`${name}Write`),
        notFound: true,
      })
    }
    if (verbs.remove) {
      item.push({
        method: 'delete',
        summary: `Delete a ${path.slice(0, -1)}`,
        response: null,
        status: 204,
        notFound: true,
      })
    }
    table[`/${path}/{id}`] = item
  }
  return table
}

function operation(path: string, op: Op, legacy: boolean): Json {
  const writes = op.method !== 'get'
  const status = op.status ?? 200
  const params = [...(path.match(/\{(\w+)\}/g) ?? [])].map((p) => {
    const name = p.slice(1, -1)
    return pathParam(
      name,
      name === 'id' && path.startsWith('/triggers')
        ? 'An id (all digits) or a name.'
        : `The ${name}.`,
    )
  })
  const operationId = `${op.method}_${path.replace(/[/{}]+/g, '_').replace(/^_|_$/g, '')}${legacy ? '_legacy' : ''}`
  return {
    operationId,
    summary: legacy ? `${op.summary} (legacy path)` : op.summary,
    tags: [path.startsWith('/chats') ? 'chats' : 'directory'],
    security: [{ bearer: [writes ? 'write' : 'read'] }],
    ...(params.length + (op.parameters?.length ?? 0) > 0
      ? { parameters: [...params, ...(op.parameters ?? [])] }
      : {}),
    ...(op.body ? { requestBody: { required: true, content: json(op.body) } } : {}),
    responses: {
      [status]:
        op.response === null
          ? { description: 'No Content' }
          : { description: 'OK', content: json(op.response) },
      ...(writes
        ? WRITE_ERRORS
        : {
            ...READ_ERRORS,
            ...(path === '/chats/search'
              ? { 400: error('q not understood, or a page beyond the limit.') }
              : {}),
          }),
      ...(op.notFound ? { 404: error('No such resource in the account.') } : {}),
    },
  }
}

/** The REST paths on both path shapes; PUT is also PATCH (the same partial update). */
export function restOpenApiPaths(): Record<string, Json> {
  const paths: Record<string, Json> = {}
  for (const [path, ops] of Object.entries(routes())) {
    for (const [prefix, legacy] of [
      ['/api/v2/chat', false],
      ['/api/v2', true],
    ] as const) {
      const item: Json = {}
      for (const op of ops) {
        item[op.method] = operation(path, op, legacy)
        if (op.method === 'put') {
          const patch = operation(path, { ...op, method: 'patch' }, legacy)
          item['patch'] = patch
        }
      }
      paths[`${prefix}${path}`] = item
    }
  }
  return paths
}

/** The REST component schemas (generated from the zod wire schemas). */
export function restOpenApiSchemas(): Record<string, unknown> {
  return restJsonSchemas()
}
