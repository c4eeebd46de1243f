/**
 * Loads synthetic chats into a store in chunks, each generated just before it is imported, so a
 * million chats (about 3.9 GB of JSON) never sit in memory at once.
 * @module
 */
import cliProgress from 'cli-progress'
import type { Clock } from '../domain/clock.js'
import { streamSpec } from '../domain/streams.js'
import { importItems } from '../ingest/import-items.js'
import type { Store } from '../store/store.js'
import { syntheticChats } from './bench-data.js'

/** Chats per import transaction (and per generated chunk). */
const CHUNK = 5000

/**
 * Imports `count` synthetic chats into `accountId`, with a progress bar on stderr. Chunk k covers
 * the time just before chunk k + 1 (2 s per chat) and has its own seed, so the data is the same
 * for a given count whatever the chunk size of the consumer.
 */
export async function loadSyntheticChats(
  store: Store,
  accountId: number,
  count: number,
  clock: Clock,
): Promise<void> {
  const bar = new cliProgress.SingleBar(
    { format: `loading chats [{bar}] {value}/{total} {eta}s`, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  )
  bar.start(count, 0)
  const spec = streamSpec('chats')
  const end = clock.now() - 10_000_000
  try {
    for (let first = 0; first < count; first += CHUNK) {
      const size = Math.min(CHUNK, count - first)
      const chunkEnd = end - (count - first - size) * 2_000_000
      const items = syntheticChats(size, chunkEnd, 1 + first / CHUNK).map((raw, i) => ({
        line: first + i + 1,
        item: spec.prepare(raw),
      }))
      await importItems(store, accountId, 'chats', items, {
        preserveTimestamps: false,
        now: clock.now(),
      })
      bar.update(first + size)
    }
  } finally {
    bar.stop()
  }
}
