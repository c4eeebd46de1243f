/**
 * A small run of `npm run check:crash` (3 SIGKILL cycles under write load on SQLite, and on
 * PostgreSQL when the run has it): every acknowledged event is exported after the restart, every
 * SQLite image passes `PRAGMA integrity_check`, no position goes backwards. Needs `npm run build`.
 */
import { describe, expect, it } from 'vitest'
import { crashFailures, crashTable } from '../../src/proofs/crash-report.js'
import { runCrash } from '../../src/proofs/crash.js'
import { freshPostgresUrl, postgresTestServerAvailable } from '../support/postgres.js'

const stores = [
  ...(process.env.STORES === undefined || process.env.STORES.includes('sqlite') ? ['sqlite'] : []),
  ...(postgresTestServerAvailable() ? ['postgres'] : []),
]

describe.each(stores)('crash proof on %s', (backend) => {
  it('loses nothing acknowledged across SIGKILLs', async () => {
    const store = backend === 'sqlite' ? 'sqlite' : await freshPostgresUrl()
    const report = await runCrash({ cycles: 3, store, writers: 2, seed: 3, log: () => {} })
    const table = crashTable([report])
    expect(crashFailures(report), table).toEqual([])
    expect(report.cycles).toBe(3)
    if (backend === 'sqlite') expect(report.integrityChecks).toBe(3)
  })
})
