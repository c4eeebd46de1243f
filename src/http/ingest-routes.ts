/**
 * The write side: POST /api/chat-export/v1/import/{resource} (export-shaped JSON lines) and
 * POST /api/chat-export/v1/events (live activity). Both need the write scope and an owner or
 * administrator token, and answer only after the data is durably committed.
 * @module
 */
import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import type { Clock } from '../domain/clock.js'
import { AppError } from '../domain/errors.js'
import { isStreamName, STREAM_NAMES } from '../domain/streams.js'
import { importItems, prepareLines } from '../ingest/import-items.js'
import type { Store } from '../store/store.js'
import type { AuthVariables } from './auth.js'
import { authorize } from './auth.js'

export interface IngestRoutesOptions {
  store: Store
  clock: Clock
  /** Folds and stores a batch of live events; absent until the ingest service is wired. */
  ingestEvents?: (accountId: number, events: unknown[]) => Promise<unknown>
}

/** Routes under /api/chat-export/v1. */
export function ingestRoutes(options: IngestRoutesOptions): Hono<{ Variables: AuthVariables }> {
  const app = new Hono<{ Variables: AuthVariables }>()

  app.post('/import/:resource', limitBody(512 * 1024 * 1024), async (c) => {
    const token = c.var.token
    authorize(token, ['owner', 'administrator'], 'write', 'Import')
    const resource = c.req.param('resource')
    if (!isStreamName(resource)) {
      throw new AppError(
        'NOT_FOUND',
        `Cannot import "${resource}". Use one of: ${STREAM_NAMES.join(', ')}.`,
      )
    }
    const preserve = parseBooleanFlag(c.req.query('preserve_timestamps'), 'preserve_timestamps')
    const text = await c.req.text()
    const items = prepareLines(resource, splitLines(text))
    const result = await importItems(options.store, token.accountId, resource, items, {
      preserveTimestamps: preserve,
      now: options.clock.now(),
    })
    return c.json(result, 200)
  })

  app.post('/events', limitBody(32 * 1024 * 1024), async (c) => {
    const token = c.var.token
    authorize(token, ['owner', 'administrator'], 'write', 'Event ingest')
    if (!options.ingestEvents) {
      throw new AppError('NOT_FOUND', 'Event ingest is not enabled on this server.')
    }
    const text = await c.req.text()
    const events = parseEventBatch(text)
    const result = await options.ingestEvents(token.accountId, events)
    return c.json(result as object, 200)
  })

  return app
}

function limitBody(maxSize: number) {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new AppError(
        'PAYLOAD_TOO_LARGE',
        `The request body is larger than ${maxSize / 1024 / 1024} MiB. Split it into smaller batches or files.`,
      )
    },
  })
}

/** A JSON array, or JSON lines: both are accepted for batches. */
export function parseEventBatch(text: string): unknown[] {
  const trimmed = text.trim()
  if (trimmed === '') {
    throw new AppError(
      'INVALID_BODY',
      'The request body is empty. Send a JSON array of events, or one JSON event per line.',
    )
  }
  if (trimmed.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(trimmed)
      if (Array.isArray(parsed)) return parsed
    } catch {
      // fall through to the error below
    }
    throw new AppError(
      'INVALID_BODY',
      'The request body starts with "[" but is not a valid JSON array of events.',
    )
  }
  const events: unknown[] = []
  const lines = splitLines(trimmed)
  lines.forEach((line, index) => {
    if (line.trim() === '') return
    try {
      events.push(JSON.parse(line))
    } catch {
      throw new AppError(
        'INVALID_BODY',
        `Line ${index + 1} of the body is not valid JSON. Send a JSON array, or one JSON event per line.`,
      )
    }
  })
  return events
}

function splitLines(text: string): string[] {
  return text.split(/\r?\n/)
}

function parseBooleanFlag(value: string | undefined, name: string): boolean {
  if (value === undefined || value === '' || value === 'false' || value === '0') return false
  if (value === 'true' || value === '1') return true
  throw new AppError('INVALID_PARAMETER', `${name} must be true or false, not "${value}".`)
}
