/**
 * Conversion between a stream's sync state and the row both SQL destinations keep in `sync_state`.
 * @module
 */
import { isExportStream } from '../client/index.js'
import type { StreamSyncState } from './destination.js'
import { DestinationError } from './destination.js'
import type { SyncStateRow } from './sql-schema.js'

/** The state a `sync_state` row describes. */
export function stateFromRow(row: SyncStateRow): StreamSyncState {
  if (!isExportStream(row.stream)) {
    throw new DestinationError(`sync_state names an unknown stream "${row.stream}".`)
  }
  return {
    stream: row.stream,
    cursor: row.next_page === null ? null : { stream: row.stream, nextPage: row.next_page },
    source: row.source,
    items: Number(row.items),
    pages: Number(row.pages),
    endTime: row.end_time === null ? null : Number(row.end_time),
    updatedAt: row.updated_at,
  }
}
