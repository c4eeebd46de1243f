/**
 * `npm run check:crash -- --cycles 100 [--stores sqlite,postgres] [--store URL] [--writers 2]`:
 * SIGKILL under write load, integrity check, restart, every acknowledged event exported, positions
 * never backwards. Exits 1 on any loss, integrity error or regression.
 * @module
 */
import { scriptArgs, wholeNumberArg } from '../bench/script-args.js'
import { crashFailures, crashTable } from './crash-report.js'
import { runCrash, type CrashReport } from './crash.js'

const usage = `
usage: npm run check:crash -- [--cycles 100] [--stores sqlite,postgres] [--store URL] [--writers 2] [--seed 1]

SIGKILLs the server under write load, restarts it and checks that every acknowledged event is
exported, the store's integrity and that positions never go backwards.
`
const values = scriptArgs(usage, {
  cycles: { type: 'string', default: '100' },
  stores: { type: 'string', default: 'sqlite,postgres' },
  store: { type: 'string' },
  writers: { type: 'string', default: '2' },
  seed: { type: 'string', default: '1' },
})
const cycles = wholeNumberArg(usage, 'cycles', values.cycles, 1)
const writers = wholeNumberArg(usage, 'writers', values.writers, 1)
const seed = wholeNumberArg(usage, 'seed', values.seed)
const log = (line: string) => process.stderr.write(`${line}\n`)
const reports: CrashReport[] = []
for (const store of values.store ? [values.store] : values.stores.split(',')) {
  log(`== ${store}: ${values.cycles} SIGKILL cycles ==`)
  reports.push(
    await runCrash({
      cycles,
      store,
      writers,
      seed,
      log,
    }),
  )
}
process.stdout.write(
  `\ncrash: ${values.cycles} SIGKILL cycles per store\n\n${crashTable(reports)}\n`,
)
const failures = reports.flatMap(crashFailures)
if (failures.length > 0) {
  process.stderr.write(`\nFAILED: ${failures.join('; ')}\n`)
  process.exitCode = 1
}
