/**
 * Builds `next_page`: the request's own scheme, host, port and path shape (or the configured public
 * base URL), then `fields` and `limit` when the request had them, then the new cursor. Parameter
 * order follows the real API: fields, limit, start_time, start_id.
 * @module
 */
import { encodeFieldsForUrl } from '../domain/fields.js'

export interface NextPageParts {
  /** The URL the request came in on (only origin and path are used). */
  requestUrl: URL
  /** Configured public base URL (behind a proxy); replaces the request's origin. */
  publicUrl?: string | undefined
  /** `fields` as the request sent it (decoded); written percent-encoded like the real API. */
  fields: string | null
  limit: number | null
  startTime: string
  /** The end_id of the page; omitted when empty (no cursor id yet). */
  startId: string | null
}

/** The absolute next_page URL. */
export function buildNextPageUrl(parts: NextPageParts): string {
  const origin = parts.publicUrl ? parts.publicUrl.replace(/\/+$/, '') : parts.requestUrl.origin
  const query: string[] = []
  if (parts.fields !== null) query.push(`fields=${encodeFieldsForUrl(parts.fields)}`)
  if (parts.limit !== null) query.push(`limit=${parts.limit}`)
  query.push(`start_time=${parts.startTime}`)
  if (parts.startId !== null && parts.startId !== '') {
    // ':' is legal in a query and the real API leaves it bare (start_id=R3J4l7Q.department:456.ccf4LG).
    query.push(`start_id=${encodeFieldsForUrl(parts.startId).replace(/%3A/g, ':')}`)
  }
  return `${origin}${parts.requestUrl.pathname}?${query.join('&')}`
}
