/**
 * The sync bench (src/bench/sync-bench.ts, run from the built dist/ as `npm run bench` runs it):
 * destinations alternate round by round, and each round syncs every chat, so each went into a
 * fresh destination (a round into a used one would sync none). Its syncs run in child processes
 * (sync-child.ts), whose reports are these rows.
 */
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import type * as SyncBench from '../../src/bench/sync-bench.js'

const DIST_SYNC_BENCH = pathToFileURL(
  fileURLToPath(new URL('../../dist/bench/sync-bench.js', import.meta.url)),
).href

describe('runSyncBench', () => {
  it('alternates destinations over rounds, every round a full sync into a fresh destination', async () => {
    const { runSyncBench } = (await import(DIST_SYNC_BENCH)) as typeof SyncBench
    const rows = await runSyncBench({
      log: () => {},
      chats: 1500,
      destinations: ['sqlite', 'jsonl', 'postgres', 'postgres-json'],
      rounds: 2,
    })
    expect(rows.map((r) => [r.destination, r.round, r.items])).toEqual([
      ['sqlite', 1, 1500],
      ['jsonl', 1, 1500],
      ['postgres', 1, 1500],
      ['postgres-json', 1, 1500],
      ['sqlite', 2, 1500],
      ['jsonl', 2, 1500],
      ['postgres', 2, 1500],
      ['postgres-json', 2, 1500],
    ])
    for (const row of rows) {
      // Two pages of 1000: the CPU figures are per page of the child's own work.
      expect(row['client CPU ms/page']).toBeGreaterThan(0)
      expect(row['items/s']).toBeGreaterThan(0)
      // The database's own CPU is counted for both PostgreSQL destinations, and only for them.
      if (String(row.destination).startsWith('postgres'))
        expect(row['PostgreSQL CPU ms/page']).toBeGreaterThan(0)
      else expect(row['PostgreSQL CPU ms/page']).toBe('-')
    }
  }, 120_000)
})
