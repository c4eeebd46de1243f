/**
 * The exact wire JSON of the REST resources (chat-rest-api.md §0, §2.2): collections are bare
 * arrays ascending by id, bans are `{"ip_address": [...], "visitor": [...]}` with both keys always
 * present, routing settings are wrapped in `{"data": ...}`, single resources are the bare object.
 * Every record is passed through its wire schema, so key order and types are the schema's whatever
 * the stored text looks like.
 * @module
 */
import type { DirectoryKind } from './resources.js'
import { RESOURCES } from './resources.js'
import type { BanWire } from './schemas.js'

type Json = Record<string, unknown>

/** One record in its wire shape. Throws when a stored record is not valid (a server bug). */
export function renderRecord(kind: DirectoryKind, record: unknown): Json {
  return RESOURCES[kind].schema.parse(record)
}

/** Ascending order by id: integer ids numerically, string ids (shortcuts, visitors) by text. */
export function compareIds(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b
  const x = String(a)
  const y = String(b)
  return x < y ? -1 : x > y ? 1 : 0
}

/** A collection: a bare array of wire records, ascending by id; `[]` when empty. */
export function renderList(kind: DirectoryKind, records: readonly unknown[]): Json[] {
  return records.map((r) => renderRecord(kind, r)).sort((a, b) => compareIds(a['id'], b['id']))
}

/**
 * The bans envelope: the (already windowed) bans split by kind, each ascending by id. Both keys
 * are always present: singer and Pathlight index them without checking.
 */
export function renderBans(records: readonly unknown[]): {
  ip_address: Json[]
  visitor: Json[]
} {
  const bans = renderList('ban', records) as BanWire[]
  return {
    ip_address: bans.filter((b) => b.type === 'ip_address'),
    visitor: bans.filter((b) => b.type === 'visitor'),
  }
}

/** Routing settings (account or agent, one or a list) under `data`. */
export function renderData<T>(data: T): { data: T } {
  return { data }
}
