/**
 * The `Prefer` request header (RFC 7240): a client names optional behaviour it would like, the
 * server applies what it supports and says so in `Preference-Applied`. The export uses one
 * preference of its own, `item-lines` (see export/export-page.ts): connectors never send it, so
 * what they receive is unchanged.
 * @module
 */

/** The preference that puts each item of an export page on a line of its own. */
export const ITEM_LINES = 'item-lines'

/**
 * Whether the `Prefer` header(s) name `preference` (case-insensitive, with or without a value
 * or parameters: `Prefer: item-lines`, `Prefer: respond-async, item-lines; x=1`).
 */
export function prefers(header: string | null | undefined, preference: string): boolean {
  if (header === undefined || header === null) return false
  const wanted = preference.toLowerCase()
  for (const part of header.split(',')) {
    const token = part.split(/[;=]/, 1)[0]?.trim().toLowerCase()
    if (token === wanted) return true
  }
  return false
}
