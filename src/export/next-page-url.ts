/**
 * Builds `next_page`: the request's own scheme, host, port and path shape (or the configured public
 * base URL), then `fields` and `limit` when the request had them, then the new cursor. Parameter
 * order follows the real API: fields, limit, start_time, start_id.
 * @module
 */

export interface NextPageParts {
  /** The URL the request came in on (only origin and path are used). */
  requestUrl: URL
  /** Configured public base URL (behind a proxy); replaces the request's origin. */
  publicUrl?: string | undefined
  /** `fields` as the request sent it, already percent-encoded for a URL. */
  encodedFields: string | null
  limit: number | null
  startTime: string
  /** The end_id of the page; omitted when empty (no cursor id yet). */
  startId: string | null
}

/** Percent-encodes like Python's `quote(safe='')`, so `chats(*)` → `chats%28%2A%29`. */
export function encodeQueryValue(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}

/** The absolute next_page URL. */
export function buildNextPageUrl(parts: NextPageParts): string {
  const origin = parts.publicUrl ? parts.publicUrl.replace(/\/+$/, '') : parts.requestUrl.origin
  const query: string[] = []
  if (parts.encodedFields !== null) query.push(`fields=${parts.encodedFields}`)
  if (parts.limit !== null) query.push(`limit=${parts.limit}`)
  query.push(`start_time=${parts.startTime}`)
  if (parts.startId !== null && parts.startId !== '') {
    // ':' is legal in a query and the real API leaves it bare (start_id=R3J4l7Q.department:456.ccf4LG).
    query.push(`start_id=${encodeQueryValue(parts.startId).replace(/%3A/g, ':')}`)
  }
  return `${origin}${parts.requestUrl.pathname}?${query.join('&')}`
}
