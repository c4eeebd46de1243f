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
import { importItems, readImport } from '../ingest/import-items.js'
import type { UnknownAttributes } from '../domain/schemas/index.js'
import {
  DIRECTORY_RESOURCES,
  directoryResource,
  importDirectory,
  prepareDirectoryLines,
} from '../ingest/import-directory.js'
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

  app.post('/import/:resource', async (c) => {
    const token = c.var.token
    authorize(token, ['owner', 'administrator'], 'write', 'Import')
    const resource = c.req.param('resource')
    // Directory records (agents, departments, …): REST wire records, one per line.
    const kind = directoryResource(resource)
    if (kind !== undefined) {
      const now = options.clock.now()
      // Directory files are small, but the body limit holds for them too.
      const chunks: Uint8Array[] = []
      for await (const chunk of limitedBody(c.req.raw, MAX_IMPORT_BYTES)) chunks.push(chunk)
      const text = new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(chunks))
      const lines = prepareDirectoryLines(kind, splitLines(text), now)
      return c.json(await importDirectory(options.store, token.accountId, kind, lines, now), 200)
    }
    if (!isStreamName(resource)) {
      throw new AppError(
        'NOT_FOUND',
        `Cannot import "${resource}". Use one of: ${[...STREAM_NAMES, ...DIRECTORY_RESOURCES].join(', ')}.`,
      )
    }
    const preserve = parseBooleanFlag(c.req.query('preserve_timestamps'), 'preserve_timestamps')
    const unknownAttributes = parseUnknownAttributes(c.req.query('unknown_attributes'))
    // Read as it arrives, never held whole: validation stops at the error limit, and the body
    // is checked against the limit as it streams (a chunked upload has no Content-Length).
    const prepared = await readImport(resource, limitedBody(c.req.raw, MAX_IMPORT_BYTES), {
      unknownAttributes,
    })
    const result = await importItems(options.store, token.accountId, resource, prepared.items, {
      preserveTimestamps: preserve,
      now: options.clock.now(),
    })
    return c.json({ ...result, unknown_attributes: prepared.unknownAttributes }, 200)
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

/** The largest import body accepted. */
const MAX_IMPORT_BYTES = 512 * 1024 * 1024

function tooLarge(maxSize: number): AppError {
  return new AppError(
    'PAYLOAD_TOO_LARGE',
    `The request body is larger than ${maxSize / 1024 / 1024} MiB. Split it into smaller batches or files.`,
  )
}

/**
 * A request's body as it arrives, refused with PAYLOAD_TOO_LARGE past `maxSize` bytes (at once
 * when Content-Length says so). Stopping early leaves the rest to the server adapter, which
 * drains or closes the connection after the answer.
 */
async function* limitedBody(request: Request, maxSize: number): AsyncGenerator<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? '0')
  if (declared > maxSize) throw tooLarge(maxSize)
  if (request.body === null) return
  const reader = request.body.getReader()
  let size = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      size += value.byteLength
      if (size > maxSize) throw tooLarge(maxSize)
      yield value
    }
  } finally {
    reader.releaseLock()
  }
}

function parseUnknownAttributes(value: string | undefined): UnknownAttributes {
  if (value === undefined || value === '' || value === 'keep') return 'keep'
  if (value === 'refuse') return 'refuse'
  throw new AppError(
    'INVALID_PARAMETER',
    `unknown_attributes must be keep or refuse, not "${value}".`,
  )
}

function limitBody(maxSize: number) {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw tooLarge(maxSize)
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
