/**
 * The composition root of the HTTP application. `createApp(deps)` builds every route and never
 * listens: tests call `app.request(...)`; `src/cli/commands/serve.ts` serves it.
 * @module
 */
import { Hono } from 'hono'
import { except } from 'hono/combine'
import type { AdminState } from '../admin/admin-state.js'
import { adminRoutes } from './admin-routes.js'
import { consoleRoutes } from './console-routes.js'
import { journalRequests } from './journal.js'
import type { Logger } from 'pino'
import type { Clock } from '../domain/clock.js'
import { AppError } from '../domain/errors.js'
import type { Metrics } from '../observability/metrics.js'
import type { Store } from '../store/store.js'
import type { AuthVariables } from './auth.js'
import { requireToken } from './auth.js'
import { renderError } from './error-handler.js'
import { exportRoutes } from './export-routes.js'
import { ingestRoutes } from './ingest-routes.js'
import { restRoutes } from './rest-routes.js'
import { oauthApiRoutes, oauthEndpoints } from './oauth-routes.js'
import type { OAuthConfig } from '../config/oauth-config.js'
import { DEFAULT_OAUTH_CONFIG } from '../config/oauth-config.js'
import type { ChatReader, DirectoryStore } from '../store/directory-port.js'
import type { ChatWriter } from '../domain/rest/chat-update.js'
import { openApiDocument } from './openapi.js'
import type { FaultPlan } from '../domain/fault-plan.js'
import { injectFaults } from './faults.js'
import type { RateLimiter } from './rate-limit.js'
import type { CompressionMode } from './compression.js'
import { rateLimit } from './rate-limit.js'
import type { SendGuard } from './send-guard.js'
import type { InFlightRequests } from '../observability/loop-stalls.js'

export interface AppDeps {
  store: Store
  clock: Clock
  logger: Logger
  /** Public base URL for next_page behind a proxy (scheme://host[:port]). */
  publicUrl?: string | undefined
  /** The reference's five-minute rule, in seconds; 0 = serve changes as soon as committed. */
  minStartAgeSeconds?: number
  rateLimiter?: RateLimiter | undefined
  ingestEvents?: (accountId: number, events: unknown[]) => Promise<unknown>
  /** Prometheus metrics; `/metrics` is served when given. */
  metrics?: Metrics | undefined
  /** Fault injection for connector tests (`serve --faults`); off when undefined. */
  faults?: FaultPlan | undefined
  /** Codings export pages may be compressed with, by Accept-Encoding (default `br`). */
  compression?: CompressionMode | undefined
  /** The directory resources (`/account`, `/agents`, …); those routes are served when given. */
  directory?: DirectoryStore | undefined
  /** The chats outside the export (`/chats`, `/chats/search`); served with `directory` when given. */
  chats?: ChatReader | undefined
  /** `PUT` / `DELETE /chats/{id}` (src/ingest/chat-writes.ts); served with `chats` when given. */
  chatWrites?: ChatWriter | undefined
  /** Bytes-in-flight bound and send timeout for export pages (src/http/send-guard.ts). */
  sendGuard?: SendGuard | undefined
  /** OAuth lifetimes and auto-approve (defaults when absent); served when the store has OAuth. */
  oauth?: OAuthConfig | undefined
  /** The admin API, request journal, scripted faults and console; off when undefined. */
  admin?: AdminState | undefined
  /** Requests in flight, named in event-loop stall reports (src/observability/loop-stalls.ts). */
  inFlight?: InFlightRequests | undefined
}

/** Builds the application. */
export function createApp(deps: AppDeps): Hono<{ Variables: AuthVariables }> {
  const app = new Hono<{ Variables: AuthVariables }>()
  const auth = requireToken(deps.store, deps.clock)

  app.use('*', async function logRequest(c, next) {
    const started = performance.now()
    const length = c.req.header('content-length')
    const finished = deps.inFlight?.begin(
      c.req.method,
      c.req.path,
      length === undefined ? undefined : Number(length),
    )
    try {
      await next()
    } finally {
      finished?.()
    }
    deps.metrics?.requests.inc({ route: c.req.routePath, status: String(c.res.status) })
    // Path only: query strings carry no secrets here, but bodies and headers may; never log them.
    deps.logger.debug(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - started),
        account: c.get('token')?.accountId,
      },
      'request',
    )
  })

  if (deps.admin) app.use('*', journalRequests(deps.admin.journal, deps.clock))

  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  const openApi = openApiDocument()
  app.get('/openapi.json', (c) => c.json(openApi))
  app.get('/readyz', async (c) => {
    // Ready when the store answers a trivial read.
    await deps.store.getAccountById(0)
    return c.json({ status: 'ready' })
  })
  const metrics = deps.metrics
  if (metrics) {
    app.get('/metrics', async (c) =>
      c.text(await metrics.registry.metrics(), 200, {
        'content-type': metrics.registry.contentType,
      }),
    )
  }

  const guarded = [auth]
  if (deps.faults || deps.admin) {
    guarded.push(injectFaults({ plan: deps.faults, scripts: deps.admin }))
  }
  if (deps.rateLimiter) guarded.push(rateLimit(deps.rateLimiter, deps.clock))

  for (const prefix of ['/api/v2/chat/incremental', '/api/v2/incremental']) {
    app.use(`${prefix}/*`, ...guarded)
    app.route(
      prefix,
      exportRoutes({
        store: deps.store,
        clock: deps.clock,
        publicUrl: deps.publicUrl,
        minStartAgeSeconds: deps.minStartAgeSeconds ?? 0,
        metrics: deps.metrics,
        compression: deps.compression,
        sendGuard: deps.sendGuard,
      }),
    )
  }

  const oauth = deps.store.oauth
  if (oauth) {
    const config = deps.oauth ?? DEFAULT_OAUTH_CONFIG
    app.route(
      '/',
      oauthEndpoints({
        store: deps.store,
        oauth,
        clock: deps.clock,
        options: config,
        autoApprove: config.autoApprove,
      }),
    )
    for (const prefix of ['/api/v2/chat', '/api/v2']) {
      app.route(prefix, oauthApiRoutes({ oauth, clock: deps.clock, guards: guarded }))
    }
  }

  const directory = deps.directory
  if (directory) {
    for (const prefix of ['/api/v2/chat', '/api/v2']) {
      app.route(
        prefix,
        restRoutes({
          store: deps.store,
          directory,
          chats: deps.chats,
          chatWrites: deps.chatWrites,
          clock: deps.clock,
          publicUrl: deps.publicUrl,
          guards: guarded,
        }),
      )
    }
  }

  if (deps.admin) {
    const admin = deps.admin
    app.route(
      '/api/chat-export/v1/admin',
      adminRoutes({ store: deps.store, clock: deps.clock, admin }),
    )
    app.route('/console', consoleRoutes())
  }
  // The admin API authenticates on its own (server admin token or owner token) and takes no faults.
  app.use('/api/chat-export/v1/*', except('/api/chat-export/v1/admin/*', ...guarded))
  app.route(
    '/api/chat-export/v1',
    ingestRoutes({
      store: deps.store,
      clock: deps.clock,
      ...(deps.ingestEvents ? { ingestEvents: deps.ingestEvents } : {}),
    }),
  )

  app.notFound((c) =>
    renderError(
      new AppError(
        'NOT_FOUND',
        'The requested URL was not found on the server. Incremental exports live under /api/v2/chat/incremental/{chats,conversions,department_events,agent_timeline,agent_events}.',
      ),
      c,
      deps.logger,
    ),
  )
  app.onError((err, c) => renderError(err, c, deps.logger))
  return app
}
