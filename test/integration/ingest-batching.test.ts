/**
 * Batch size changes nothing but speed: the same simulated events ingested one at a time, in odd
 * batches and in batches of 1000 give byte-identical exports on every stream, on every store; and
 * re-sending them is all duplicates. A large batch yields to other requests as it is applied.
 */
import { afterAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/domain/clock.js'
import type { IngestEvent } from '../../src/domain/events.js'
import { STREAM_NAMES } from '../../src/domain/streams.js'
import { parseIso } from '../../src/domain/time.js'
import { applyEvents } from '../../src/ingest/ingest-events.js'
import { createDirectory } from '../../src/simulate/directory.js'
import { simulate } from '../../src/simulate/simulate-day.js'
import type { Store } from '../../src/store/store.js'
import type { StoreHandle } from '../support/stores.js'
import { storeBackends } from '../support/stores.js'

const directory = createDirectory({ seed: 9, accountNumber: 9339545, agents: 5 })
const start = parseIso('2026-11-24T08:00:00Z')!
const events: IngestEvent[] = [
  ...simulate({ seed: 9, directory, start, end: start + 4 * 3_600_000_000, drain: true }),
].slice(0, 2500)

/** Every item of every stream, without positions (they depend on batching by design). */
async function exportAll(store: Store, accountId: number): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {}
  for (const stream of STREAM_NAMES) {
    const rows = await store.readPage({
      accountId,
      stream,
      afterPosition: 0,
      afterSortId: null,
      limit: 100_000,
    })
    out[stream] = rows
      .map((r) => {
        const item = JSON.parse(r.body.toString('utf8'))
        delete item.update_timestamp // a chat's update_timestamp is its position
        delete item.account_id // each batch size runs in its own account
        return JSON.stringify(item)
      })
      .sort()
  }
  return out
}

for (const backend of storeBackends()) {
  describe(`${backend.name}: ingest batch sizes`, () => {
    const handles: StoreHandle[] = []
    afterAll(async () => {
      for (const h of handles) await h.cleanup()
    })

    it('gives the same exports for batches of 1, 7 and 1000, and retries are duplicates', async () => {
      const handle = await backend.create(new ManualClock(Date.UTC(2026, 10, 27) * 1000))
      handles.push(handle)
      const results: Array<Record<string, string[]>> = []
      for (const size of [1, 7, 1000]) {
        const account = await handle.store.createAccount(`batch-${size}`)
        for (let i = 0; i < events.length; i += size) {
          const r = await applyEvents(handle.store, account.id, events.slice(i, i + size))
          expect(r.duplicates).toBe(0)
        }
        results.push(await exportAll(handle.store, account.id))
        if (size === 1000) {
          const again = await applyEvents(handle.store, account.id, events.slice(0, 500))
          expect(again).toMatchObject({ accepted: 0, duplicates: 500 })
        }
      }
      expect(results[0]!.chats!.length).toBeGreaterThan(20)
      expect(results[0]!.agent_timeline!.length).toBeGreaterThan(5)
      expect(results[1]).toEqual(results[0])
      expect(results[2]).toEqual(results[0])
    }, 120_000)

    it('lets other work run while a batch of 1000 is folded and written', async () => {
      const handle = await backend.create(new ManualClock(Date.UTC(2026, 10, 27) * 1000))
      handles.push(handle)
      const account = await handle.store.createAccount('slices')
      // Turns of the event loop taken while the batch is applied: none if it never yields (on
      // SQLite every statement is synchronous, so folding and writing would hold the loop).
      let turns = 0
      let running = true
      const tick = () => {
        if (!running) return
        turns++
        setImmediate(tick)
      }
      setImmediate(tick)
      const result = await applyEvents(handle.store, account.id, events.slice(0, 1000))
      running = false
      expect(result.accepted).toBe(1000)
      expect(turns).toBeGreaterThan(0)
    }, 60_000)
  })
}
