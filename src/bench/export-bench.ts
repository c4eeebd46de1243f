/**
 * Export benchmarks: a sequential exporter following next_page (like Airbyte), random full pages
 * under load (autocannon, c=1 and c=8), id-only and projected pages, and the cost of building a page
 * by splicing stored JSON versus parse+stringify (what an ORM/DTO layer would do).
 * @module
 */
import autocannon from 'autocannon'
import { performance } from 'node:perf_hooks'
import type { Store } from '../store/store.js'
import { cpuSeconds, rssMb, spawnServer } from './bench-server.js'

export interface ExportBenchOptions {
  storeUrl: string
  token: string
  accountId: number
  store: Store
  chats: number
  durationSeconds: number
  log: (line: string) => void
}

export type Row = Record<string, string | number>

/** Runs the export scenarios against a server spawned over `storeUrl`. */
export async function runExportBench(options: ExportBenchOptions): Promise<Row[]> {
  const rows: Row[] = []
  const server = await spawnServer(options.storeUrl)
  // identity: fetch offers gzip by default, and this measures uncompressed pages.
  const auth = { authorization: `Bearer ${options.token}`, 'accept-encoding': 'identity' }
  const backend = options.storeUrl.startsWith('sqlite:') ? 'sqlite' : 'postgres'
  try {
    // 1. Sequential walk of the whole table, following next_page.
    const cursors: string[] = []
    const firstUrl = `${server.url}/api/v2/chat/incremental/chats?fields=chats(*)&limit=1000`
    let url = firstUrl
    let pass = 0
    const latencies: number[] = []
    let items = 0
    let bytes = 0
    const cpu0 = (await cpuSeconds(server.pid)) ?? 0
    const t0 = performance.now()
    for (;;) {
      if (pass === 0) cursors.push(url)
      const s = performance.now()
      const res = await fetch(url, { headers: auth })
      const body = Buffer.from(await res.arrayBuffer())
      latencies.push(performance.now() - s)
      bytes += body.length
      // Read count and next_page from the page's tail, as a streaming client would: this measures
      // the server, not a 3.5 MB JSON.parse in the benchmark process.
      const tail = body.subarray(Math.max(0, body.length - 2048)).toString('utf8')
      const count = Number(/"count":(\d+)/.exec(tail)?.[1] ?? NaN)
      const nextPage = /"next_page":"([^"]+)"/.exec(tail)?.[1]
      if (!Number.isInteger(count) || nextPage === undefined)
        throw new Error('unexpected page shape')
      items += count
      url = nextPage
      if (count < 1000) {
        // Walk the table three times so short tables still give a stable figure.
        if (++pass === 3) break
        url = firstUrl
      }
    }
    const wall = (performance.now() - t0) / 1000
    const cpu = ((await cpuSeconds(server.pid)) ?? 0) - cpu0
    latencies.sort((a, b) => a - b)
    const pages = latencies.length
    rows.push({
      backend,
      scenario: 'walk next_page (3 passes), chats(*)',
      conc: 1,
      'pages/s': pages / wall,
      'chats/s': Math.round(items / wall),
      'MB/s': bytes / 1e6 / wall,
      'p50 ms': latencies[Math.floor(pages * 0.5)] ?? 0,
      'p99 ms': latencies[Math.min(pages - 1, Math.floor(pages * 0.99))] ?? 0,
      'server CPU ms/page': (cpu * 1000) / pages,
      'RSS MB': (await rssMb(server.pid)) ?? 0,
    })
    options.log(`walked ${items} chats (3 passes) in ${pages} pages (${wall.toFixed(1)} s)`)

    // 2. Random full pages, id-only pages and projections under load.
    const full = cursors.filter((_, i) => i < cursors.length - 1)
    const withFields = (fields: string | null) => (u: string) => {
      const url = new URL(u)
      if (fields === null) url.searchParams.delete('fields')
      else url.searchParams.set('fields', fields)
      return url.toString()
    }
    const scenarios: Array<[string, (u: string) => string]> = [
      ['random pages, chats(*)', (u) => u],
      ['random pages, ids only', withFields(null)],
      [
        'random pages, chats(id,rating,response_time.max)',
        withFields('chats(id,rating,response_time.max)'),
      ],
    ]
    for (const [name, transform] of scenarios) {
      for (const connections of [1, 8]) {
        if (name !== 'random pages, chats(*)' && connections === 8) continue
        const paths = full.map((u) => transform(u).slice(server.url.length))
        const c0 = (await cpuSeconds(server.pid)) ?? 0
        const result = await autocannon({
          url: server.url,
          connections,
          duration: options.durationSeconds,
          headers: auth,
          requests: [
            {
              setupRequest: (req) => ({
                ...req,
                path: paths[Math.floor(Math.random() * paths.length)] ?? '/',
              }),
            },
          ],
        })
        const c1 = (await cpuSeconds(server.pid)) ?? 0
        const total = result.requests.total
        rows.push({
          backend,
          scenario: name,
          conc: connections,
          'pages/s': result.requests.average,
          'chats/s': Math.round(result.requests.average * 1000),
          'MB/s': result.throughput.average / 1e6,
          'p50 ms': result.latency.p50,
          'p99 ms': result.latency.p99,
          'server CPU ms/page': total > 0 ? ((c1 - c0) * 1000) / total : 0,
          'RSS MB': (await rssMb(server.pid)) ?? 0,
        })
        options.log(`${name} c=${connections}: ${result.requests.average.toFixed(1)} pages/s`)
        if (result.non2xx > 0) options.log(`  warning: ${result.non2xx} non-2xx responses`)
      }
    }
  } finally {
    await server.stop()
  }

  // 3. Page building in-process: splice stored bytes versus parse + stringify of every row.
  const sample = await options.store.readPage({
    accountId: options.accountId,
    stream: 'chats',
    afterPosition: 0,
    afterSortId: null,
    limit: 1000,
  })
  const rounds = 30
  let t = performance.now()
  for (let i = 0; i < rounds; i++) {
    const parts: Buffer[] = [Buffer.from('{"chats":[')]
    sample.forEach((r, j) => {
      if (j > 0) parts.push(Buffer.from(','))
      parts.push(r.body)
    })
    parts.push(Buffer.from(']}'))
    Buffer.concat(parts)
  }
  const splice = (performance.now() - t) / rounds
  t = performance.now()
  for (let i = 0; i < rounds; i++) {
    const objects = sample.map((r) => JSON.parse(r.body.toString('utf8')) as unknown)
    Buffer.from(JSON.stringify({ chats: objects }))
  }
  const parsed = (performance.now() - t) / rounds
  rows.push({
    backend,
    scenario: 'build one 1000-chat page in-process: splice vs parse+stringify (ms)',
    conc: '-',
    'pages/s': 1000 / splice,
    'chats/s': Math.round((1000 / splice) * 1000),
    'MB/s': 0,
    'p50 ms': splice,
    'p99 ms': parsed,
    'server CPU ms/page': splice,
    'RSS MB': 0,
  })
  options.log(
    `page build: splice ${splice.toFixed(2)} ms, parse+stringify ${parsed.toFixed(2)} ms (${(parsed / splice).toFixed(1)}x)`,
  )
  return rows
}
