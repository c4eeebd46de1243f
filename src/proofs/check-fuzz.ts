/**
 * `npm run check:fuzz -- --cases 10000 [--seed N]`: generated requests to every route; exits 1 on
 * any unknown 5xx, leak, error not in the documented shape, or /healthz over 100 ms.
 * @module
 */
import { parseArgs } from 'node:util'
import { fuzzFailures, fuzzTable } from './fuzz-report.js'
import { runFuzz } from './fuzz.js'

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '10000' },
    seed: { type: 'string', default: '1' },
  },
})
const report = await runFuzz({
  cases: Number(values.cases),
  seed: Number(values.seed),
  log: (line) => process.stderr.write(`${line}\n`),
})
process.stdout.write(`\nfuzz: ${values.cases} cases, seed ${values.seed}\n\n${fuzzTable(report)}\n`)
const failures = fuzzFailures(report)
if (failures.length > 0) {
  process.stderr.write(`\nFAILED: ${failures.join('; ')}\n`)
  process.exitCode = 1
}
