/**
 * What the client needs to know about each export stream: its name on the wire, the unit of its
 * `start_time` / `end_time`, and the `fields` it asks for by default. Kept apart from the server's
 * stream specs so that the client bundle stays free of validation code (see semantics.md §1).
 * @module
 */

export const EXPORT_STREAMS = [
  'chats',
  'conversions',
  'department_events',
  'agent_timeline',
  'agent_events',
] as const

export type ExportStream = (typeof EXPORT_STREAMS)[number]

/** Type guard for stream names coming from flags or stored cursors. */
export function isExportStream(value: unknown): value is ExportStream {
  return typeof value === 'string' && (EXPORT_STREAMS as readonly string[]).includes(value)
}

/** The unit of `start_time` / `end_time` on the wire: only agent_timeline uses microseconds. */
export const STREAM_TIME_UNIT: Record<ExportStream, 'seconds' | 'microseconds'> = {
  chats: 'seconds',
  conversions: 'seconds',
  department_events: 'seconds',
  agent_timeline: 'microseconds',
  agent_events: 'seconds',
}

/**
 * `fields` sent when the caller gives none. Without it chats and conversions come back as `{"id"}`
 * only; the other streams ignore `fields`, so nothing is sent for them.
 */
export const DEFAULT_FIELDS: Record<ExportStream, string | undefined> = {
  chats: 'chats(*)',
  conversions: 'conversions(*)',
  department_events: undefined,
  agent_timeline: undefined,
  agent_events: undefined,
}
