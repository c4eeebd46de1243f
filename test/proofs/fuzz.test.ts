/**
 * A small run of `npm run check:fuzz` (300 cases): no unknown 5xx, no stack trace or SQL in a
 * body, every error in the documented shape. Known open findings are counted apart (finding 2:
 * agent_timeline import with preserve_timestamps and an out-of-range span answers 500), so the
 * rest is still checked. Needs `npm run build`.
 */
import { describe, expect, it } from 'vitest'
import { fuzzFailures, fuzzTable } from '../../src/proofs/fuzz-report.js'
import { runFuzz } from '../../src/proofs/fuzz.js'

describe('fuzz proof', () => {
  it('never answers 5xx, leaks, or an error of another shape', async () => {
    const report = await runFuzz({ cases: 300, seed: 11, log: () => {} })
    const table = fuzzTable(report)
    // /healthz: the bound is 100 ms (checked by the script); on the shared test machine
    // (2 cores, parallel test files) only a stall of a second or more fails this test.
    expect(fuzzFailures(report, 1000), table).toEqual([])
    expect(report.cases).toBe(300)
    expect(report.status2xx, table).toBeGreaterThan(0)
  })
})
