/**
 * The UTF-8 a destination writes for an upsert: the bytes the server sent, as a Buffer view (no
 * copy), when they are valid UTF-8. A page read as text was decoded with replacement characters;
 * bytes that are not valid UTF-8 get the same treatment here, so a destination never stores
 * (and PostgreSQL never refuses) a malformed sequence.
 * @module
 */
import { isUtf8 } from 'node:buffer'
import type { PageUpsert } from './destination.js'

/** The upsert's JSON as valid UTF-8 bytes (see the module comment). */
export function utf8Of(upsert: PageUpsert): Buffer {
  const bytes = upsert.bytes
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return isUtf8(view) ? view : Buffer.from(upsert.json, 'utf8')
}
