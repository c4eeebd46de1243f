/**
 * The side-by-side run (SQLite): our server against its peers over the same database file, in one
 * run, A/B alternated (each round runs the servers in the opposite order), servers pinned to CPU
 * 0 and the load to the other core when taskset is there, except our server with read workers
 * (its default), which may use every CPU; our server reading pages in its main thread
 * (`--read-workers 0`) runs pinned beside it for the comparison. Peers (src/bench/peers/, never
 * shipped): the floor server (node:http + better-sqlite3 splicing the same bytes), a naive OFFSET +
 * parse/stringify server, and a static buffer (the HTTP ceiling); Zendesk's ceiling is computed
 * (200 requests/minute × 1000 chats). Also projections, compression, depth and ingest.
 * @module
 */
import autocannon from 'autocannon'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import type { Clock } from '../domain/clock.js'
import { applyEvents } from '../ingest/ingest-events.js'
import type { Store } from '../store/store.js'
import type { ChildServer } from './bench-server.js'
import { cpus } from 'node:os'
import { cpuSeconds, describeCpus, spawnListening, spawnServer } from './bench-server.js'
import type { Row } from './export-bench.js'
import { benchEvents } from './ingest-bench.js'
import { markdownTable } from './table.js'

export interface SideBySideOptions {
  dbPath: string
  token: string
  accountId: number
  store: Store
  clock: Clock
  chats: number
  durationSeconds: number
  /** Where the latency chart (PNG) goes; skipped when undefined or no browser is found. */
  chartPath?: string | undefined
  dir: string
  log: (line: string) => void
  /** Which comparisons to run (default all): full, projections, compression, depth, ingest. */
  sections?: ReadonlySet<string> | undefined
}

/** The comparisons of the side-by-side run, in the order they run. */
export const SIDE_SECTIONS = ['full', 'projections', 'compression', 'depth', 'ingest'] as const

const peer = (name: string) => fileURLToPath(new URL(`./peers/${name}.js`, import.meta.url))
const ROUNDS = 2
const PROJECTION = 'chats(id,rating,response_time.max)'
/** Zendesk Chat's documented limit: 200 requests a minute, 1000 chats a page. */
const ZENDESK_PAGES_PER_SECOND = 200 / 60

interface Load {
  /** Non-2xx answers by status ("503": 1), in the request counts: a run reports them, not dies. */
  failures: Record<string, number>
  pagesPerSecond: number
  p50: number
  p99: number
  cpuMsPerPage: number
  bytesPerPage: number
}

async function load(
  server: ChildServer,
  paths: string[],
  connections: number,
  seconds: number,
  headers: Record<string, string>,
): Promise<Load> {
  const c0 = (await cpuSeconds(server.pid)) ?? 0
  const result = await autocannon({
    url: server.url,
    connections,
    duration: seconds,
    headers,
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
  const failures: Record<string, number> = {}
  for (const [status, stats] of Object.entries(result.statusCodeStats ?? {})) {
    const count = stats.count ?? 0
    if (!status.startsWith('2') && count > 0) failures[status] = count
  }
  const errors = result.errors + result.timeouts
  if (errors > 0) failures['no response'] = errors
  return {
    failures,
    pagesPerSecond: total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuMsPerPage: total > 0 ? ((c1 - c0) * 1000) / total : 0,
    bytesPerPage: total > 0 ? result.throughput.total / total : 0,
  }
}

interface Contender {
  name: string
  server: ChildServer
  paths: string[]
  headers?: Record<string, string>
}

/** A contender's loads, averaged over the rounds. */
type MeanLoad = Omit<Load, 'failures'> & { rounds: number[] }

/**
 * Runs each contender ROUNDS times, alternating the order; returns the mean of each. Loads with
 * non-2xx answers are described in `failures` (printed under the run's tables).
 */
async function alternate(
  contenders: Contender[],
  connections: number,
  seconds: number,
  log: (line: string) => void,
  failures: string[],
): Promise<Map<string, MeanLoad>> {
  const runs = new Map<string, Load[]>()
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? contenders : [...contenders].reverse()
    for (const c of order) {
      const result = await load(c.server, c.paths, connections, seconds, c.headers ?? {})
      log(`  ${c.name} c=${connections} round ${round + 1}: ${result.pagesPerSecond.toFixed(1)}/s`)
      const failed = Object.entries(result.failures)
      if (failed.length > 0) {
        const what = failed.map(([status, n]) => `${n} × ${status}`).join(', ')
        const line = `${c.name}, ${connections} client(s), round ${round + 1}: ${what}`
        log(`  warning: ${line}`)
        failures.push(line)
      }
      runs.set(c.name, [...(runs.get(c.name) ?? []), result])
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length
  const out = new Map<string, MeanLoad>()
  for (const [name, rs] of runs) {
    out.set(name, {
      pagesPerSecond: mean(rs.map((r) => r.pagesPerSecond)),
      p50: mean(rs.map((r) => r.p50)),
      p99: mean(rs.map((r) => r.p99)),
      cpuMsPerPage: mean(rs.map((r) => r.cpuMsPerPage)),
      bytesPerPage: mean(rs.map((r) => r.bytesPerPage)),
      rounds: rs.map((r) => r.pagesPerSecond),
    })
  }
  return out
}

/** Median latency in ms of `n` sequential GETs of one URL. */
async function latency(url: string, headers: Record<string, string>, n = 3): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < n; i++) {
    const s = performance.now()
    const res = await fetch(url, { headers: { ...headers, 'accept-encoding': 'identity' } })
    await res.arrayBuffer()
    times.push(performance.now() - s)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(n / 2)] ?? 0
}

/** Runs the whole comparison and returns its Markdown. */
export async function runSideBySide(options: SideBySideOptions): Promise<string> {
  const { log } = options
  const auth = { authorization: `Bearer ${options.token}` }
  const identity = { ...auth, 'accept-encoding': 'identity' }
  const store = `sqlite:${options.dbPath}`
  // serve's default (one per CPU). Not availableParallelism(): this process is pinned to the load's CPUs.
  const readWorkers = cpus().length
  const ours = await spawnServer(store, [], { readWorkers })
  const inThread = await spawnServer(store, [], { readWorkers: 0 })
  const floor = await spawnListening(peer('floor-server'), [
    options.dbPath,
    String(options.accountId),
  ])
  const offset = await spawnListening(peer('offset-server'), [
    options.dbPath,
    String(options.accountId),
  ])
  const servers: ChildServer[] = [ours, inThread, floor, offset]
  const sections: string[] = []
  const failures: string[] = []
  try {
    // The cursors of every full page, by walking our server once.
    const cursors: string[] = []
    let url = `${ours.url}/api/v2/chat/incremental/chats?fields=chats(*)&limit=1000`
    for (;;) {
      const res = await fetch(url, { headers: identity })
      const body = Buffer.from(await res.arrayBuffer())
      const tail = body.subarray(Math.max(0, body.length - 2048)).toString('utf8')
      const count = Number(/"count":(\d+)/.exec(tail)?.[1] ?? NaN)
      const next = /"next_page":"([^"]+)"/.exec(tail)?.[1]
      if (!Number.isInteger(count) || next === undefined) throw new Error('unexpected page')
      if (count < 1000) break
      cursors.push(url.slice(ours.url.length))
      if (cursors.length === 1) writeFileSync(join(options.dir, 'page.json'), body)
      url = next
    }
    const pages = cursors.length
    log(`side by side: ${pages} full pages`)
    const staticServer = await spawnListening(peer('static-server'), [
      join(options.dir, 'page.json'),
    ])
    servers.push(staticServer)
    const withFields = (fields: string | null) =>
      cursors.map((p) => {
        const u = new URL(p, ours.url)
        if (fields === null) u.searchParams.delete('fields')
        else u.searchParams.set('fields', fields)
        return u.pathname + u.search
      })
    const offsetPaths = cursors.map((_, i) => `/chats?page=${i}`)
    const sec = options.durationSeconds
    const measure = (contenders: Contender[], connections: number) =>
      alternate(contenders, connections, sec, log, failures)
    const want = (name: (typeof SIDE_SECTIONS)[number]) => options.sections?.has(name) ?? true

    if (want('full')) {
      // 1. Full pages.
      const full1 = await measure(
        [
          { name: 'ours', server: ours, paths: cursors, headers: auth },
          { name: 'ours in-thread', server: inThread, paths: cursors, headers: auth },
          { name: 'floor', server: floor, paths: cursors },
          { name: 'offset', server: offset, paths: offsetPaths },
          { name: 'static', server: staticServer, paths: ['/'] },
        ],
        1,
      )
      const full8 = await measure(
        [
          { name: 'ours', server: ours, paths: cursors, headers: auth },
          { name: 'ours in-thread', server: inThread, paths: cursors, headers: auth },
          { name: 'floor', server: floor, paths: cursors },
        ],
        8,
      )
      const oursFull = full1.get('ours')?.pagesPerSecond ?? 0
      const fullRows: Row[] = []
      const label: Record<string, string> = {
        ours: `chat-export serve (keyset, spliced bytes, auth, metrics), ${readWorkers} read workers`,
        'ours in-thread': 'chat-export serve, --read-workers 0 (pages read in the main thread)',
        floor: 'floor: 40-line node:http + better-sqlite3, same splice',
        offset: 'naive: OFFSET + JSON.parse/stringify per row',
        static: 'static pre-built page (HTTP ceiling)',
      }
      for (const [conc, results] of [
        [1, full1],
        [8, full8],
      ] as const) {
        for (const [name, r] of results) {
          fullRows.push({
            server: label[name] ?? name,
            'may use': describeCpus(name === 'ours' ? 'all' : 'server'),
            conc,
            'pages/s (rounds)': `${r.pagesPerSecond.toFixed(1)} (${r.rounds.map((x) => x.toFixed(1)).join(', ')})`,
            'chats/s': Math.round(r.pagesPerSecond * 1000),
            'p50 ms': r.p50,
            'p99 ms': r.p99,
            'server CPU ms/page': r.cpuMsPerPage,
            'ours ÷ this':
              r.pagesPerSecond > 0
                ? (conc === 1 ? oursFull : (full8.get('ours')?.pagesPerSecond ?? 0)) /
                  r.pagesPerSecond
                : 0,
          })
        }
      }
      fullRows.push({
        server: "Zendesk's ceiling: 200 requests/minute × 1000 chats",
        'may use': '-',
        conc: '-',
        'pages/s (rounds)': ZENDESK_PAGES_PER_SECOND.toFixed(1),
        'chats/s': Math.round(ZENDESK_PAGES_PER_SECOND * 1000),
        'p50 ms': '-',
        'p99 ms': '-',
        'server CPU ms/page': '-',
        'ours ÷ this': oursFull / ZENDESK_PAGES_PER_SECOND,
      })
      sections.push(
        `### Full pages (\`fields=chats(*)\`, limit 1000, random pages of ${pages})\n\n` +
          markdownTable(
            [
              'server',
              'may use',
              'conc',
              'pages/s (rounds)',
              'chats/s',
              'p50 ms',
              'p99 ms',
              'server CPU ms/page',
              'ours ÷ this',
            ],
            fullRows,
          ) +
          '\n\n' +
          (['ours', 'ours in-thread'] as const)
            .map((name) => {
              const one = full1.get(name)?.pagesPerSecond ?? 0
              const eight = full8.get(name)?.pagesPerSecond ?? 0
              return `${label[name] ?? name}: 8 clients ÷ 1 client = ${(one > 0 ? eight / one : 0).toFixed(2)}×.`
            })
            .join(' '),
      )
    }

    if (want('projections')) {
      // 2. Projections.
      const proj = await measure(
        [
          { name: 'ours chats(*)', server: ours, paths: cursors, headers: auth },
          {
            name: `ours ${PROJECTION}`,
            server: ours,
            paths: withFields(PROJECTION),
            headers: auth,
          },
          { name: 'ours ids only', server: ours, paths: withFields(null), headers: auth },
          { name: 'floor chats(*)', server: floor, paths: cursors },
          {
            name: `floor ${PROJECTION} (json_object in SQL)`,
            server: floor,
            paths: withFields(PROJECTION),
          },
        ],
        1,
      )
      const base = (name: string) =>
        proj.get(name.startsWith('ours') ? 'ours chats(*)' : 'floor chats(*)')
      sections.push(
        `### Projections (one client)\n\n` +
          markdownTable(
            ['scenario', 'pages/s', 'server CPU ms/page', 'p50 ms', '× its own full page'],
            [...proj].map(([name, r]) => ({
              scenario: name,
              'pages/s': r.pagesPerSecond,
              'server CPU ms/page': r.cpuMsPerPage,
              'p50 ms': r.p50,
              '× its own full page': r.pagesPerSecond / (base(name)?.pagesPerSecond ?? 1),
            })),
          ),
      )
    }

    if (want('compression')) {
      // 3. Compression.
      const comp = await measure(
        [
          { name: 'identity', server: ours, paths: cursors, headers: identity },
          {
            name: 'br (quality 1)',
            server: ours,
            paths: cursors,
            headers: { ...auth, 'accept-encoding': 'br' },
          },
          {
            name: 'gzip (level 1)',
            server: ours,
            paths: cursors,
            headers: { ...auth, 'accept-encoding': 'gzip' },
          },
        ],
        1,
      )
      const plain = comp.get('identity')
      sections.push(
        `### Compression (our server, full pages, one client over loopback)\n\n` +
          markdownTable(
            [
              'Accept-Encoding',
              'pages/s',
              'server CPU ms/page',
              'KB/page on the wire',
              'smaller by',
              'p50 ms',
            ],
            [...comp].map(([name, r]) => ({
              'Accept-Encoding': name,
              'pages/s': r.pagesPerSecond,
              'server CPU ms/page': r.cpuMsPerPage,
              'KB/page on the wire': r.bytesPerPage / 1000,
              'smaller by': (plain?.bytesPerPage ?? 0) / r.bytesPerPage,
              'p50 ms': r.p50,
            })),
          ),
      )
    }

    if (want('depth')) {
      // 4. Depth: latency against stream position, ours (keyset) and OFFSET, alternated per point.
      const points = Math.min(12, pages)
      const depth: Array<{ position: number; ours: number; offset: number }> = []
      for (let k = 0; k < points; k++) {
        const index = Math.round((k * (pages - 1)) / Math.max(1, points - 1))
        const a = await latency(`${ours.url}${cursors[index] ?? ''}`, auth)
        const b = await latency(`${offset.url}/chats?page=${index}`, {})
        depth.push({ position: index * 1000, ours: a, offset: b })
      }
      const first = depth[0]
      const last = depth.at(-1)
      sections.push(
        `### Depth (median of 3 sequential requests per point)\n\n` +
          markdownTable(
            [
              'server',
              `first page ms`,
              `last page (chat ${last?.position ?? 0}) ms`,
              'last ÷ first',
            ],
            [
              {
                server: 'ours (keyset)',
                'first page ms': first?.ours ?? 0,
                [`last page (chat ${last?.position ?? 0}) ms`]: last?.ours ?? 0,
                'last ÷ first': (last?.ours ?? 0) / (first?.ours ?? 1),
              },
              {
                server: 'naive (OFFSET)',
                'first page ms': first?.offset ?? 0,
                [`last page (chat ${last?.position ?? 0}) ms`]: last?.offset ?? 0,
                'last ÷ first': (last?.offset ?? 0) / (first?.offset ?? 1),
              },
            ],
          ),
      )
      if (options.chartPath) {
        const { renderLatencyChart } = await import('./latency-chart.js')
        const written = await renderLatencyChart(depth, options.chartPath)
        log(written ? `chart: ${options.chartPath}` : 'chart: skipped (no chromium)')
      }
    }

    if (want('ingest')) {
      // 5. Ingest, in-process and over HTTP, alternated (batches of 1000, fresh accounts).
      const events = benchEvents(20_000)
      const ingestRuns: Row[] = []
      for (let round = 0; round < ROUNDS; round++) {
        for (const how of round % 2 === 0 ? ['in-process', 'HTTP'] : ['HTTP', 'in-process']) {
          const account = await options.store.createAccount(
            `side-ingest-${how}-${round}-${Date.now()}`,
          )
          const { issueToken } = await import('../auth/tokens.js')
          const { token } = await issueToken(options.store, {
            accountId: account.id,
            role: 'owner',
            scopes: ['read', 'write'],
            now: options.clock.now(),
          })
          // CPU of whoever does the work: this process in-process, the server's over HTTP.
          const cpu = async () => {
            if (how === 'HTTP') return (await cpuSeconds(ours.pid)) ?? 0
            const usage = process.cpuUsage()
            return (usage.user + usage.system) / 1e6
          }
          const c0 = await cpu()
          const t0 = performance.now()
          for (let i = 0; i < events.length; i += 1000) {
            const batch = events.slice(i, i + 1000)
            if (how === 'in-process') {
              await applyEvents(options.store, account.id, batch)
            } else {
              const res = await fetch(`${ours.url}/api/chat-export/v1/events`, {
                method: 'POST',
                headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
                body: JSON.stringify(batch),
              })
              if (res.status !== 200)
                throw new Error(`ingest over HTTP: ${res.status} ${await res.text()}`)
              await res.arrayBuffer()
            }
          }
          const seconds = (performance.now() - t0) / 1000
          const cpuMs = ((await cpu()) - c0) * 1000
          ingestRuns.push({
            path: how,
            round: round + 1,
            events: events.length,
            'events/s': Math.round(events.length / seconds),
            'CPU ms/batch': cpuMs / Math.ceil(events.length / 1000),
          })
          log(`  ingest ${how} round ${round + 1}: ${Math.round(events.length / seconds)} events/s`)
        }
      }
      sections.push(
        `### Ingest (SQLite, durable, batches of 1000 events)\n\n` +
          markdownTable(['path', 'round', 'events', 'events/s', 'CPU ms/batch'], ingestRuns),
      )
    }
  } finally {
    for (const s of servers) await s.stop()
  }
  if (failures.length > 0) {
    sections.push(
      `Responses other than 2xx during the loads above (counted in their pages/s): ${failures.join('; ')}.`,
    )
  }
  return sections.join('\n\n') + '\n'
}
