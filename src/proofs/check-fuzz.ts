/**
 * `npm run check:fuzz -- --cases 10000 [--seed N] [--concurrency 4] [--chunk 250]`: `--cases`
 * generated requests for every route family; exits 1 on any 5xx, leak, error not in the
 * documented shape, another account's item in a read, a request without an answer, or /healthz
 * over 100 ms.
 * @module
 */
import { scriptArgs, wholeNumberArg } from '../bench/script-args.js'
import { fuzzFailures, fuzzTable } from './fuzz-report.js'
import { runFuzz } from './fuzz.js'

const usage = `
usage: npm run check:fuzz -- [--cases 10000] [--seed 1] [--concurrency 4] [--chunk 250]

Sends --cases generated requests to every route family while timing /healthz; fails on any 5xx,
stack trace or SQL text, error not in the documented shape, cross-account item or slow /healthz.
`
const values = scriptArgs(usage, {
  cases: { type: 'string', default: '10000' },
  seed: { type: 'string', default: '1' },
  concurrency: { type: 'string', default: '4' },
  chunk: { type: 'string', default: '250' },
})
const started = performance.now()
const report = await runFuzz({
  cases: wholeNumberArg(usage, 'cases', values.cases, 1),
  seed: wholeNumberArg(usage, 'seed', values.seed),
  concurrency: wholeNumberArg(usage, 'concurrency', values.concurrency, 1),
  chunk: wholeNumberArg(usage, 'chunk', values.chunk, 1),
  log: (line) => process.stderr.write(`${line}\n`),
})
const seconds = Math.round((performance.now() - started) / 1000)
process.stdout.write(
  `\nfuzz: ${values.cases} cases per route, seed ${values.seed}, ${seconds} s\n\n${fuzzTable(report)}\n`,
)
const failures = fuzzFailures(report)
if (failures.length > 0) {
  process.stderr.write(`\nFAILED: ${failures.join('; ')}\n`)
  process.exitCode = 1
}
