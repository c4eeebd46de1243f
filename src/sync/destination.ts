/**
 * The destination port: where a sync writes items and its per-stream state. Every backend commits
 * a page's items and the cursor that follows them together, so a crash at any moment leaves
 * either the whole page and its cursor or neither (docs/sync.md, "Crash safety").
 * @module
 */
import type { ExportCursor, ExportStream } from '../client/index.js'
import { EXPORT_STREAMS } from '../client/index.js'
import type { ItemKey } from './item-key.js'

/** What a destination remembers about one stream. */
export interface StreamSyncState {
  stream: ExportStream
  /** Where the next sync resumes; `null` after a reset (the next sync starts from --start-time). */
  cursor: ExportCursor | null
  /** The API base URL the cursor came from (a cursor is only valid against its own server). */
  source: string | null
  /** Items committed since the state was created or last reset. */
  items: number
  /** Pages committed since the state was created or last reset. */
  pages: number
  /** `end_time` of the last committed page, integer microseconds. */
  endTime: number | null
  /** When the state was last written (ISO-8601 UTC). */
  updatedAt: string
}

/** One item to upsert. `json` and `bytes` are the same JSON; each is made from the other on demand. */
export interface PageUpsert {
  key: ItemKey
  /** The item's JSON text (as the server sent it when it came through the raw path). */
  readonly json: string
  /**
   * The same JSON as UTF-8, as the server sent it (a view into the page's body) when it came
   * through the raw path: what a destination that stores the text should write, undecoded.
   */
  readonly bytes: Uint8Array
  deleted: boolean
}

/** One page, ready to commit. Each key appears at most once across upserts and removals. */
export interface PageCommit {
  stream: ExportStream
  upserts: PageUpsert[]
  /** Keys to delete (deleted items in `remove` mode). */
  removals: ItemKey[]
  /** The state to record in the same transaction. */
  state: StreamSyncState
}

/**
 * Named points inside a commit where tests inject a crash (a hook that throws). Production code
 * passes none. The points are listed per backend in docs/sync.md.
 */
export interface FaultHooks {
  at(point: string): void
}

export interface Destination {
  /** For messages: the destination with any password removed. */
  readonly description: string
  readState(stream: ExportStream): Promise<StreamSyncState | undefined>
  /** Every stream that has a state, in stream order. */
  listStates(): Promise<StreamSyncState[]>
  /** Writes the page's items and its state atomically (see the module comment). */
  commit(page: PageCommit): Promise<void>
  /** Forgets the cursor of one stream; its data and other streams stay. `false` if there was none. */
  resetState(stream: ExportStream): Promise<boolean>
  close(): Promise<void>
}

/** The destination cannot be used; the message says what to do. */
export class DestinationError extends Error {
  override readonly name = 'DestinationError'
}

/** Every stream's state, in stream order, read one stream at a time through `readState`. */
export async function readAllStates(
  readState: (stream: ExportStream) => Promise<StreamSyncState | undefined>,
): Promise<StreamSyncState[]> {
  const states: StreamSyncState[] = []
  for (const stream of EXPORT_STREAMS) {
    const state = await readState(stream)
    if (state) states.push(state)
  }
  return states
}
