/**
 * The fuzz proof: fast-check generates requests to every route (export parameters and headers,
 * live-event bodies and import bodies with extreme values in every field, invalid UTF-8, deep
 * nesting, raw request lines) against a real server child. Properties: never a 5xx, never a stack
 * trace or SQL text in a body, every error in the `{"error", "description"}` shape, and `/healthz`
 * (polled concurrently) answering within 100 ms throughout.
 * @module
 */
import { readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import fc from 'fast-check'
import {
  ChatScript,
  createProofAccounts,
  percentile,
  postEvents,
  proofStore,
  sleep,
  spawnProofServer,
} from './proof-support.js'

export interface FuzzOptions {
  cases: number
  seed: number
  log: (line: string) => void
}

/** A request that broke a property, with what it broke (reproducible from these fields). */
export interface FuzzViolation {
  kind: '5xx' | 'leak' | 'error shape'
  method: string
  path: string
  status: number
  body: string
  answer: string
}

export interface FuzzReport {
  cases: number
  byRoute: Record<string, number>
  status2xx: number
  status4xx: number
  status5xx: number
  /** Answers of 5xx: each one a failure. */
  unknown5xx: number
  leaks: number
  badErrorShape: number
  clientRefused: number
  slowestRequestMs: number
  healthzSamples: number
  healthzP50Ms: number
  healthzP99Ms: number
  healthzMaxMs: number
  healthzOver100Ms: number
  /** The longest the fuzzer's own event loop was blocked while /healthz was timed. */
  fuzzerLoopMaxMs: number
  /** For the slowest /healthz answers: what else was in flight at the time. */
  stalls: Array<{ ms: number; inFlight: string[] }>
  violations: FuzzViolation[]
}

interface FuzzRequest {
  route: string
  method: string
  path: string
  headers: Record<string, string>
  body?: string | Uint8Array
  /** Raw bytes on a socket instead of fetch (request-line and header fuzzing). */
  raw?: string
}

const EXAMPLES = new URL('../../test/fixtures/examples/', import.meta.url)
const STREAMS = ['chats', 'conversions', 'department_events', 'agent_timeline', 'agent_events']
const LEAK =
  /\bat .+\.(ts|js):\d+|node_modules|\bSELECT\b|\bINSERT INTO\b|\bUPDATE .+ SET\b|SQLITE_|syntax error at|relation "|RangeError|TypeError|ZodError/

function examples(stream: string): Record<string, unknown>[] {
  try {
    return readFileSync(new URL(`${stream}.jsonl`, EXAMPLES), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
  } catch {
    return [{ id: 'x', timestamp: '2026-01-01T00:00:00Z' }]
  }
}

const deep = (n: number): unknown => {
  let v: unknown = 1
  for (let i = 0; i < n; i++) v = { a: v }
  return v
}

/** Values that break naive code: huge, tiny, negative, not-a-number text, long, odd Unicode. */
const extreme: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    1e308,
    -1e308,
    2 ** 53 + 1,
    -(2 ** 53) - 1,
    9e12,
    9e15,
    -1,
    0,
    0.5,
    'NaN',
    'Infinity',
    '-0',
    '',
    ' ',
    null,
    true,
    [],
    {},
    '\u0000',
    '\ud800',
    '\uffff',
    '𝕏',
    'x'.repeat(10_000),
    '2026-13-45T99:99:99Z',
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59.999999Z',
    '+275760-09-13T00:00:00.000Z',
    '1970-01-01T00:00:00Z',
    "' OR 1=1--",
    '__proto__',
  ),
  fc.constant(deep(200)),
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 40 }),
)

/** Replaces 1–3 top-level fields (or the whole item) of a template with extreme values. */
function mutate(template: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(template)
  return fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .array(fc.tuple(fc.constantFrom(...keys, 'extra'), extreme), { minLength: 1, maxLength: 3 })
        .map((changes) => {
          const copy: Record<string, unknown> = { ...template }
          for (const [k, v] of changes) copy[k] = v
          return copy
        }),
    },
    { weight: 1, arbitrary: extreme },
  )
}

const queryValue = fc.oneof(
  extreme.map((v) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))),
  fc.constantFrom(
    '%C0%80',
    '%FF%FE',
    '%00',
    '1608615725.123456',
    '1525010407403712',
    'chats(*)',
    'chats(',
    'chats(' + 'a('.repeat(5000),
  ),
  fc.string({ maxLength: 30 }),
)

/** Everything a request can be, per route. */
function requests(tokens: { owner: string; other: string }): fc.Arbitrary<FuzzRequest> {
  const auth = fc.oneof(
    { weight: 6, arbitrary: fc.constant(`Bearer ${tokens.owner}`) },
    fc.constantFrom(
      `Bearer ${tokens.other}`,
      'Bearer ',
      'Basic dXNlcjpwYXNz',
      `Bearer ${'a'.repeat(5000)}`,
      '',
      'Bearer \u00ff',
    ),
  )
  const exportReq = fc
    .record({
      prefix: fc.constantFrom('/api/v2/chat/incremental', '/api/v2/incremental'),
      stream: fc.oneof(
        { weight: 9, arbitrary: fc.constantFrom(...STREAMS) },
        fc.string({ maxLength: 10 }),
      ),
      params: fc.dictionary(
        fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom('start_time', 'start_id', 'limit', 'fields') },
          fc.string({ maxLength: 8 }),
        ),
        queryValue,
        { maxKeys: 4 },
      ),
      auth,
      method: fc.oneof(
        { weight: 9, arbitrary: fc.constant('GET') },
        fc.constantFrom('HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'),
      ),
      accept: fc.constantFrom('application/json', '*/*', 'text/html', ''),
    })
    .map(({ prefix, stream, params, auth, method, accept }) => {
      const search = Object.entries(params).map(
        ([k, v]) => `${pct(k)}=${/^%[0-9A-F]{2}/.test(v) ? v : pct(v)}`,
      )
      return {
        route: 'export',
        method,
        path: `${prefix}/${pct(stream)}${search.length ? `?${search.join('&')}` : ''}`,
        headers: { authorization: auth, ...(accept ? { accept } : {}) },
      }
    })

  const eventTemplates: Record<string, unknown>[] = [
    {
      id: 'f-1',
      type: 'agent.upserted',
      timestamp: '2026-01-01T00:00:00Z',
      agent_id: 383486450414,
      display_name: 'A',
      full_name: 'A B',
    },
    {
      id: 'f-2',
      type: 'agent.status_changed',
      timestamp: '2026-01-01T00:00:01Z',
      agent_id: 383486450414,
      status: 'online',
    },
    {
      id: 'f-3',
      type: 'department.upserted',
      timestamp: '2026-01-01T00:00:00Z',
      department_id: 123,
      name: 'S',
    },
    {
      id: 'f-4',
      type: 'goal.upserted',
      timestamp: '2026-01-01T00:00:00Z',
      goal_id: 1863,
      name: 'g',
      attribution_model: 'last_touch',
      attribution_period_days: 30,
    },
    ...(new ChatScript('2611.9339545.FUZZ00000001', 'f-c').start() as Record<string, unknown>[]),
    {
      id: 'f-5',
      type: 'chat.tags_changed',
      timestamp: '2026-01-01T00:00:05Z',
      chat_id: '2611.9339545.FUZZ00000001',
      tags: ['a'],
    },
    {
      id: 'f-6',
      type: 'chat.rated',
      timestamp: '2026-01-01T00:00:06Z',
      chat_id: '2611.9339545.FUZZ00000001',
      rating: 'good',
    },
    {
      id: 'f-7',
      type: 'chat.ended',
      timestamp: '2026-01-01T00:00:07Z',
      chat_id: '2611.9339545.FUZZ00000001',
    },
    {
      id: 'f-8',
      type: 'offline_message',
      timestamp: '2026-01-01T00:00:00Z',
      chat_id: '2611.9339545.FUZZ00000002',
      visitor: { id: 'v', name: 'n', email: '', phone: '', notes: '' },
      session: { id: 's', start_date: '2026-01-01T00:00:00Z' },
      department_id: null,
      message: 'hi',
    },
    {
      id: 'f-9',
      type: 'conversion',
      timestamp: '2026-01-01T00:00:00Z',
      conversion_id: 'c.1',
      goal_id: 1863,
      visitor_id: 'v',
    },
    {
      id: 'f-10',
      type: 'department.queue_sizes',
      timestamp: '2026-01-01T00:00:00Z',
      department_id: 123,
      incoming: 2,
      assigned: 1,
    },
  ]
  const rawBodies = fc.constantFrom<string | Uint8Array>(
    '',
    '[',
    '[]',
    'null',
    '{}',
    'true\n'.repeat(200),
    '['.repeat(20_000),
    '{"a":'.repeat(5000),
    new Uint8Array([0x5b, 0x22, 0xc0, 0x80, 0xff, 0xfe, 0x22, 0x5d]),
    new Uint8Array([0xef, 0xbb, 0xbf, 0x5b, 0x5d]),
  )
  const eventsReq = fc
    .record({
      body: fc.oneof(
        {
          weight: 8,
          arbitrary: fc
            .array(fc.oneof(...eventTemplates.map(mutate)), { minLength: 1, maxLength: 4 })
            .map((a) => JSON.stringify(a)),
        },
        { weight: 2, arbitrary: rawBodies },
      ),
      auth,
      contentType: fc.constantFrom('application/json', 'application/x-ndjson', 'text/plain', ''),
    })
    .map(({ body, auth, contentType }) => ({
      route: 'events',
      method: 'POST',
      path: '/api/chat-export/v1/events',
      headers: { authorization: auth, ...(contentType ? { 'content-type': contentType } : {}) },
      body,
    }))

  const importReq = fc
    .record({
      stream: fc.oneof(
        { weight: 9, arbitrary: fc.constantFrom(...STREAMS) },
        fc.string({ maxLength: 10 }),
      ),
      preserve: fc.constantFrom(undefined, 'true', 'false', '1', 'yes'),
      auth,
    })
    .chain(({ stream, preserve, auth }) => {
      const templates = examples(
        STREAMS.includes(stream) && stream !== 'agent_events' ? stream : 'chats',
      )
      return fc
        .oneof(
          {
            weight: 8,
            arbitrary: fc
              .array(fc.oneof(...templates.map(mutate)), { minLength: 1, maxLength: 5 })
              .map((items) => items.map((i) => JSON.stringify(i)).join('\n')),
          },
          { weight: 2, arbitrary: rawBodies },
        )
        .map((body) => ({
          route: `import ${STREAMS.includes(stream) ? stream : 'unknown'}`,
          method: 'POST',
          path: `/api/chat-export/v1/import/${pct(stream)}${preserve === undefined ? '' : `?preserve_timestamps=${preserve}`}`,
          headers: { authorization: auth, 'content-type': 'application/x-ndjson' },
          body,
        }))
    })

  const rawReq = fc
    .oneof(
      fc.string({ maxLength: 60 }).map((s) => `GET /${s} HTTP/1.1\r\nHost: x\r\n\r\n`),
      fc
        .uint8Array({ minLength: 1, maxLength: 80 })
        .map((b) => `${Buffer.from(b).toString('latin1')}\r\n\r\n`),
      fc
        .string({ maxLength: 40 })
        .map((s) => `GET /healthz HTTP/1.1\r\nHost: x\r\nX-F: ${s}\u0001\r\n\r\n`),
      fc
        .integer({ min: 8_000, max: 40_000 })
        .map((n) => `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(n)}\r\n\r\n`),
    )
    .map((raw) => ({
      route: 'raw',
      method: 'RAW',
      path: JSON.stringify(raw.slice(0, 80)),
      headers: {},
      raw,
    }))

  const other = fc
    .record({
      path: fc.string({ maxLength: 30 }),
      method: fc.constantFrom('GET', 'POST', 'OPTIONS', 'DELETE'),
    })
    .map(({ path, method }) => ({
      route: 'other',
      method,
      path: `/${pct(path)}`,
      headers: {},
    }))

  // The reproduction of issue 13 finding 2 (a 500 until fixed), always in the mix: a regression
  // test.
  const finding2 = fc.constantFrom(9e12, 1e308, 2 ** 53 + 1).map((duration) => ({
    route: 'import agent_timeline',
    method: 'POST',
    path: '/api/chat-export/v1/import/agent_timeline?preserve_timestamps=true',
    headers: { authorization: `Bearer ${tokens.owner}`, 'content-type': 'application/x-ndjson' },
    body: JSON.stringify({ ...examples('agent_timeline')[0], duration }),
  }))

  return fc.oneof(
    { weight: 25, arbitrary: exportReq },
    { weight: 1, arbitrary: finding2 },
    { weight: 15, arbitrary: eventsReq },
    { weight: 15, arbitrary: importReq },
    { weight: 5, arbitrary: rawReq },
    { weight: 5, arbitrary: other },
  )
}

/** Runs `cases` generated requests against a fresh server over SQLite. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const store = await proofStore('sqlite', options.log)
  const [mine, other] = await createProofAccounts(store.url, 2)
  if (!mine || !other) throw new Error('accounts were not created')
  const server = await spawnProofServer(store.url)
  const report: FuzzReport = {
    cases: 0,
    byRoute: {},
    status2xx: 0,
    status4xx: 0,
    status5xx: 0,
    unknown5xx: 0,
    leaks: 0,
    badErrorShape: 0,
    clientRefused: 0,
    slowestRequestMs: 0,
    healthzSamples: 0,
    healthzP50Ms: 0,
    healthzP99Ms: 0,
    healthzMaxMs: 0,
    healthzOver100Ms: 0,
    fuzzerLoopMaxMs: 0,
    stalls: [],
    violations: [],
  }
  const inFlight = new Set<FuzzRequest>()
  // The fuzzer's own event-loop delay: a probe's time includes it, so the report shows it.
  const ownLag = monitorEventLoopDelay({ resolution: 10 })
  const healthz: number[] = []
  let polling = true
  let poller: Promise<void> = Promise.resolve()
  try {
    // Every case is generated before /healthz is timed: generating 10 000 cases takes this
    // process seconds, and a probe waiting on this process's own busy loop would be counted as
    // the server's stall (it was, in the first full runs).
    const cases = fc.sample(requests({ owner: mine.token, other: other.token }), {
      numRuns: options.cases,
      seed: options.seed,
    })
    // Warm up (lazy imports, JIT) before /healthz is measured, and leave some data to page over.
    await (await fetch(`${server.url}/healthz`)).arrayBuffer()
    ownLag.enable()
    poller = (async () => {
      while (polling) {
        const started = performance.now()
        await freshProbe(`${server.url}/healthz`)
        const ms = performance.now() - started
        healthz.push(ms)
        if (ms > 100) {
          report.stalls.push({ ms: Math.round(ms), inFlight: [...inFlight].map(describe) })
          report.stalls.sort((a, b) => b.ms - a.ms).splice(5)
        }
        await sleep(25)
      }
    })()

    const chat = new ChatScript('2611.9339545.SEED00000001', 'seed')
    await postEvents(server.url, mine.token, chat.start())
    let next = 0
    const worker = async () => {
      while (next < cases.length) {
        const request = cases[next++] as FuzzRequest
        inFlight.add(request)
        await runOne(server.url, request, report)
        inFlight.delete(request)
        if (report.cases % 500 === 0) {
          options.log(
            `  ${report.cases}/${options.cases} cases, ${report.status5xx} 5xx, ${report.leaks} leaks`,
          )
        }
      }
    }
    await Promise.all([worker(), worker()])
  } finally {
    polling = false
    await poller
    await server.kill('SIGTERM')
    await store.stop()
  }
  ownLag.disable()
  report.fuzzerLoopMaxMs = Math.round(ownLag.max / 1e6)
  report.healthzSamples = healthz.length
  report.healthzP50Ms = Math.round(percentile(healthz, 50))
  report.healthzP99Ms = Math.round(percentile(healthz, 99))
  report.healthzMaxMs = Math.round(percentile(healthz, 100))
  report.healthzOver100Ms = healthz.filter((ms) => ms > 100).length
  return report
}

async function runOne(base: string, request: FuzzRequest, report: FuzzReport): Promise<void> {
  report.cases += 1
  report.byRoute[request.route] = (report.byRoute[request.route] ?? 0) + 1
  const started = performance.now()
  let status: number
  let text: string
  let contentType = ''
  if (request.raw !== undefined) {
    const answer = await rawExchange(base, request.raw)
    const split = answer.indexOf('\r\n\r\n')
    status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)
    contentType = /content-type: ([^\r\n]+)/i.exec(answer.slice(0, split))?.[1] ?? ''
    text = split >= 0 ? answer.slice(split + 4) : answer
    if (status === 0) {
      // The server closed without answering: allowed only for input that is not HTTP at all.
      report.clientRefused += 1
      return
    }
  } else {
    try {
      const res = await fetch(`${base}${request.path}`, {
        method: request.method,
        headers: request.headers,
        ...(request.body === undefined ? {} : { body: request.body as BodyInit }),
      })
      status = res.status
      contentType = res.headers.get('content-type') ?? ''
      text = await res.text()
    } catch {
      // fetch refused to send it (a header value it considers invalid): nothing reached the server.
      report.clientRefused += 1
      return
    }
  }
  report.slowestRequestMs = Math.max(
    report.slowestRequestMs,
    Math.round(performance.now() - started),
  )
  if (status < 300) report.status2xx += 1
  else if (status < 500) report.status4xx += 1
  else report.status5xx += 1
  const violation = (kind: FuzzViolation['kind']) => {
    if (report.violations.filter((v) => v.kind === kind).length < 5) {
      const body =
        request.body === undefined
          ? ''
          : typeof request.body === 'string'
            ? request.body.slice(0, 300)
            : `bytes ${Buffer.from(request.body).toString('hex')}`
      report.violations.push({
        kind,
        method: request.method,
        path: request.path.slice(0, 300),
        status,
        body,
        answer: text.slice(0, 300),
      })
    }
  }
  if (status >= 500) {
    report.unknown5xx += 1
    violation('5xx')
  }
  if (LEAK.test(text)) {
    report.leaks += 1
    violation('leak')
  }
  if (status >= 400 && request.method !== 'HEAD' && !errorShaped(text, contentType)) {
    report.badErrorShape += 1
    violation('error shape')
  }
}

/** A request in one line, for the report. */
function describe(r: FuzzRequest): string {
  const body =
    r.body === undefined
      ? ''
      : typeof r.body === 'string'
        ? ` body ${JSON.stringify(r.body.slice(0, 120))} (${r.body.length} chars)`
        : ` body bytes ${Buffer.from(r.body).toString('hex')}`
  return `${r.method} ${r.path.slice(0, 160)}${body}`
}

/** Percent-encodes the UTF-8 bytes (lone surrogates become U+FFFD instead of throwing). */
function pct(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('')
}

function errorShaped(text: string, contentType: string): boolean {
  if (!/application\/json/.test(contentType)) return false
  try {
    const body = JSON.parse(text) as Record<string, unknown>
    return (
      typeof body.error === 'string' &&
      typeof body.description === 'string' &&
      Object.keys(body).every((k) => k === 'error' || k === 'description' || k === 'details')
    )
  } catch {
    return false
  }
}

/**
 * One /healthz probe on a new connection, as a load balancer's health check makes it, so that
 * its time never includes a wait for a keep-alive connection the fuzz requests share.
 */
function freshProbe(url: string): Promise<void> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { agent: false, timeout: 5000 }, (res) => {
      res.resume()
      res.on('end', () => resolve())
      res.on('error', () => resolve())
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve())
    req.end()
  })
}

function rawExchange(base: string, raw: string): Promise<string> {
  const { hostname, port } = new URL(base)
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname)
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', () => {})
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')))
    socket.setTimeout(3000, () => socket.destroy())
    socket.end(Buffer.from(raw, 'latin1'))
  })
}
