/**
 * The OpenAPI 3.1 description of the API, served at `GET /openapi.json` (no token needed): for
 * generating clients, for mock servers such as Prism, and for reading. The routes are written by
 * hand from the same facts as docs/api.md (a test checks it names every route the app serves); the
 * item schemas are generated from the zod schemas that also validate imports (src/domain/schemas).
 * @module
 */
import { exportItemJsonSchema } from '../domain/schemas/index.js'
import type { StreamName } from '../domain/streams.js'
import { oauthPaths, oauthSchemas } from './openapi-oauth.js'
import { STREAM_NAMES } from '../domain/streams.js'
import { restOpenApiPaths, restOpenApiSchemas } from './openapi-rest.js'
import { adminPaths } from './admin-openapi.js'

/** The component name of each stream's item schema. */
export const ITEM_SCHEMA_NAMES: Record<StreamName, string> = {
  chats: 'Chat',
  conversions: 'Conversion',
  department_events: 'DepartmentEvent',
  agent_timeline: 'AgentTimelineSpan',
  agent_events: 'AgentEvent',
}

/**
 * Each item schema. Chats and conversions are served through `fields` (without it, ids only), so
 * their schemas require only `id`; the other streams always serve whole items.
 */
function itemSchemas(): Record<string, unknown> {
  return Object.fromEntries(
    STREAM_NAMES.map((stream) => [
      ITEM_SCHEMA_NAMES[stream],
      exportItemJsonSchema(stream, { projection: stream === 'chats' || stream === 'conversions' }),
    ]),
  )
}

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
})

const exportParameters = [
  {
    name: 'start_time',
    in: 'query',
    description:
      'Cursor time. Seconds since the epoch with up to six decimals (chats, conversions, department_events, agent_events); whole microseconds (agent_timeline). Without start_id it is inclusive. Default 0.',
    schema: { type: 'string', pattern: '^\\d+(\\.\\d{1,6})?$', examples: ['1608615725.123456'] },
  },
  {
    name: 'start_id',
    in: 'query',
    description:
      'Cursor tie-breaker: the end_id of the previous page (agent_timeline: an agent id).',
    schema: { type: 'string' },
  },
  {
    name: 'limit',
    in: 'query',
    description: 'Items per page, 1 to 1000 (larger values are served as 1000). Default 1000.',
    schema: { type: 'integer', minimum: 1, default: 1000 },
  },
  {
    name: 'fields',
    in: 'query',
    description:
      'Resource expansion for chats and conversions: chats(*), chats(id,rating,response_time.max). Without it items are ids only. Accepted and ignored on the other streams.',
    schema: { type: 'string', examples: ['chats(*)'] },
  },
  {
    name: 'Prefer',
    in: 'header',
    description:
      'item-lines: each item on a line of its own (a newline after "[", ",\\n" between items, a newline before "]"), the same JSON otherwise. An extension of this server (RFC 7240), answered with Preference-Applied; other servers ignore it.',
    schema: { type: 'string', examples: ['item-lines'] },
  },
]

function exportPath(stream: StreamName, legacy: boolean) {
  return {
    get: {
      operationId: `incremental_${stream}${legacy ? '_legacy' : ''}`,
      summary: `Incremental ${stream.replace('_', ' ')} export${legacy ? ' (legacy path)' : ''}`,
      tags: ['export'],
      security: [{ bearer: ['read'] }],
      parameters: exportParameters,
      responses: {
        200: {
          description:
            'A page. count == limit: fetch next_page now; count < limit: caught up, poll next_page later.',
          headers: {
            'Preference-Applied': {
              description: 'item-lines when the request asked for it (Prefer).',
              schema: { type: 'string' },
            },
            Vary: {
              description: 'Accept-Encoding, Prefer: the body depends on both.',
              schema: { type: 'string' },
            },
          },
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: [stream, 'count', 'end_time', 'next_page'],
                properties: {
                  [stream]: {
                    type: 'array',
                    items: { $ref: `#/components/schemas/${ITEM_SCHEMA_NAMES[stream]}` },
                  },
                  count: { type: 'integer' },
                  end_id: { type: 'string' },
                  end_time: { type: 'number', description: 'Same unit as start_time.' },
                  next_page: { type: 'string', format: 'uri', description: 'Never null.' },
                },
              },
            },
          },
        },
        400: errorResponse(
          'A bad start_time, start_id, limit or fields (the description says which).',
        ),
        401: errorResponse('No, unknown, revoked or expired token.'),
        403: errorResponse('The token may not read exports (owner or administrator, read scope).'),
        429: errorResponse('Over the rate limit; see Retry-After.'),
        503: errorResponse('The store cannot serve now; see Retry-After.'),
      },
    },
  }
}

/** The OpenAPI document. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, unknown> = {}
  for (const stream of STREAM_NAMES) {
    paths[`/api/v2/chat/incremental/${stream}`] = exportPath(stream, false)
    paths[`/api/v2/incremental/${stream}`] = exportPath(stream, true)
  }
  paths['/api/chat-export/v1/import/{stream}'] = {
    post: {
      operationId: 'import_items',
      summary: 'Import export-shaped items (JSON lines), atomically',
      tags: ['write'],
      security: [{ bearer: ['write'] }],
      parameters: [
        {
          name: 'stream',
          in: 'path',
          required: true,
          schema: { type: 'string', enum: STREAM_NAMES },
        },
        {
          name: 'preserve_timestamps',
          in: 'query',
          description:
            "Keep each item's own time as its position (only above the stream's high-water mark).",
          schema: { type: 'boolean', default: false },
        },
      ],
      requestBody: {
        required: true,
        content: { 'application/x-ndjson': { schema: { type: 'string' } } },
      },
      responses: {
        200: { description: 'Imported: {stream, imported, position}.' },
        400: errorResponse('Invalid lines (details lists them by number); nothing was imported.'),
        409: errorResponse(
          'Preserved timestamps behind the high-water mark; nothing was imported.',
        ),
      },
    },
  }
  paths['/api/chat-export/v1/events'] = {
    post: {
      operationId: 'ingest_events',
      summary:
        'Post live events (a JSON array or JSON lines); all or nothing, idempotent by event id',
      tags: ['write'],
      security: [{ bearer: ['write'] }],
      requestBody: {
        required: true,
        content: {
          'application/json': { schema: { type: 'array', items: { type: 'object' } } },
          'application/x-ndjson': { schema: { type: 'string' } },
        },
      },
      responses: {
        200: { description: 'Committed: {accepted, duplicates, position}.' },
        400: errorResponse(
          'Invalid or inapplicable events (details names them); nothing was applied.',
        ),
      },
    },
  }
  Object.assign(paths, restOpenApiPaths())
  Object.assign(paths, adminPaths())
  for (const [path, summary] of [
    ['/healthz', 'Liveness'],
    ['/readyz', 'Readiness (the store answers)'],
    ['/metrics', 'Prometheus metrics'],
    ['/openapi.json', 'This document'],
  ] as const) {
    paths[path] = {
      get: {
        operationId: path.slice(1).replace('.', '_'),
        summary,
        tags: ['operations'],
        responses: { 200: { description: 'OK' } },
      },
    }
  }
  Object.assign(paths, oauthPaths())
  return {
    openapi: '3.1.0',
    info: {
      title: 'chat-export',
      version: '0.1.0',
      description:
        'A wire-compatible implementation of the Zendesk Chat Incremental Export API and the Chat REST resources its connectors read, with an import and a live-event API. See docs/api.md and docs/rest.md.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        ...itemSchemas(),
        ...restOpenApiSchemas(),
        ...oauthSchemas(),
        Error: {
          type: 'object',
          required: ['error', 'description'],
          properties: {
            error: { type: 'string', description: 'The HTTP reason phrase.' },
            description: { type: 'string', description: 'What was wrong and how to fix it.' },
            details: { type: 'array', items: { type: 'object' } },
          },
        },
      },
    },
    paths,
  }
}
