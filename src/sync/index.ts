/**
 * The sync engine: export streams into SQLite, JSONL files or PostgreSQL, resumably and crash-safely.
 * See docs/sync.md.
 * @module
 */
export { runSync, buildCommit, SyncSourceMismatchError } from './run-sync.js'
export type { DeletedMode, RunSyncOptions, StreamSyncResult, SyncResult } from './run-sync.js'
export type { SyncEvent } from './sync-events.js'
export type { Destination, FaultHooks, PageCommit, StreamSyncState } from './destination.js'
export { DestinationError } from './destination.js'
export { openDestination, parseDestinationUrl } from './open-destination.js'
export { readJsonlStream, jsonlPaths } from './jsonl-destination.js'
export { showSyncState, resetSyncState } from './state-operations.js'
export { itemKey, ItemKeyError } from './item-key.js'
export type { ItemKey } from './item-key.js'
