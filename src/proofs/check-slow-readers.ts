/**
 * `npm run check:slow-readers -- --readers 200 --writers 20 --seconds 60 [--rate 2048]
 * [--stalled N] [--write-interval-ms 1000] [--chats 3000] [--chat-kb 10] [--store sqlite|postgres|URL] [--seed N] [--max-rss-mb 400]
 * [--send-timeout S] [--max-bytes-in-flight B]`: slow readers and writers at once against a server
 * child left at its default limits (unless the last two say otherwise). Prints progress on stderr
 * and the report table on stdout; exits 1 when peak RSS reaches --max-rss-mb, on any writer error
 * or lost acknowledged write, and on any 5xx other than 503 OVERLOADED.
 * @module
 */
import { parseArgs } from 'node:util'
import { slowReadersFailures, slowReadersTable } from './slow-readers-report.js'
import { runSlowReaders } from './slow-readers.js'

const { values } = parseArgs({
  options: {
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
  },
})

const readers = Number(values.readers)
const optional = (text: string | undefined) => (text === undefined ? undefined : Number(text))
const report = await runSlowReaders({
  readers,
  writers: Number(values.writers),
  seconds: Number(values.seconds),
  rate: Number(values.rate),
  // One reader in ten never reads its page: the send timeout's to drop.
  stalled: optional(values.stalled) ?? Math.floor(readers / 10),
  writeIntervalMs: Number(values['write-interval-ms']),
  chats: Number(values.chats),
  chatKb: Number(values['chat-kb']),
  seed: Number(values.seed),
  store: values.store,
  sendTimeoutSeconds: optional(values['send-timeout']),
  maxBytesInFlight: optional(values['max-bytes-in-flight']),
  log: (line) => process.stderr.write(`${line}\n`),
})
process.stdout.write(
  `\nslow readers: ${values.readers} readers × ${values.writers} writers × ${values.seconds} s, seed ${values.seed}\n\n${slowReadersTable(report)}\n`,
)
const failures = slowReadersFailures(report, Number(values['max-rss-mb']))
if (failures.length > 0) {
  process.stderr.write(`\nFAILED: ${failures.join('; ')}\n`)
  process.exitCode = 1
}
