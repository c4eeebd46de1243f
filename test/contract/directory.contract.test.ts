/**
 * The directory port's contract (src/store/directory-port.ts). Runs today against the in-memory
 * reference over each real store; phase 2 adds each store's own implementation to `IMPLEMENTATIONS`
 * and must pass unchanged.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/domain/clock.js'
import { applyIdWindow } from '../../src/domain/rest/id-window.js'
import type { DirectoryEntry, DirectoryStore } from '../../src/store/directory-port.js'
import type { Store } from '../../src/store/store.js'
import { memoryDirectory } from '../support/memory-directory.js'
import type { StoreHandle } from '../support/stores.js'
import { storeBackends } from '../support/stores.js'

const IMPLEMENTATIONS: { name: string; make(store: Store): DirectoryStore }[] = [
  { name: 'memory reference', make: memoryDirectory },
  {
    name: 'store',
    make(store) {
      if (!store.directory) throw new Error(`The ${store.kind} store has no directory.`)
      return store.directory
    },
  },
]

const entry = (id: number, lookup: string | null = null): DirectoryEntry => ({
  id: String(id),
  numericId: id,
  lookup,
  body: JSON.stringify({ id }),
})

for (const backend of storeBackends()) {
  for (const impl of IMPLEMENTATIONS) {
    describe(`${backend.name} / ${impl.name}: directory port`, () => {
      let handle: StoreHandle
      let dir: DirectoryStore
      let a: number
      let b: number
      beforeAll(async () => {
        handle = await backend.create(new ManualClock(1_700_000_000_000_000))
        dir = impl.make(handle.store)
        a = (await handle.store.createAccount('dir-a')).id
        b = (await handle.store.createAccount('dir-b')).id
      })
      afterAll(async () => handle.cleanup())

      it('lists ascending by numeric id (not by text), string ids by text; empty is []', async () => {
        expect(await dir.listEntries(a, 'agent', null)).toEqual([])
        await dir.writeDirectory(a, async (tx) => {
          for (const id of [10, 9, 100]) await tx.putEntry('skill', entry(id))
          for (const name of ['b', 'a', 'C']) {
            await tx.putEntry('shortcut', { id: name, numericId: null, lookup: name, body: '{}' })
          }
        })
        expect((await dir.listEntries(a, 'skill', null)).map((e) => e.numericId)).toEqual([
          9, 10, 100,
        ])
        expect((await dir.listEntries(a, 'shortcut', null)).map((e) => e.id)).toEqual([
          'C',
          'a',
          'b',
        ])
      })

      it('id windows agree with applyIdWindow', async () => {
        const ids = [1, 2, 5, 8, 13, 21, 34, 55]
        await dir.writeDirectory(a, async (tx) => {
          for (const id of ids) await tx.putEntry('ban', entry(id))
        })
        await fc.assert(
          fc.asyncProperty(
            fc.option(fc.integer({ min: 0, max: 60 })),
            fc.option(fc.integer({ min: 0, max: 60 })),
            fc.integer({ min: 1, max: 10 }),
            async (sinceId, maxId, limit) => {
              const window = { sinceId, maxId, limit }
              const got = (await dir.listEntries(a, 'ban', window)).map((e) => e.numericId)
              const want = applyIdWindow(
                ids.map((id) => ({ id })),
                window,
              ).map((r) => r.id)
              expect(got).toEqual(want)
            },
          ),
          { numRuns: 40 },
        )
      })

      it('gets by id and finds by look-up key', async () => {
        await dir.writeDirectory(a, (tx) => tx.putEntry('agent', entry(7, 'ann@example.com')))
        expect(await dir.getEntry(a, 'agent', '7')).toEqual(entry(7, 'ann@example.com'))
        expect(await dir.findEntry(a, 'agent', 'ann@example.com')).toEqual(
          entry(7, 'ann@example.com'),
        )
        expect(await dir.getEntry(a, 'agent', '8')).toBeUndefined()
        expect(await dir.findEntry(a, 'agent', 'nobody@example.com')).toBeUndefined()
        // Kinds are separate namespaces.
        expect(await dir.getEntry(a, 'department', '7')).toBeUndefined()
      })

      it('a transaction reads its own writes; a failed one leaves nothing behind', async () => {
        await dir.writeDirectory(a, async (tx) => {
          await tx.putEntry('goal', entry(1))
          expect(await tx.getEntry('goal', '1')).toEqual(entry(1))
          expect(await tx.deleteEntry('goal', '1')).toBe(true)
          expect(await tx.deleteEntry('goal', '1')).toBe(false)
          await tx.putEntry('goal', entry(2, 'two'))
          expect(await tx.findEntry('goal', 'two')).toEqual(entry(2, 'two'))
        })
        await expect(
          dir.writeDirectory(a, async (tx) => {
            await tx.putEntry('goal', entry(3))
            await tx.deleteEntry('goal', '2')
            throw new Error('boom')
          }),
        ).rejects.toThrow('boom')
        expect((await dir.listEntries(a, 'goal', null)).map((e) => e.id)).toEqual(['2'])
      })

      it('allocates ascending ids per kind, never reused after a delete', async () => {
        const first = await dir.writeDirectory(a, (tx) => tx.allocateId('trigger'))
        await dir.writeDirectory(a, (tx) => tx.putEntry('trigger', entry(first)))
        const second = await dir.writeDirectory(a, (tx) => tx.allocateId('trigger'))
        expect(second).toBeGreaterThan(first)
        await dir.writeDirectory(a, async (tx) => {
          await tx.putEntry('trigger', entry(second))
          await tx.deleteEntry('trigger', String(second))
        })
        expect(await dir.writeDirectory(a, (tx) => tx.allocateId('trigger'))).toBeGreaterThan(
          second,
        )
      })

      it('keeps accounts apart', async () => {
        expect(await dir.listEntries(b, 'agent', null)).toEqual([])
        expect(await dir.getEntry(b, 'agent', '7')).toBeUndefined()
        expect(await dir.findEntry(b, 'agent', 'ann@example.com')).toBeUndefined()
        await dir.writeDirectory(b, async (tx) => {
          expect(await tx.getEntry('agent', '7')).toBeUndefined()
          expect(await tx.deleteEntry('agent', '7')).toBe(false)
        })
        expect(await dir.getEntry(a, 'agent', '7')).toBeDefined()
      })
    })
  }
}
