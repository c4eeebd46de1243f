/**
 * The fuzz proof: fast-check generates requests to every route (export parameters and headers,
 * live-event bodies and import bodies with extreme values in every field, invalid UTF-8, deep
 * nesting, raw request lines) against a real server child. Properties: never a 5xx, never a stack
 * trace or SQL text in a body, every error in the `{"error", "description"}` shape, and `/healthz`
 * (polled concurrently) answering within 100 ms throughout.
 * @module
 */
import { readFileSync } from 'node:fs'
import { Agent, request as httpRequest, type ClientRequest } from 'node:http'
import { connect } from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import fc from 'fast-check'
import { issueToken } from '../auth/tokens.js'
import { systemClock } from '../domain/clock.js'
import { openStore } from '../store/open-store.js'
import { oauthAdminRoutes } from './fuzz-oauth-admin.js'
import { restRoutes, seedBodies } from './fuzz-rest.js'
import type { ErrorShape, FuzzContext, FuzzRequest } from './fuzz-values.js'
import { authHeader, mutate, pct, queryParams, queryString, rawBodies } from './fuzz-values.js'
import {
  ChatScript,
  createProofAccounts,
  percentile,
  postEvents,
  proofStore,
  seededRandom,
  sleep,
  spawnProofServer,
  type ServerStall,
  type ProofAccount,
} from './proof-support.js'

export interface FuzzOptions {
  /** Cases per route: every route family gets this many. */
  cases: number
  seed: number
  log: (line: string) => void
  /** Requests in flight at once (default 4). */
  concurrency?: number
  /** Cases per route generated at a time, so memory stays bounded (default 250). */
  chunk?: number
}

/** A request that broke a property, with what it broke (reproducible from these fields). */
export interface FuzzViolation {
  kind: '5xx' | 'leak' | 'error shape' | 'cross-account' | 'hang'
  route: string
  method: string
  path: string
  status: number
  body: string
  answer: string
}

/** What one route family answered. */
export interface RouteTally {
  cases: number
  status2xx: number
  status3xx: number
  status4xx: number
  status5xx: number
  /** Not sent (the client refused a header) or closed unanswered. */
  notAnswered: number
  totalMs: number
  maxMs: number
}

export interface FuzzReport {
  /** Cases in all. */
  cases: number
  casesPerRoute: number
  routes: Record<string, RouteTally>
  status2xx: number
  status4xx: number
  status5xx: number
  /** Answers of 5xx: each one a failure. */
  unknown5xx: number
  leaks: number
  badErrorShape: number
  /** 2xx reads of the first account that named an item of the other account. */
  crossAccount: number
  /** The control: 2xx reads by the other account that named its own items (must be > 0). */
  crossAccountControl: number
  /** Requests with no answer within {@link HANG_MS}. */
  hangs: number
  clientRefused: number
  /** The first requests not sent or not answered, with why. */
  unanswered: string[]
  slowestRequestMs: number
  healthzSamples: number
  healthzP50Ms: number
  healthzP99Ms: number
  healthzMaxMs: number
  healthzOver100Ms: number
  /** The longest the fuzzer's own event loop was blocked while /healthz was timed. */
  fuzzerLoopMaxMs: number
  /** Time spent generating cases (not timed by /healthz) and sending them. */
  generateMs: number
  runMs: number
  /** For the slowest /healthz answers: what else was in flight at the time. */
  stalls: Array<{ ms: number; inFlight: string[] }>
  /** The server's own reports of its event loop held 50 ms or more (`--stall-warn-ms 50`). */
  serverStalls: ServerStall[]
  violations: FuzzViolation[]
}

/** A request without an answer after this long is a hang. */
const HANG_MS = 30_000
/** In the names of the other account's records and chats; never in the first account's reads. */
const OTHER_MARKER = 'OtherAcctZq'

const EXAMPLES = new URL('../../test/fixtures/examples/', import.meta.url)
const STREAMS = ['chats', 'conversions', 'department_events', 'agent_timeline', 'agent_events']
/** A record of each directory resource in the wire shape (import lines, directory events). */
const DIRECTORY_RECORDS: Record<string, Record<string, unknown>> = {
  agents: {
    id: 900001,
    email: 'imp@example.com',
    first_name: 'I',
    last_name: 'M',
    display_name: 'IM',
    enabled: true,
    roles: { administrator: false, owner: false },
  },
  departments: { id: 900003, name: 'Imported', description: '', enabled: true, members: [] },
  goals: { id: 900004, name: 'G', attribution_model: 'last_touch', attribution_period: 30 },
  skills: { id: 900005, name: 'Imported skill', members: [] },
  roles: { id: 900006, name: 'Imported role', permissions: {} },
  shortcuts: { id: 'imp', name: 'imp', message: 'm', tags: [] },
  triggers: {
    id: 900007,
    name: 'Imported trigger',
    definition: { event: 'chat_requested', condition: ['and'], actions: [] },
  },
  bans: { id: 900008, type: 'ip_address', ip_address: '10.1.1.1', reason: '' },
}

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

/** The export, ingest, import, raw and other-path route families, by name. */
function baseRoutes(ctx: FuzzContext): Array<[string, fc.Arbitrary<FuzzRequest>]> {
  const auth = authHeader(ctx)
  const exportReq = fc
    .record({
      prefix: fc.constantFrom('/api/v2/chat/incremental', '/api/v2/incremental'),
      stream: fc.oneof(
        { weight: 9, arbitrary: fc.constantFrom(...STREAMS) },
        fc.string({ maxLength: 10 }),
      ),
      params: queryParams(['start_time', 'start_id', 'limit', 'fields']),
      auth,
      method: fc.oneof(
        { weight: 9, arbitrary: fc.constant('GET') },
        fc.constantFrom('HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'),
      ),
      accept: fc.constantFrom('application/json', '*/*', 'text/html', ''),
    })
    .map(({ prefix, stream, params, auth, method, accept }) => ({
      route: 'export',
      method,
      path: `${prefix}/${pct(stream)}${queryString(params)}`,
      headers: { authorization: auth, ...(accept ? { accept } : {}) },
    }))

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
    ...[
      { type: 'chat.member_left', member: 'agent', agent_id: 383486450414 },
      { type: 'chat.commented', comment: 'c' },
      { type: 'chat.transferred', department_id: 123, agent_id: 383486450414 },
      { type: 'engagement.assigned', agent_id: 383486450414 },
      { type: 'engagement.accepted', agent_id: 383486450414 },
      { type: 'engagement.ended', agent_id: 383486450414 },
      { type: 'chat.deleted', chat_id: '2611.9339545.FUZZ00000003' },
    ].map((e, i) => ({
      id: `f-e${i}`,
      timestamp: '2026-01-01T00:00:08Z',
      chat_id: '2611.9339545.FUZZ00000001',
      ...e,
    })),
    ...Object.entries(DIRECTORY_RECORDS).map(([resource, record], i) => {
      const kind = resource.replace(/s$/, '')
      return {
        id: `f-d${i}`,
        type: `${kind}.created`,
        timestamp: '2026-01-01T00:00:00Z',
        [kind]: record,
      }
    }),
    {
      id: 'f-d8',
      type: 'department.updated',
      timestamp: '2026-01-01T00:00:01Z',
      department: { id: 900003, name: 'D2' },
    },
    { id: 'f-d9', type: 'shortcut.deleted', timestamp: '2026-01-01T00:00:02Z', shortcut_id: 'imp' },
    { id: 'f-d10', type: 'ban.deleted', timestamp: '2026-01-01T00:00:02Z', ban_id: 900008 },
    {
      id: 'f-d11',
      type: 'account.updated',
      timestamp: '2026-01-01T00:00:02Z',
      account: { status: 'active' },
    },
    {
      id: 'f-d12',
      type: 'routing_settings.updated',
      timestamp: '2026-01-01T00:00:02Z',
      routing_settings: { routing_mode: 'assigned' },
    },
  ]
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

  // The reproduction of issue 13 finding 2 (a 500 until fixed), always in the mix: a regression
  // test.
  const finding2 = fc.constantFrom(9e12, 1e308, 2 ** 53 + 1).map((duration) => ({
    route: 'import agent_timeline',
    method: 'POST',
    path: '/api/chat-export/v1/import/agent_timeline?preserve_timestamps=true',
    headers: { authorization: `Bearer ${ctx.owner}`, 'content-type': 'application/x-ndjson' },
    body: JSON.stringify({ ...examples('agent_timeline')[0], duration }),
  }))

  /** Import of one resource (`stream` null: any other name) with lines from its templates. */
  const importReq = (
    route: string,
    resource: fc.Arbitrary<string>,
    templates: Record<string, unknown>[],
  ) =>
    fc
      .record({
        resource,
        preserve: fc.constantFrom(undefined, 'true', 'false', '1', 'yes'),
        auth,
        body: fc.oneof(
          {
            weight: 8,
            arbitrary: fc
              .array(fc.oneof(...templates.map(mutate)), { minLength: 1, maxLength: 5 })
              .map((items) => items.map((i) => JSON.stringify(i)).join('\n')),
          },
          { weight: 2, arbitrary: rawBodies },
        ),
      })
      .map(({ resource, preserve, auth, body }) => ({
        route,
        method: 'POST',
        path: `/api/chat-export/v1/import/${pct(resource)}${preserve === undefined ? '' : `?preserve_timestamps=${preserve}`}`,
        headers: { authorization: auth, 'content-type': 'application/x-ndjson' },
        body,
      }))
  const streamImports = STREAMS.map((stream): [string, fc.Arbitrary<FuzzRequest>] => {
    const arb = importReq(
      `import ${stream}`,
      fc.constant(stream),
      examples(stream === 'agent_events' ? 'chats' : stream),
    )
    // The reproduction of issue 13 finding 2 (a 500 until fixed), always in the mix.
    return [
      `import ${stream}`,
      stream === 'agent_timeline' ? fc.oneof({ weight: 19, arbitrary: arb }, finding2) : arb,
    ]
  })
  const directoryImport = importReq(
    'import directory',
    fc.oneof(
      { weight: 9, arbitrary: fc.constantFrom(...Object.keys(DIRECTORY_RECORDS)) },
      fc.string({ maxLength: 10 }),
    ),
    Object.values(DIRECTORY_RECORDS),
  )

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

  return [
    ['export', exportReq],
    ['events', eventsReq],
    ...streamImports,
    ['import directory', directoryImport],
    ['raw', rawReq],
    ['other', other],
  ]
}

/**
 * Runs `cases` generated requests for every route family against a fresh server over SQLite,
 * in a seeded shuffled order. Cases are generated in chunks (`chunk` per route at a time) while
 * /healthz is not timed: generating takes this process seconds, and a probe waiting on its busy
 * loop would be counted as the server's stall.
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const store = await proofStore('sqlite', options.log)
  const [mine, other, adminTarget] = await createProofAccounts(store.url, 3)
  if (!mine || !other || !adminTarget) throw new Error('accounts were not created')
  const extra = await extraTokens(store.url, mine.id)
  // Stalls of 50 ms and more are logged by the server with what it was serving (in the report).
  const server = await spawnProofServer(store.url, {}, ['--stall-warn-ms', '50'])
  const report: FuzzReport = {
    cases: 0,
    casesPerRoute: options.cases,
    routes: {},
    status2xx: 0,
    status4xx: 0,
    status5xx: 0,
    unknown5xx: 0,
    leaks: 0,
    badErrorShape: 0,
    crossAccount: 0,
    crossAccountControl: 0,
    hangs: 0,
    clientRefused: 0,
    unanswered: [],
    slowestRequestMs: 0,
    healthzSamples: 0,
    healthzP50Ms: 0,
    healthzP99Ms: 0,
    healthzMaxMs: 0,
    healthzOver100Ms: 0,
    fuzzerLoopMaxMs: 0,
    generateMs: 0,
    runMs: 0,
    stalls: [],
    serverStalls: [],
    violations: [],
  }
  const inFlight = new Set<FuzzRequest>()
  // The fuzzer's own event-loop delay: a probe's time includes it, so the report shows it.
  // A new monitor per chunk: one re-enabled after generating counts the generation as a delay.
  let ownLagMaxNs = 0
  const healthz: number[] = []
  let polling = true
  let measuring = false
  let probe: Promise<void> = Promise.resolve()
  let poller: Promise<void> = Promise.resolve()
  try {
    const ctx = await seedAccounts(server.url, mine, other, adminTarget, extra)
    const routes = [...baseRoutes(ctx), ...restRoutes(ctx), ...oauthAdminRoutes(ctx)]
    for (const [name] of routes) {
      report.routes[name] = {
        cases: 0,
        status2xx: 0,
        status3xx: 0,
        status4xx: 0,
        status5xx: 0,
        notAnswered: 0,
        totalMs: 0,
        maxMs: 0,
      }
    }
    // Warm up (lazy imports, JIT) before /healthz is measured.
    await (await fetch(`${server.url}/healthz`)).arrayBuffer()
    poller = (async () => {
      while (polling) {
        if (!measuring) {
          await sleep(5)
          continue
        }
        const started = performance.now()
        probe = freshProbe(`${server.url}/healthz`)
        await probe
        const ms = performance.now() - started
        healthz.push(ms)
        if (ms > 100) {
          report.stalls.push({ ms: Math.round(ms), inFlight: [...inFlight].map(describe) })
          report.stalls.sort((a, b) => b.ms - a.ms).splice(5)
        }
        await sleep(25)
      }
    })()

    const chunk = Math.max(1, options.chunk ?? 250)
    const concurrency = Math.max(1, options.concurrency ?? 4)
    for (let done = 0, round = 0; done < options.cases; done += chunk, round++) {
      const size = Math.min(chunk, options.cases - done)
      const generating = performance.now()
      const cases = routes.flatMap(([name, arbitrary]) =>
        fc.sample(arbitrary, { numRuns: size, seed: deriveSeed(options.seed, name, round) }),
      )
      shuffle(cases, seededRandom(deriveSeed(options.seed, 'order', round)))
      report.generateMs += performance.now() - generating

      const running = performance.now()
      measuring = true
      const ownLag = monitorEventLoopDelay({ resolution: 10 })
      ownLag.enable()
      let next = 0
      const worker = async () => {
        while (next < cases.length) {
          const request = cases[next++] as FuzzRequest
          inFlight.add(request)
          await runOne(server.url, request, report, ctx)
          inFlight.delete(request)
        }
      }
      await Promise.all(Array.from({ length: concurrency }, worker))
      // Stop timing, and let the probe in flight finish, before this process generates again.
      measuring = false
      ownLag.disable()
      ownLagMaxNs = Math.max(ownLagMaxNs, ownLag.max)
      await probe
      report.runMs += performance.now() - running
      options.log(
        `  ${done + size}/${options.cases} cases per route (${report.cases} in all), ${report.status5xx} 5xx, ${report.leaks} leaks, ${report.crossAccount} cross-account`,
      )
    }
    // One control read for certain: the other account's own list names its item.
    const control = await fetch(`${server.url}/api/v2/chat/departments`, {
      headers: { authorization: `Bearer ${other.token}` },
    })
    if ((await control.text()).includes(OTHER_MARKER)) report.crossAccountControl += 1
  } finally {
    polling = false
    await poller
    await server.kill('SIGTERM')
    report.serverStalls = server.stalls().slice(0, 8)
    await store.stop()
  }
  report.generateMs = Math.round(report.generateMs)
  report.runMs = Math.round(report.runMs)
  report.fuzzerLoopMaxMs = Math.round(ownLagMaxNs / 1e6)
  report.unanswered = [...unanswered]
  report.healthzSamples = healthz.length
  report.healthzP50Ms = Math.round(percentile(healthz, 50))
  report.healthzP99Ms = Math.round(percentile(healthz, 99))
  report.healthzMaxMs = Math.round(percentile(healthz, 100))
  report.healthzOver100Ms = healthz.filter((ms) => ms > 100).length
  return report
}

/** A seed of its own for each route and chunk, so adding a route changes no other's cases. */
function deriveSeed(seed: number, name: string, round: number): number {
  let h = 0x811c9dc5 ^ seed
  for (const ch of `${name}#${round}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193)
  return h | 0
}

function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[items[i], items[j]] = [items[j] as T, items[i] as T]
  }
}

/** A read-only owner token and an agent token of the fuzzed account (before the server starts). */
async function extraTokens(
  storeUrl: string,
  accountId: number,
): Promise<{ readOnly: string; agent: string }> {
  const clock = systemClock()
  const opened = await openStore(storeUrl, { clock })
  try {
    const readOnly = await issueToken(opened, {
      accountId,
      role: 'owner',
      scopes: ['read'],
      now: clock.now(),
    })
    const agent = await issueToken(opened, {
      accountId,
      role: 'agent',
      scopes: ['read', 'write'],
      now: clock.now(),
    })
    return { readOnly: readOnly.token, agent: agent.token }
  } finally {
    await opened.close()
  }
}

/**
 * Seeds both accounts over HTTP: chats and one record of every directory collection in each (the
 * other account's named with {@link OTHER_MARKER}), and two OAuth clients of the first.
 */
async function seedAccounts(
  url: string,
  mine: ProofAccount,
  other: ProofAccount,
  adminTarget: ProofAccount,
  extra: { readOnly: string; agent: string },
): Promise<FuzzContext> {
  const call = async (token: string, method: string, path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
    const text = await res.text()
    if (res.status >= 300) throw new Error(`seeding ${method} ${path}: ${res.status} ${text}`)
    return JSON.parse(text) as Record<string, unknown>
  }
  const ownIds: Record<string, string[]> = { chats: [] }
  const otherIds: string[] = []
  for (const [account, marker, ids] of [
    [mine, 'Fuzz own', undefined],
    [other, OTHER_MARKER, otherIds],
  ] as const) {
    for (let i = 1; i <= 3; i++) {
      const chatId = `2611.9339545.${marker.replace(/\W/g, '')}${i}`
      await postEvents(url, account.token, new ChatScript(chatId, `seed-${i}`).start())
      if (ids) ids.push(chatId)
      else ownIds['chats']?.push(chatId)
    }
    for (const { path, body } of seedBodies(marker)) {
      const created = await call(account.token, 'POST', `/api/v2/chat/${path}`, body)
      const id = String(created['id'])
      if (ids) ids.push(id)
      else (ownIds[path] ??= []).push(id)
    }
  }
  const oauthClients = []
  for (const clientType of ['public', 'confidential']) {
    const redirectUri = `https://fuzz.example/${clientType}`
    const client = await call(mine.token, 'POST', '/api/v2/chat/oauth/clients', {
      name: `Fuzz ${clientType}`,
      redirect_uris: [redirectUri],
      client_type: clientType,
      scopes: 'read write',
    })
    oauthClients.push({
      id: String(client['client_identifier']),
      secret: String(client['client_secret']),
      redirectUri,
    })
  }
  return {
    owner: mine.token,
    readOnly: extra.readOnly,
    agent: extra.agent,
    other: other.token,
    accountName: mine.name,
    otherName: other.name,
    adminName: adminTarget.name,
    adminOwner: adminTarget.token,
    otherIds,
    ownIds,
    oauthClients,
  }
}

async function runOne(
  base: string,
  request: FuzzRequest,
  report: FuzzReport,
  ctx: FuzzContext,
): Promise<void> {
  const tally = report.routes[request.route] as RouteTally
  report.cases += 1
  tally.cases += 1
  const started = performance.now()
  let status: number
  let text = ''
  let contentType = ''
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
        route: request.route,
        method: request.method,
        path: request.path.slice(0, 300),
        status,
        body,
        answer: text.slice(0, 300),
      })
    }
  }
  if (request.raw !== undefined) {
    const answer = await rawExchange(base, request.raw)
    const split = answer.indexOf('\r\n\r\n')
    status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)
    contentType = /content-type: ([^\r\n]+)/i.exec(answer.slice(0, split))?.[1] ?? ''
    text = split >= 0 ? answer.slice(split + 4) : answer
    if (status === 0) {
      // The server closed without answering: allowed only for input that is not HTTP at all.
      report.clientRefused += 1
      tally.notAnswered += 1
      return
    }
  } else {
    const answer = await httpExchange(base, request)
    if (answer === 'hang') {
      status = 0
      report.hangs += 1
      violation('hang')
      return
    }
    if (answer === 'refused') {
      // The client refused to send it (a header value Node considers invalid).
      report.clientRefused += 1
      tally.notAnswered += 1
      return
    }
    ;({ status, contentType, text } = answer)
  }
  const ms = performance.now() - started
  report.slowestRequestMs = Math.max(report.slowestRequestMs, Math.round(ms))
  tally.totalMs += ms
  tally.maxMs = Math.max(tally.maxMs, Math.round(ms))
  if (status < 300) {
    report.status2xx += 1
    tally.status2xx += 1
  } else if (status < 400) {
    tally.status3xx += 1
  } else if (status < 500) {
    report.status4xx += 1
    tally.status4xx += 1
  } else {
    report.status5xx += 1
    tally.status5xx += 1
  }
  if (status >= 500) {
    report.unknown5xx += 1
    violation('5xx')
  }
  if (LEAK.test(text)) {
    report.leaks += 1
    violation('leak')
  }
  if (
    status >= 400 &&
    request.method !== 'HEAD' &&
    !errorShaped(text, contentType, request.errorShape ?? 'api')
  ) {
    report.badErrorShape += 1
    violation('error shape')
  }
  const auth = request.headers['authorization'] ?? ''
  const asFirstAccount = auth === `Bearer ${ctx.owner}` || auth === `Bearer ${ctx.readOnly}`
  const named = text.toLowerCase().includes(OTHER_MARKER.toLowerCase())
  if (request.ownRead && asFirstAccount && status < 300 && named) {
    report.crossAccount += 1
    violation('cross-account')
  }
  // The control: the other account's own reads do name its items, so the check is not blind.
  if (request.ownRead && auth === `Bearer ${ctx.other}` && status < 300 && named) {
    report.crossAccountControl += 1
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

/** Whether an error answer has the shape its route documents. */
function errorShaped(text: string, contentType: string, shape: ErrorShape): boolean {
  if (shape === 'page' && /^text\/html/.test(contentType)) return true
  if (!/application\/json/.test(contentType)) return false
  const [message, extra] =
    shape === 'oauth' ? ['error_description', 'error_uri'] : ['description', 'details']
  try {
    const body = JSON.parse(text) as Record<string, unknown>
    return (
      typeof body['error'] === 'string' &&
      typeof body[message] === 'string' &&
      Object.keys(body).every((k) => k === 'error' || k === message || k === extra)
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

/** Why the first requests were not answered (for the report). */
const unanswered: string[] = []

/** Keep-alive connections for the fuzz requests (node:http costs a fraction of fetch's CPU). */
const agent = new Agent({ keepAlive: true, maxSockets: 16 })

/** One request over the shared keep-alive agent; a live stream is read up to its headers. */
function httpExchange(
  base: string,
  request: FuzzRequest,
): Promise<{ status: number; contentType: string; text: string } | 'refused' | 'hang'> {
  return new Promise((resolve) => {
    let req: ClientRequest
    try {
      // A body always goes with its length: Node sends a DELETE body unframed otherwise.
      const length =
        request.body === undefined
          ? {}
          : { 'content-length': String(Buffer.byteLength(request.body)) }
      req = httpRequest(`${base}${request.path}`, {
        method: request.method,
        headers: { ...request.headers, ...length },
        agent,
        timeout: HANG_MS,
        // A redirect may carry a long `state` back: read what the server sends.
        maxHeaderSize: 1024 * 1024,
      })
    } catch (error) {
      unanswered.push(
        `${request.method} ${request.path.slice(0, 100)}: ${(error as Error).message}`,
      )
      unanswered.splice(5)
      resolve('refused')
      return
    }
    req.on('response', (res) => {
      const status = res.statusCode ?? 0
      const contentType = String(res.headers['content-type'] ?? '')
      if (request.stream && status < 300) {
        res.destroy()
        resolve({ status, contentType, text: '' })
        return
      }
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({ status, contentType, text: Buffer.concat(chunks).toString('utf8') }),
      )
      res.on('error', () =>
        resolve({ status, contentType, text: Buffer.concat(chunks).toString('utf8') }),
      )
    })
    req.on('timeout', () => {
      req.destroy()
      resolve('hang')
    })
    // A connection the server closed without an answer (it does so for what is not HTTP).
    req.on('error', (error) => {
      unanswered.push(`${request.method} ${request.path.slice(0, 100)}: ${error.message}`)
      unanswered.splice(5)
      resolve('refused')
    })
    if (request.body !== undefined) req.end(request.body)
    else req.end()
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
