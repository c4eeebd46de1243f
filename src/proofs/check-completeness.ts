/**
 * `npm run check:completeness -- --writers 8 --exporters 8 --seconds 60 --seed 1 [--store URL]`
 * (`--store` takes `sqlite` (default), `postgres` (DATABASE_URL or embedded) or a store URL).
 * Prints progress on stderr and the report table on stdout; exits 1 when anything acknowledged
 * was lost, repeated, out of order or cross-account, or when the negative control lost nothing.
 * @module
 */
import { scriptArgs, wholeNumberArg } from '../bench/script-args.js'
import { completenessFailures, completenessTable } from './completeness-report.js'
import { runCompleteness } from './completeness.js'

const usage = `
usage: npm run check:completeness -- [--writers 8] [--exporters 8] [--seconds 60] [--seed 1] [--store sqlite|postgres|URL]

Concurrent writers through the HTTP event API and exporters following next_page; reports versions
lost, duplicated, out of order and cross-account, freshness, and a naive cursor's losses.
`
const values = scriptArgs(usage, {
  writers: { type: 'string', default: '8' },
  exporters: { type: 'string', default: '8' },
  seconds: { type: 'string', default: '60' },
  seed: { type: 'string', default: '1' },
  store: { type: 'string', default: 'sqlite' },
})

const report = await runCompleteness({
  writers: wholeNumberArg(usage, 'writers', values.writers, 1),
  exporters: wholeNumberArg(usage, 'exporters', values.exporters, 1),
  seconds: wholeNumberArg(usage, 'seconds', values.seconds, 1),
  seed: wholeNumberArg(usage, 'seed', values.seed),
  store: values.store,
  log: (line) => process.stderr.write(`${line}\n`),
})
process.stdout.write(
  `\ncompleteness: ${values.writers} writers × ${values.exporters} exporters × ${values.seconds} s, seed ${values.seed}\n\n${completenessTable(report)}\n`,
)
const failures = completenessFailures(report)
if (failures.length > 0) {
  process.stderr.write(`\nFAILED: ${failures.join('; ')}\n`)
  process.exitCode = 1
}
