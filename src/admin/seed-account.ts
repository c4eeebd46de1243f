/**
 * Resetting an account to empty or to a seeded state from the simulator, atomically: one store
 * transaction (`Store.resetAccount`) deletes the account's items, fold state, event ids and clock
 * and folds the simulated history back in, so readers see either the old data or the new.
 *
 * Seeded history keeps realistic `update_timestamp`s: each batch of events is folded at a position
 * taken from its simulated time (not the transaction's), which is allowed only because the account
 * was emptied in the same transaction, so no cursor can have passed those positions yet.
 * @module
 */
import type { IngestEvent } from '../domain/events.js'
import type { Micros } from '../domain/time.js'
import { parseIso } from '../domain/time.js'
import { applyEventsInTx } from '../ingest/ingest-events.js'
import type { DirectoryWriteTx } from '../store/directory-port.js'
import { extendWriteTx } from '../store/directory-tx.js'
import { createDirectory } from '../simulate/directory.js'
import { simulate } from '../simulate/simulate-day.js'
import type { Store, WriteTx } from '../store/store.js'

const HOUR: Micros = 3_600_000_000
const DAY: Micros = 24 * HOUR
/** Events folded per batch (one position each): the demo's history shape, fast enough in one tx. */
const BATCH = 500

/** What a seeded reset simulates (the admin API's `{seed, days, arrivals_per_hour}`). */
export interface SeedOptions {
  seed: number
  /** Days of history before now (0 = none: only the directory and live activity). */
  days: number
  /** Average arrivals per weekday hour. */
  arrivalsPerHour: number
  /** The simulated business's local time, minutes east of UTC (default 0). */
  utcOffsetMinutes?: number
  /** The account number in chat ids (default 9339545, the reference's). */
  accountNumber?: number
  /** From this instant on, the live rate of arrivals (see SimulateOptions.arrivalsPerHourAt). */
  arrivalsPerHourAt?: (at: Micros) => number
}

/** A simulation started `days` before `now` on a whole hour, as an endless event iterator. */
export function seededEvents(options: SeedOptions, now: Micros): Iterator<IngestEvent> {
  // A whole hour, so the same seed gives the same history shape whatever the minute of start.
  const start = now - Math.round(options.days * DAY) - (now % HOUR)
  const directory = createDirectory({
    seed: options.seed,
    accountNumber: options.accountNumber ?? 9339545,
  })
  return simulate({
    seed: options.seed,
    directory,
    start,
    end: Number.POSITIVE_INFINITY,
    arrivalsPerHour: options.arrivalsPerHour,
    ...(options.utcOffsetMinutes === undefined
      ? {}
      : { utcOffsetMinutes: options.utcOffsetMinutes }),
    ...(options.arrivalsPerHourAt ? { arrivalsPerHourAt: options.arrivalsPerHourAt } : {}),
  })
}

/** The next event of a simulation, peeked (the live demo goes on from where history stopped). */
export interface PeekedEvents {
  events: Iterator<IngestEvent>
  next: IteratorResult<IngestEvent>
}

/**
 * Folds every event stamped before `until` into the transaction, in batches whose positions follow
 * simulated time. Returns how many events were applied and where the simulation stands.
 */
export async function foldHistory(
  tx: DirectoryWriteTx,
  events: Iterator<IngestEvent>,
  until: Micros,
): Promise<{ applied: number; rest: PeekedEvents }> {
  let highest = 0
  let applied = 0
  let batch: IngestEvent[] = []
  const flush = async () => {
    if (batch.length === 0) return
    const at = parseIso(batch.at(-1)?.timestamp ?? '') ?? until
    const position = Math.min(Math.max(at, highest + 1), tx.position)
    // The batch at its simulated position, with the directory writes of the same transaction.
    const batchTx = extendWriteTx(
      atPosition(tx, position, (p) => (highest = Math.max(highest, p))),
      {
        allocateId: (kind) => tx.allocateId(kind),
        getEntry: (kind, id) => tx.getEntry(kind, id),
        findEntry: (kind, lookup) => tx.findEntry(kind, lookup),
        putEntry: (kind, entry) => tx.putEntry(kind, entry),
        deleteEntry: (kind, id) => tx.deleteEntry(kind, id),
      },
    )
    const result = await applyEventsInTx(batchTx, tx.accountId, batch, { dtx: batchTx })
    applied += result.accepted
    batch = []
  }
  let next = events.next()
  while (!next.done && (parseIso(next.value.timestamp) ?? 0) < until) {
    batch.push(next.value)
    if (batch.length === BATCH) await flush()
    next = events.next()
  }
  await flush()
  return { applied, rest: { events, next } }
}

/**
 * Resets the account: to empty, or (with `seed`) to `seed.days` of simulated history up to `now`,
 * in one transaction. Returns the number of events folded and the simulation, to go on live.
 */
export async function resetAccount(
  store: Store,
  accountId: number,
  now: Micros,
  seed?: SeedOptions,
): Promise<{ events: number; rest?: PeekedEvents }> {
  if (!seed) {
    await store.resetAccount(accountId)
    return { events: 0 }
  }
  let outcome: { applied: number; rest: PeekedEvents } | undefined
  await store.resetAccount(accountId, async (tx) => {
    outcome = await foldHistory(tx, seededEvents(seed, now), now)
  })
  return outcome ? { events: outcome.applied, rest: outcome.rest } : { events: 0 }
}

/** The transaction seen at another position, noting each item position written. */
function atPosition(tx: WriteTx, position: Micros, wrote: (position: Micros) => void): WriteTx {
  return {
    accountId: tx.accountId,
    position,
    highWaterMark: (stream) => tx.highWaterMark(stream),
    getItem: (stream, key) => tx.getItem(stream, key),
    getItems: (stream, keys) => tx.getItems(stream, keys),
    putItem: (stream, item) => {
      wrote(item.position)
      return tx.putItem(stream, item)
    },
    getState: (kind, key) => tx.getState(kind, key),
    getStates: (kind, keys) => tx.getStates(kind, keys),
    putState: (kind, key, value) => tx.putState(kind, key, value),
    deleteState: (kind, key) => tx.deleteState(kind, key),
    markEvent: (id) => tx.markEvent(id),
    markEvents: (ids) => tx.markEvents(ids),
  }
}
