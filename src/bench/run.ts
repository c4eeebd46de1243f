/**
 * `npm run bench`: loads synthetic data into each store, runs the benchmarks and prints Markdown
 * tables (pasteable into the README). Speed is measured here, never in tests.
 *
 *   npm run bench -- --chats 20000 --duration 5 --stores sqlite,postgres
 *   npm run bench -- --only sync --chats 100000
 *   npm run bench -- --only side,ingest --stores sqlite --chats 100000 --out BENCHMARKS.md
 *   npm run bench -- --only side --sections depth --stores sqlite --chats 1000000
 *
 * `side` is the side-by-side run against the peers (src/bench/peers/, SQLite only); `--out`
 * also writes the printed Markdown to a file and `--chart` the latency chart (PNG).
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { systemClock } from '../domain/clock.js'
import { issueToken } from '../auth/tokens.js'
import { openStore } from '../store/open-store.js'
import { loadSyntheticChats } from './load-chats.js'
import { runExportBench, type Row } from './export-bench.js'
import { markdownTable } from './table.js'
import { benchStoreUrls } from './bench-stores.js'
import { pinLoadToOtherCores } from './bench-server.js'
import { scriptArgs, wholeNumberArg } from './script-args.js'

const usage = `
usage: npm run bench -- [--chats N] [--duration 5] [--stores sqlite,postgres]
  [--only side,export,ingest,sync] [--sections NAMES] [--out FILE.md] [--chart FILE.png]

--chats defaults to 20000 for export and 100000 for sync; --duration is seconds per measurement;
--sections picks side-by-side comparisons (e.g. depth); --out also writes the Markdown to a file.
`
const values = scriptArgs(usage, {
  // No default here: export defaults to 20 000 chats, sync to 100 000 (the issue's figure).
  chats: { type: 'string' },
  duration: { type: 'string', default: '5' },
  stores: { type: 'string', default: 'sqlite,postgres' },
  only: { type: 'string', default: 'side,export,ingest,sync' },
  out: { type: 'string' },
  chart: { type: 'string', default: 'benchmarks-latency.png' },
  // The side-by-side comparisons to run (default all), e.g. `--sections depth` for a 1M run.
  sections: { type: 'string' },
})

const log = (line: string) => process.stderr.write(`${line}\n`)
const chats = wholeNumberArg(usage, 'chats', values.chats ?? '20000', 1)
const syncChats = wholeNumberArg(usage, 'chats', values.chats ?? '100000', 1)
const duration = wholeNumberArg(usage, 'duration', values.duration, 1)
const only = values.only.split(',')
const clock = systemClock()
const dir = mkdtempSync(join(tmpdir(), 'chat-export-bench-'))
const exportRows: Row[] = []
let sideBySide = ''
const pinned = pinLoadToOtherCores()
const steal0 = await cpuSteal()
const output: string[] = []
const print = (text: string) => {
  output.push(text)
  process.stdout.write(text)
}
const ingestRows: Row[] = []
let ingestColumns: string[] = []
const syncRows: Row[] = []
let syncColumns: string[] = []

const { urls, stop } = await benchStoreUrls(
  only.some((s) => s === 'export' || s === 'ingest' || s === 'side')
    ? values.stores.split(',')
    : [],
  dir,
  log,
)
try {
  for (const storeUrl of urls) {
    const backend = storeUrl.startsWith('sqlite:') ? 'sqlite' : 'postgres'
    log(`\n== ${backend} ==`)
    const store = await openStore(storeUrl, { clock })
    const account = await store.createAccount(`bench-${Date.now()}`)
    const { token } = await issueToken(store, {
      accountId: account.id,
      role: 'owner',
      scopes: ['read', 'write'],
      now: clock.now(),
    })
    if (only.includes('export') || (only.includes('side') && backend === 'sqlite')) {
      await loadSyntheticChats(store, account.id, chats, clock)
    }
    if (only.includes('side') && backend === 'sqlite') {
      log('\n== side by side ==')
      const { runSideBySide } = await import('./side-by-side.js')
      sideBySide = await runSideBySide({
        dbPath: storeUrl.slice('sqlite:'.length),
        token,
        accountId: account.id,
        store,
        clock,
        chats,
        durationSeconds: duration,
        chartPath: values.chart,
        sections: values.sections === undefined ? undefined : new Set(values.sections.split(',')),
        dir,
        log,
      })
    }
    if (only.includes('export')) {
      exportRows.push(
        ...(await runExportBench({
          storeUrl,
          token,
          accountId: account.id,
          store,
          chats,
          durationSeconds: duration,
          log,
        })),
      )
    }
    if (only.includes('ingest')) {
      const { runIngestBench, INGEST_BENCH_COLUMNS } = await import('./ingest-bench.js')
      ingestColumns = INGEST_BENCH_COLUMNS
      ingestRows.push(
        ...(await runIngestBench({ store, storeUrl, accountId: account.id, clock, log, backend })),
      )
    }
    await store.close()
  }
} finally {
  await stop()
  rmSync(dir, { recursive: true, force: true })
}
if (only.includes('sync')) {
  // After the store benchmarks: it starts its own server and PostgreSQL.
  log(`\n== sync ==`)
  const { runSyncBench, SYNC_BENCH_COLUMNS } = await import('./sync-bench.js')
  syncColumns = SYNC_BENCH_COLUMNS
  syncRows.push(...(await runSyncBench({ log, chats: syncChats })))
}

const os = await import('node:os')
const machine = `${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'CPU'}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`
print(
  `\n## Run of ${machine}\n\nCommand: \`npm run bench -- ${process.argv.slice(2).join(' ')}\`; ` +
    `${pinned ? 'servers pinned to CPU 0, load on the other cores' : 'not pinned (no taskset)'}; ` +
    `load average at the end ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')}${stealNote(steal0, await cpuSteal())}.\n`,
)
if (sideBySide !== '') print(`\n${sideBySide}`)
if (exportRows.length > 0) {
  print(`\n### Export (${chats} chats, ${machine})\n\n`)
  print(
    markdownTable(
      [
        'backend',
        'scenario',
        'conc',
        'pages/s',
        'chats/s',
        'MB/s',
        'p50 ms',
        'p99 ms',
        'server CPU ms/page',
        'RSS MB',
      ],
      exportRows,
    ) + '\n',
  )
}
if (ingestRows.length > 0) {
  print(`\n### Ingest (${machine})\n\n`)
  print(markdownTable(ingestColumns, ingestRows) + '\n')
}
if (syncRows.length > 0) {
  print(
    `\n### Sync, full sync of the chats stream (${syncChats} chats, ${machine}; the server pinned, the sync on every CPU; destinations alternated, a fresh destination each round)\n\n`,
  )
  print(markdownTable(syncColumns, syncRows) + '\n')
}

if (values.out !== undefined) {
  const { writeFileSync } = await import('node:fs')
  writeFileSync(values.out, output.join(''))
  log(`written: ${values.out}`)
}

/**
 * The machine's CPU time so far, all and stolen (`/proc/stat`, Linux): on a virtual machine the
 * host may run other guests on "our" cores, and a run during which it did is slower throughout.
 */
async function cpuSteal(): Promise<{ total: number; steal: number } | undefined> {
  const { readFile } = await import('node:fs/promises')
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? ''
    const fields = line.trim().split(/\s+/).slice(1).map(Number)
    return { total: fields.reduce((a, b) => a + b, 0), steal: fields[7] ?? 0 }
  } catch {
    return undefined
  }
}

/** The header's note on stolen CPU time ("; CPU time stolen … 4.2 %"), or "" where unknown. */
function stealNote(
  before: { total: number; steal: number } | undefined,
  after: { total: number; steal: number } | undefined,
): string {
  if (before === undefined || after === undefined || after.total <= before.total) return ''
  const share = (100 * (after.steal - before.steal)) / (after.total - before.total)
  return `; CPU time stolen by the host (other virtual machines) during the run: ${share.toFixed(1)} %`
}
