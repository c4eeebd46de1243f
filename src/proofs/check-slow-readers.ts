/**
 * `npm run check:slow-readers -- --readers 200 --writers 20 --seconds 60 [--rate 2048]
 * [--stalled N] [--write-interval-ms 1000] [--chats 3000] [--chat-kb 10] [--store sqlite|postgres|URL] [--seed N] [--max-rss-mb 400]
 * [--send-timeout S] [--max-bytes-in-flight B]`: slow readers and writers at once against a server
 * child left at its default limits (unless the last two say otherwise). Prints progress on stderr
 * and the report table on stdout; exits 1 when peak RSS reaches --max-rss-mb, on any writer error
 * or lost acknowledged write, and on any 5xx other than 503 OVERLOADED.
 * @module
 */
import { scriptArgs, wholeNumberArg } from '../bench/script-args.js'
import { slowReadersFailures, slowReadersTable } from './slow-readers-report.js'
import { runSlowReaders } from './slow-readers.js'

const usage = `
usage: npm run check:slow-readers -- [--readers 200] [--writers 20] [--seconds 60] [--rate 2048]
  [--stalled N] [--write-interval-ms 1000] [--chats 3000] [--chat-kb 10] [--store sqlite|postgres|URL]
  [--seed 1] [--max-rss-mb 400] [--send-timeout S] [--max-bytes-in-flight B]

Slow readers (--rate bytes/s each, --stalled of them never reading) and writers at once; fails
when peak RSS reaches --max-rss-mb, on a writer error or lost write, or on an unexpected 5xx.
`
const values = scriptArgs(usage, {
  readers: { type: 'string', default: '200' },
  writers: { type: 'string', default: '20' },
  seconds: { type: 'string', default: '60' },
  rate: { type: 'string', default: '2048' },
  stalled: { type: 'string' },
  'write-interval-ms': { type: 'string', default: '1000' },
  chats: { type: 'string', default: '3000' },
  'chat-kb': { type: 'string', default: '10' },
  seed: { type: 'string', default: '1' },
  store: { type: 'string', default: 'sqlite' },
  'max-rss-mb': { type: 'string', default: '400' },
  'send-timeout': { type: 'string' },
  'max-bytes-in-flight': { type: 'string' },
})

const whole = (name: string, text: string, min = 0) => wholeNumberArg(usage, name, text, min)
const readers = whole('readers', values.readers, 1)
const maxRssMb = whole('max-rss-mb', values['max-rss-mb'], 1)
const optional = (name: string, text: string | undefined, min = 0) =>
  text === undefined ? undefined : whole(name, text, min)
const report = await runSlowReaders({
  readers,
  writers: whole('writers', values.writers),
  seconds: whole('seconds', values.seconds, 1),
  rate: whole('rate', values.rate, 1),
  // One reader in ten never reads its page: the send timeout's to drop.
  stalled: optional('stalled', values.stalled) ?? Math.floor(readers / 10),
  writeIntervalMs: whole('write-interval-ms', values['write-interval-ms'], 1),
  chats: whole('chats', values.chats, 1),
  chatKb: whole('chat-kb', values['chat-kb'], 1),
  seed: whole('seed', values.seed),
  store: values.store,
  sendTimeoutSeconds: optional('send-timeout', values['send-timeout'], 1),
  maxBytesInFlight: optional('max-bytes-in-flight', values['max-bytes-in-flight'], 1),
  log: (line) => process.stderr.write(`${line}\n`),
})
process.stdout.write(
  `\nslow readers: ${values.readers} readers × ${values.writers} writers × ${values.seconds} s, seed ${values.seed}\n\n${slowReadersTable(report)}\n`,
)
const failures = slowReadersFailures(report, maxRssMb)
if (failures.length > 0) {
  process.stderr.write(`\nFAILED: ${failures.join('; ')}\n`)
  process.exitCode = 1
}
