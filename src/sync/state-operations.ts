/**
 * `sync state show|reset`: read or forget the per-stream sync state of a destination. Each
 * operation touches only the streams it names.
 * @module
 */
import type { ExportStream } from '../client/index.js'
import type { Destination, StreamSyncState } from './destination.js'
import { openDestination } from './open-destination.js'

async function withDestination<T>(
  to: string | Destination,
  fn: (d: Destination) => Promise<T>,
): Promise<T> {
  const destination = typeof to === 'string' ? await openDestination(to) : to
  try {
    return await fn(destination)
  } finally {
    if (typeof to === 'string') await destination.close()
  }
}

/** The stored state of `streams` (default: every stream that has one). */
export async function showSyncState(
  to: string | Destination,
  streams?: readonly ExportStream[],
): Promise<StreamSyncState[]> {
  return withDestination(to, async (destination) => {
    const states = await destination.listStates()
    return streams === undefined ? states : states.filter((s) => streams.includes(s.stream))
  })
}

/**
 * Forgets the cursor of each of `streams`: their next sync starts again from --start-time (items
 * already stored stay and are upserted again). Other streams are untouched.
 */
export async function resetSyncState(
  to: string | Destination,
  streams: readonly ExportStream[],
): Promise<{ stream: ExportStream; reset: boolean }[]> {
  return withDestination(to, async (destination) => {
    const results: { stream: ExportStream; reset: boolean }[] = []
    for (const stream of streams)
      results.push({ stream, reset: await destination.resetState(stream) })
    return results
  })
}
