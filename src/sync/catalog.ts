/**
 * `chat-export sync discover`: the catalog of the streams a sync copies, in the shape of a Singer
 * tap's discovery output (`{"streams": [{tap_stream_id, stream, key_properties, schema,
 * metadata}]}`), with each stream's JSON Schema generated from the item schemas.
 * @module
 */
import type { ExportStream } from '../client/index.js'
import type { JsonSchema } from '../domain/schemas/index.js'
import { exportItemJsonSchema } from '../domain/schemas/index.js'

/** The attributes an item is keyed by in a destination (see item-key.ts). */
export const KEY_PROPERTIES: Readonly<Record<ExportStream, readonly string[]>> = {
  chats: ['id'],
  conversions: ['id'],
  department_events: ['id'],
  agent_timeline: ['agent_id', 'start_time'],
  agent_events: ['id'],
}

export interface CatalogEntry {
  tap_stream_id: ExportStream
  stream: ExportStream
  key_properties: string[]
  replication_method: 'INCREMENTAL'
  schema: JsonSchema
  metadata: { breadcrumb: string[]; metadata: Record<string, unknown> }[]
}

/** The catalog of `streams`, in the order given. */
export function syncCatalog(streams: readonly ExportStream[]): { streams: CatalogEntry[] } {
  return {
    streams: streams.map((stream) => ({
      tap_stream_id: stream,
      stream,
      key_properties: [...KEY_PROPERTIES[stream]],
      replication_method: 'INCREMENTAL',
      schema: {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        ...exportItemJsonSchema(stream),
      },
      metadata: [
        {
          breadcrumb: [],
          metadata: {
            'table-key-properties': [...KEY_PROPERTIES[stream]],
            'forced-replication-method': 'INCREMENTAL',
            inclusion: 'available',
            selected: true,
          },
        },
      ],
    })),
  }
}
