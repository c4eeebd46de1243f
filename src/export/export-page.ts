/**
 * Builds one export page. The hot path (`fields=chats(*)` and the always-whole streams) splices the
 * stored JSON bytes into the response without parsing a single row: one Buffer.concat per page.
 * A selective `fields` projection scans each row's text and copies the selected parts (see
 * raw-projection.ts): each chat's small summary when the selection names none of the large
 * attributes it leaves out (history, engagements, ...), else whole items.
 * @module
 */
import type { ExportQuery } from '../domain/export-query.js'
import type { FieldSelection } from '../domain/fields.js'
import { projectItem } from '../domain/fields.js'
import type { StreamSpec } from '../domain/streams.js'
import type { Micros } from '../domain/time.js'
import { formatMicrosAsDecimalSeconds } from '../domain/time.js'
import type { PageBody, PageQuery, Store, StoredRow } from '../store/store.js'
import { buildNextPageUrl } from './next-page-url.js'
import { projectRawJson, rawProjectable } from './raw-projection.js'

export interface ExportPageRequest {
  store: Store
  accountId: number
  spec: StreamSpec
  query: ExportQuery
  requestUrl: URL
  publicUrl?: string | undefined
  /** Only items at or below this position are served (the --min-start-age rule). */
  maxPosition?: Micros | undefined
  /** `lines`: each item on a line of its own (the `item-lines` preference); default `compact`. */
  layout?: PageLayout | undefined
}

/**
 * How the items are laid out in the body. Both are the same JSON. `lines` puts a newline before
 * each item and after the last: `{"chats":[\n{…},\n{…}\n],"count":…}`. Compact JSON has no raw
 * newline (JSON escapes control characters in strings), so a client that asked for it finds
 * every item with a byte search instead of scanning each item's text for where it ends.
 */
export type PageLayout = 'compact' | 'lines'

export interface ExportPage {
  body: Buffer
  count: number
  /** The page's `end_time` (as written in the body: µs, or decimal seconds) and `end_id`. */
  endTime: string
  endId: string
}

const COMMA = Buffer.from(',')
const NEWLINE = Buffer.from('\n')
const COMMA_NEWLINE = Buffer.from(',\n')

/** Reads a page from the store and renders the full response body. */
export async function buildExportPage(request: ExportPageRequest): Promise<ExportPage> {
  const { spec, query } = request
  const body = pageBody(spec, query.fields)
  const pageQuery = pageQueryOf(request, body)
  const parts: Buffer[] = [Buffer.from(`{"${spec.name}":[`)]
  const lines = request.layout === 'lines'
  const separator = lines ? COMMA_NEWLINE : COMMA
  let count: number
  let last: { position: Micros; sortId: string } | undefined
  if (body === 'none') {
    // Id-only pages are made of every row's sort id.
    const rows = await request.store.readPage(pageQuery)
    pushIds(parts, rows, separator)
    count = rows.length
    last = rows.at(-1)
  } else {
    // Every other page is made of bodies alone: only the last row's cursor is needed.
    const page = await request.store.readPageBodies(pageQuery)
    pushBodies(parts, page.bodies, spec, query, separator)
    count = page.bodies.length
    last = page.last
  }
  if (lines && count > 0) {
    parts.splice(1, 0, NEWLINE)
    parts.push(NEWLINE)
  }

  // An empty page keeps the request's cursor: its next_page is the polling URL.
  const endPosition = last ? last.position : query.startTime
  const endId = last ? spec.endIdFromSortId(last.sortId) : (query.startIdRaw ?? '')
  const endTime =
    spec.unit === 'seconds' ? formatMicrosAsDecimalSeconds(endPosition) : String(endPosition)

  const nextPage = buildNextPageUrl({
    requestUrl: request.requestUrl,
    publicUrl: request.publicUrl,
    fields: query.fieldsRaw,
    limit: query.limitRaw === null ? null : query.limit,
    startTime: endTime,
    startId: endId,
  })

  parts.push(
    Buffer.from(
      `],"count":${count},"end_id":${JSON.stringify(endId)},"end_time":${endTime},"next_page":${JSON.stringify(nextPage)}}`,
    ),
  )
  return { body: Buffer.concat(parts), count, endTime, endId }
}

/**
 * How many items the page would hold (at most its limit), read from the index alone (no item's
 * JSON): what the send guard asks when a page's worst case (its whole limit) would not fit.
 */
export async function countPageItems(
  request: Pick<ExportPageRequest, 'store' | 'accountId' | 'spec' | 'query' | 'maxPosition'>,
): Promise<number> {
  const rows = await request.store.readPage(pageQueryOf(request, 'none'))
  return rows.length
}

function pageQueryOf(
  request: Pick<ExportPageRequest, 'accountId' | 'spec' | 'query' | 'maxPosition'>,
  body: PageBody,
): PageQuery {
  const { query } = request
  return {
    accountId: request.accountId,
    stream: request.spec.name,
    afterPosition: query.startTime,
    afterSortId: query.startSortId,
    limit: query.limit,
    body,
    ...(request.maxPosition === undefined ? {} : { maxPosition: request.maxPosition }),
  }
}

/** What of each item the page needs from the store. */
function pageBody(spec: StreamSpec, selection: FieldSelection): PageBody {
  if (!spec.expandable || selection.kind === 'all') return 'full'
  // Id-only pages (chats and conversions without `fields`) need no JSON at all.
  if (selection.kind === 'id-only') return 'none'
  const omitted = spec.summaryOmits
  if (omitted === undefined) return 'full'
  // Only top-level names matter: the summary keeps every attribute it has whole.
  for (const name of selection.attributes.keys()) if (omitted.has(name)) return 'full'
  // The summary has the item's other attributes, in its order: projecting it gives the same
  // bytes as projecting the whole item, at a third of the parsing.
  return 'summary'
}

/** `{"id":...}` a row: for chats and conversions the sort id is the item id. */
function pushIds(parts: Buffer[], rows: StoredRow[], separator: Buffer) {
  for (let i = 0; i < rows.length; i++) {
    if (i > 0) parts.push(separator)
    parts.push(Buffer.from(`{"id":${JSON.stringify((rows[i] as StoredRow).sortId)}}`))
  }
}

/** Each body whole, or its projection when the stream's `fields` selects some attributes. */
function pushBodies(
  parts: Buffer[],
  bodies: Buffer[],
  spec: StreamSpec,
  query: ExportQuery,
  separator: Buffer,
) {
  const selection = query.fields
  const raw = selection.kind === 'some' && rawProjectable(selection.attributes)
  for (let i = 0; i < bodies.length; i++) {
    const body = bodies[i] as Buffer
    if (i > 0) parts.push(separator)
    if (!spec.expandable || selection.kind !== 'some') {
      parts.push(body)
    } else if (!(raw && projectRawJson(body, selection.attributes, parts))) {
      // Text the scanner does not vouch for: the same bytes, by parsing.
      const item: unknown = JSON.parse(body.toString('utf8'))
      parts.push(Buffer.from(JSON.stringify(projectItem(item, selection))))
    }
  }
}
