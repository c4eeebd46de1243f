/**
 * The admin API's part of the OpenAPI document (src/http/openapi.ts merges it in): every route of
 * src/http/admin-routes.ts, described in docs/admin.md.
 * @module
 */

const PREFIX = '/api/chat-export/v1/admin'

const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
})

const account = {
  name: 'name',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'The account name.',
}

const faultRule = {
  type: 'object',
  required: ['trigger', 'fault'],
  properties: {
    match: {
      type: 'object',
      properties: {
        stream: { type: 'string', description: 'An export stream name, or `ingest`.' },
        path: { type: 'string', description: 'A path prefix.' },
        method: { enum: ['GET', 'POST'] },
      },
    },
    trigger: {
      oneOf: [
        {
          type: 'object',
          properties: { type: { const: 'next' }, count: { type: 'integer', minimum: 1 } },
        },
        {
          type: 'object',
          properties: {
            type: { const: 'fail_then_succeed' },
            count: { type: 'integer', minimum: 1 },
          },
        },
        {
          type: 'object',
          properties: { type: { const: 'every' }, k: { type: 'integer', minimum: 1 } },
        },
      ],
    },
    fault: {
      oneOf: [
        {
          type: 'object',
          properties: {
            kind: { const: 'status' },
            status: { enum: [429, 500, 502, 503, 504] },
            retry_after: { type: 'integer', minimum: 0 },
          },
        },
        { type: 'object', properties: { kind: { const: 'latency' }, ms: { type: 'integer' } } },
        {
          type: 'object',
          properties: { kind: { const: 'reset' }, when: { enum: ['before_body', 'mid_body'] } },
        },
        {
          type: 'object',
          properties: {
            kind: { const: 'body' },
            damage: { enum: ['truncated', 'malformed', 'wrong_count'] },
          },
        },
      ],
    },
  },
}

/** The admin paths, keyed by path. */
export function adminPaths(): Record<string, unknown> {
  const op = (operationId: string, summary: string, extra: Record<string, unknown> = {}) => ({
    operationId,
    summary,
    tags: ['admin'],
    security: [{ bearer: [] }],
    responses: {
      200: { description: 'OK' },
      401: error('No token, or neither the server admin token nor a valid token.'),
      403: error('ADMIN_FORBIDDEN: another account, or a server-wide route with an owner token.'),
    },
    ...extra,
  })
  const withAccount = { parameters: [account] }
  const body = (schema: unknown) => ({
    requestBody: { content: { 'application/json': { schema } } },
  })
  return {
    [`${PREFIX}/accounts`]: {
      get: op('admin_list_accounts', 'Accounts the caller administers, with their last position'),
      post: op(
        'admin_create_account',
        'Create an account and an owner token (server admin token)',
        {
          ...body({ type: 'object', required: ['name'], properties: { name: { type: 'string' } } }),
        },
      ),
    },
    [`${PREFIX}/accounts/{name}/reset`]: {
      ...withAccount,
      post: op(
        'admin_reset_account',
        'Reset the account to empty, or to a seeded state, atomically',
        {
          ...body({
            type: 'object',
            properties: {
              seed: { type: 'integer' },
              days: { type: 'number', default: 1 },
              arrivals_per_hour: { type: 'number', default: 30 },
            },
          }),
        },
      ),
    },
    [`${PREFIX}/accounts/{name}/faults`]: {
      ...withAccount,
      get: op('admin_list_faults', 'The scripted faults, with their counters'),
      put: op('admin_replace_faults', 'Replace every scripted fault', {
        ...body({ type: 'array', items: faultRule }),
      }),
      post: op('admin_add_faults', 'Add one rule (or an array of rules)', {
        ...body({ oneOf: [faultRule, { type: 'array', items: faultRule }] }),
      }),
      delete: op('admin_clear_faults', 'Clear every scripted fault'),
    },
    [`${PREFIX}/accounts/{name}/requests`]: {
      get: op('admin_requests', 'The request journal, newest first', {
        parameters: [
          account,
          { name: 'path', in: 'query', schema: { type: 'string' }, description: 'Path prefix.' },
          {
            name: 'status',
            in: 'query',
            schema: { type: 'string' },
            description: '`503` or `5xx`.',
          },
          { name: 'faulted', in: 'query', schema: { type: 'boolean' } },
          { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1 } },
        ],
      }),
    },
    [`${PREFIX}/accounts/{name}/requests/stream`]: {
      get: op(
        'admin_requests_stream',
        'The request journal live (text/event-stream, event "request")',
        {
          parameters: [account],
        },
      ),
    },
    [`${PREFIX}/accounts/{name}/stats`]: {
      get: op('admin_stats', "The console's aggregates over the last window_hours", {
        parameters: [account, { name: 'window_hours', in: 'query', schema: { type: 'integer' } }],
      }),
    },
    [`${PREFIX}/accounts/{name}/tail`]: {
      get: op('admin_tail', 'The newest items of a stream after a position (the live tail)', {
        parameters: [
          account,
          { name: 'stream', in: 'query', schema: { type: 'string', default: 'chats' } },
          { name: 'after', in: 'query', schema: { type: 'string', format: 'date-time' } },
        ],
      }),
    },
    [`${PREFIX}/clock`]: {
      get: op('admin_clock', 'The clock mode and time'),
      post: op(
        'admin_move_clock',
        'Move the manual clock forward (server admin token, --clock manual)',
        {
          ...body({
            oneOf: [
              { type: 'object', properties: { advance_seconds: { type: 'number' } } },
              { type: 'object', properties: { set: { type: 'string', format: 'date-time' } } },
            ],
          }),
        },
      ),
    },
  }
}
