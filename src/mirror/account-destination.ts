/**
 * A sync destination that is a chat-export account: the mirror's way of writing what it reads
 * from Zendesk (or another chat-export server) into the local store. Each source page becomes one
 * store write transaction holding the page's items and the stream's mirror cursor (kept in the
 * store's private per-account state), so a crash (kill -9 included) leaves either the whole page
 * and its cursor or neither, exactly as the sync destinations do (docs/sync.md, "Crash safety").
 *
 * Items keep their bodies as the source served them. Each is placed by `placeItems` (its own time,
 * within its page's range), so the local export serves the same items in the same order; a chat's
 * position is its `update_timestamp`, which is what the source cursors chats by.
 * @module
 */
import type { ExportItem, ExportStream } from '../client/index.js'
import type { StreamName } from '../domain/streams.js'
import { renderChat, streamSpec } from '../domain/streams.js'
import { formatIso } from '../domain/time.js'
import type { Store, WriteTx } from '../store/store.js'
import type { Destination, PageCommit, StreamSyncState } from '../sync/destination.js'
import { DestinationError, readAllStates } from '../sync/destination.js'
import type { CursorPoint } from './mirror-positions.js'
import { placeItems } from './mirror-positions.js'

/** The store state kind the mirror keeps its per-stream cursor under (key: the stream name). */
export const MIRROR_STATE_KIND = 'mirror-cursor'

/** What the store keeps per mirrored stream. */
interface SavedMirrorState {
  nextPage: string | null
  source: string | null
  items: number
  pages: number
  endTime: number | null
  updatedAt: string
  /** The last item placed locally: later items go strictly after it. */
  last: CursorPoint | null
}

export interface AccountDestinationOptions {
  store: Store
  accountId: number
  accountName: string
}

/** A Destination writing into one chat-export account of `store` (left open by `close`). */
export function accountDestination(options: AccountDestinationOptions): Destination {
  return new AccountDestination(options.store, options.accountId, options.accountName)
}

class AccountDestination implements Destination {
  readonly description: string

  constructor(
    private readonly store: Store,
    private readonly accountId: number,
    accountName: string,
  ) {
    this.description = `account ${accountName}`
  }

  async readState(stream: ExportStream): Promise<StreamSyncState | undefined> {
    // The store reads private state only inside a write transaction; one that writes nothing
    // moves no clock and stores nothing.
    const saved = await this.store.write(this.accountId, (tx) => readSaved(tx, stream))
    return saved === undefined ? undefined : toSyncState(stream, saved)
  }

  listStates(): Promise<StreamSyncState[]> {
    return readAllStates((stream) => this.readState(stream))
  }

  async commit(page: PageCommit): Promise<void> {
    const stream: StreamName = page.stream
    const spec = streamSpec(stream)
    await this.store.write(this.accountId, async (tx) => {
      const saved = await readSaved(tx, stream)
      const after = saved?.last ?? null
      // Anything above the mirror's own last item was written by someone else: positions could
      // no longer follow the source's order, and those items would be mixed into the copy.
      const highWaterMark = await tx.highWaterMark(stream)
      if (highWaterMark > (after?.position ?? 0)) {
        throw new DestinationError(
          `${this.description} has ${stream} items the mirror did not write (up to ${formatIso(highWaterMark)}). Mirror into an account of its own: give --account a new name.`,
        )
      }
      const prepared = page.upserts.map(({ item }) => ({ item, ...spec.prepare(item) }))
      const positions = placeItems(prepared, after, page.state.endTime)
      let last = after
      for (const [index, entry] of prepared.entries()) {
        const position = positions[index] as number
        await tx.putItem(stream, {
          key: entry.key,
          sortId: entry.sortId,
          position,
          ...render(stream, entry.item, position),
        })
        last = { position, sortId: entry.sortId }
      }
      const s = page.state
      const next: SavedMirrorState = {
        nextPage: s.cursor?.nextPage ?? null,
        source: s.source,
        items: s.items,
        pages: s.pages,
        endTime: s.endTime,
        updatedAt: s.updatedAt,
        last,
      }
      await tx.putState(MIRROR_STATE_KIND, stream, JSON.stringify(next))
    })
  }

  async resetState(stream: ExportStream): Promise<boolean> {
    return this.store.write(this.accountId, async (tx) => {
      const saved = await readSaved(tx, stream)
      if (saved === undefined || saved.nextPage === null) return false
      // The placement point stays: a re-read places items after what is already there.
      const next: SavedMirrorState = { ...saved, nextPage: null, items: 0, pages: 0, endTime: null }
      await tx.putState(MIRROR_STATE_KIND, stream, JSON.stringify(next))
      return true
    })
  }

  close(): Promise<void> {
    return Promise.resolve()
  }
}

/**
 * The body (and a chat's summary) to store. Chats go through `renderChat`, which sets
 * `update_timestamp` to the position: the source's own value, since that is where a chat is placed.
 */
function render(stream: StreamName, item: ExportItem, position: number) {
  if (stream === 'chats') return renderChat(item, position)
  return { body: JSON.stringify(item) }
}

async function readSaved(tx: WriteTx, stream: StreamName): Promise<SavedMirrorState | undefined> {
  const text = await tx.getState(MIRROR_STATE_KIND, stream)
  return text === undefined ? undefined : (JSON.parse(text) as SavedMirrorState)
}

function toSyncState(stream: ExportStream, saved: SavedMirrorState): StreamSyncState {
  return {
    stream,
    cursor: saved.nextPage === null ? null : { stream, nextPage: saved.nextPage },
    source: saved.source,
    items: saved.items,
    pages: saved.pages,
    endTime: saved.endTime,
    updatedAt: saved.updatedAt,
  }
}
