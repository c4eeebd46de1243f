/**
 * GET /api/v2/chat/incremental/{stream} and the legacy /api/v2/incremental/{stream}.
 * @module
 */
import { Hono } from 'hono'
import type { Clock } from '../domain/clock.js'
import { AppError } from '../domain/errors.js'
import { parseExportQuery } from '../domain/export-query.js'
import { ITEM_LINES, prefers } from '../domain/prefer.js'
import { isStreamName, STREAM_NAMES, streamSpec } from '../domain/streams.js'
import { MICROS_PER_SECOND } from '../domain/time.js'
import { buildExportPage, countPageItems } from '../export/export-page.js'
import type { Metrics } from '../observability/metrics.js'
import type { Store } from '../store/store.js'
import type { AuthVariables } from './auth.js'
import { authorize } from './auth.js'
import type { CompressionMode } from './compression.js'
import { compressedStream, MIN_COMPRESSED_BYTES, negotiateEncoding } from './compression.js'
import type { SendGuard } from './send-guard.js'
import { isZendeskHost } from './zendesk-hosts.js'

export interface ExportRoutesOptions {
  store: Store
  clock: Clock
  publicUrl?: string | undefined
  minStartAgeSeconds: number
  metrics?: Metrics | undefined
  /** Which codings pages may be compressed with (default `br`: brotli or gzip). */
  compression?: CompressionMode | undefined
  /** Bounds bytes built but unsent and drops stalled readers; unbounded when undefined. */
  sendGuard?: SendGuard | undefined
}

/** The export routes, mounted under both path shapes. */
export function exportRoutes(options: ExportRoutesOptions): Hono<{ Variables: AuthVariables }> {
  const app = new Hono<{ Variables: AuthVariables }>()
  const minAge = options.minStartAgeSeconds * MICROS_PER_SECOND
  const compression = options.compression ?? 'br'

  app.get('/:stream', async (c) => {
    const name = c.req.param('stream')
    if (!isStreamName(name)) {
      throw new AppError(
        'NOT_FOUND',
        `There is no incremental export named "${name}". Use one of: ${STREAM_NAMES.join(', ')}.`,
      )
    }
    const token = c.var.token
    authorize(token, ['owner', 'administrator'], 'read', 'Incremental export')
    const spec = streamSpec(name)
    const stopTimer = options.metrics?.exportSeconds.startTimer({ stream: name })
    const url = new URL(c.req.url)
    const now = options.clock.now()
    const parse = (lastPosition: number) =>
      parseExportQuery(spec, url.searchParams, { now, lastPosition, minStartAgeMicros: minAge })
    let query
    try {
      query = parse(now)
    } catch (err) {
      // Only a start_time ahead of the clock needs the account's last position (a cursor this
      // server issued may be a few microseconds ahead of it): one store read, not one per page.
      if (!(err instanceof AppError && err.code === 'START_TIME_IN_FUTURE')) throw err
      query = parse(await options.store.lastPosition(token.accountId))
    }
    // Room for the page is reserved before it is built: a refusal costs no build.
    const guard = options.sendGuard
    const read = {
      store: options.store,
      accountId: token.accountId,
      spec,
      query,
      // With a minimum start age, only items older than that age are served, so every next_page
      // the server issues stays valid when it is followed.
      maxPosition: minAge > 0 ? now - minAge : undefined,
    }
    const admission = await guard?.admit(name, query.limit, {
      // Not keyed by maxPosition: with --min-start-age it moves every request, and a count a
      // second old is as good an estimate (the real size is checked again before sending).
      key: () =>
        `${token.accountId} ${name} ${query.startTime} ${query.startSortId} ${query.limit}`,
      items: () => countPageItems(read),
    })
    const lines = prefers(c.req.header('prefer'), ITEM_LINES)
    try {
      const page = await buildExportPage({
        ...read,
        layout: lines ? 'lines' : 'compact',
        requestUrl: url,
        // A connector that called a Zendesk host name must stay on it (Airbyte allows *.zendesk.com only).
        publicUrl: isZendeskHost(url.host) ? undefined : options.publicUrl,
      })
      stopTimer?.()
      options.metrics?.itemsServed.inc({ stream: name }, page.count)
      // Buffer.concat allocates a fresh, non-shared ArrayBuffer: hand its bytes over without a copy.
      const bytes = new Uint8Array(
        page.body.buffer as ArrayBuffer,
        page.body.byteOffset,
        page.body.byteLength,
      )
      // The same URL is served compressed or not, in lines or not, depending on the request:
      // caches must key on both.
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        vary: 'Accept-Encoding, Prefer',
      }
      if (lines) headers['preference-applied'] = ITEM_LINES
      const coding =
        bytes.byteLength < MIN_COMPRESSED_BYTES
          ? 'identity'
          : negotiateEncoding(c.req.header('accept-encoding'), compression)
      const encode = coding === 'identity' ? undefined : () => compressedStream(bytes, coding)
      if (encode) headers['content-encoding'] = coding
      else
        c.set('exportPage', { bytes: bytes.byteLength, endTime: page.endTime, endId: page.endId })
      if (guard && admission) {
        // The compressor starts only once the guard has accepted the page.
        const counted = { stream: name, count: page.count, body: bytes }
        return guard.send(c, admission, counted, headers, encode)
      }
      return c.body(encode?.() ?? bytes, 200, headers)
    } finally {
      // Sent pages are counted by the guard from here on; anything else gives its room back.
      admission?.release()
    }
  })

  app.all('/:stream', () => {
    throw new AppError(
      'METHOD_NOT_ALLOWED',
      'The method is not allowed for the requested URL. Incremental exports are read with GET.',
      { headers: { allow: 'GET, HEAD' } },
    )
  })
  return app
}
