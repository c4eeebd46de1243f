/**
 * The simulator and the folding agree: a simulated day of a support team folds without a single
 * error, and what it produces has the shape of the reference's objects.
 */
import { describe, expect, it } from 'vitest'
import { parseIso } from '../../src/domain/time.js'
import { foldEvent, MemoryFoldState } from '../../src/domain/fold/index.js'
import { createDirectory } from '../../src/simulate/directory.js'
import { simulate } from '../../src/simulate/simulate-day.js'

describe('simulated events fold cleanly', () => {
  for (const seed of [1, 2, 42]) {
    it(`seed ${seed}: one day, every event applies`, async () => {
      const directory = createDirectory({ seed, accountNumber: 9339545 })
      const start = parseIso('2026-11-23T00:00:00Z')!
      const state = new MemoryFoldState()
      const errors: string[] = []
      const counts: Record<string, number> = {}
      let events = 0
      for (const event of simulate({
        seed,
        directory,
        start,
        end: start + 86_400_000_000,
        drain: true,
      })) {
        events++
        const result = await foldEvent(state, event)
        if (!result.ok) {
          errors.push(`${event.type} ${event.id}: ${result.error.message}`)
          continue
        }
        state.writeChats(result.output.chats)
        for (const [stream, items] of Object.entries(result.output)) {
          counts[stream] = (counts[stream] ?? 0) + items.length
        }
      }
      expect(errors.slice(0, 5)).toEqual([])
      expect(events).toBeGreaterThan(500)
      for (const stream of [
        'chats',
        'agent_timeline',
        'agent_events',
        'department_events',
        'conversions',
      ]) {
        expect(counts[stream], stream).toBeGreaterThan(0)
      }
    })
  }
})
