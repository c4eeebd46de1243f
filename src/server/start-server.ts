/**
 * The composition root for `chat-export serve`: opens the store, builds the app, listens, and
 * shuts down cleanly. The only place that wires concrete implementations together.
 * @module
 */
import type { Server as HttpServer } from 'node:http'
import { serve, type ServerType } from '@hono/node-server'
import type { Logger } from 'pino'
import type { ServeConfig } from '../config/config.js'
import type { Clock } from '../domain/clock.js'
import { ManualClock } from '../domain/clock.js'
import { AdminState, generateAdminToken } from '../admin/admin-state.js'
import { createApp } from '../http/app.js'
import { createMetrics } from '../observability/metrics.js'
import { memoryRateLimiter, type RateLimiter } from '../http/rate-limit.js'
import type { Store } from '../store/store.js'
import { openStore } from '../store/open-store.js'
import { ingestService } from '../ingest/ingest-events.js'
import { chatWriter } from '../ingest/chat-writes.js'
import { attachClientErrors } from './client-errors.js'
import { DEFAULT_LIMITS } from '../config/limits-config.js'
import { createSendGuard } from '../http/send-guard.js'
import type { TlsConfig } from '../config/tls-config.js'
import { startTls, type RunningTls } from './start-tls.js'
import { createInFlightRequests, watchLoopStalls } from '../observability/loop-stalls.js'

export interface RunningServer {
  /** The base URL the server listens on, e.g. http://127.0.0.1:8080. */
  url: string
  store: Store
  /** The HTTPS listener and proxy, when `--tls` or `--proxy` asked for them. */
  tls?: RunningTls | undefined
  /** The server admin token (shown once at start-up); undefined with `--no-admin`. */
  adminToken: string | undefined
  close(): Promise<void>
}

export interface StartServerDeps {
  clock: Clock
  logger: Logger
  /** Use this store instead of opening config.store (tests). */
  store?: Store
  /** Use this server admin token instead of a random one (tests). */
  adminToken?: string
}

/**
 * The request budget: shared through the store when it can (several server instances on one
 * PostgreSQL database must not each allow the full budget), otherwise in process memory.
 */
function rateLimiterFor(store: Store, perMinute: number): RateLimiter | undefined {
  if (perMinute <= 0) return undefined
  const shared = store.consumeRateLimit?.bind(store)
  if (shared) return { consume: (key, now) => shared(key, perMinute, 60_000_000, now) }
  return memoryRateLimiter(perMinute)
}

/** Opens the store and starts listening. */
export async function startServer(
  config: ServeConfig & { tls?: TlsConfig | undefined },
  deps: StartServerDeps,
): Promise<RunningServer> {
  const store =
    deps.store ??
    (await openStore(config.store, {
      clock: deps.clock,
      readWorkers: config.readWorkers,
      checkpointInWorker: true,
    }))
  const metrics = createMetrics()
  const stallWarnMs = config.stallWarnMs ?? 0
  const inFlight = stallWarnMs > 0 ? createInFlightRequests() : undefined
  const ingest = ingestService(store, deps.clock)
  const adminToken =
    config.admin?.admin === false ? undefined : (deps.adminToken ?? generateAdminToken())
  const admin =
    adminToken === undefined
      ? undefined
      : new AdminState({
          adminToken,
          journalSize: config.admin?.journalSize ?? 500,
          manualClock:
            config.admin?.clock === 'manual' && deps.clock instanceof ManualClock
              ? deps.clock
              : undefined,
        })
  const app = createApp({
    store,
    clock: deps.clock,
    logger: deps.logger,
    publicUrl: config.publicUrl,
    minStartAgeSeconds: config.minStartAgeSeconds,
    ingestEvents: async (accountId, events) => {
      const result = await ingest(accountId, events)
      metrics.eventsIngested.inc({ result: 'accepted' }, result.accepted)
      metrics.eventsIngested.inc({ result: 'duplicate' }, result.duplicates)
      return result
    },
    metrics,
    faults: config.faults,
    rateLimiter: rateLimiterFor(store, config.rateLimitPerMinute),
    compression: config.compression,
    directory: store.directory,
    chats: store.chats,
    chatWrites: store.chats ? chatWriter(store) : undefined,
    sendGuard: createSendGuard(config.limits ?? DEFAULT_LIMITS),
    oauth: config.oauth,
    admin,
    inFlight,
  })
  const stopWatching = inFlight
    ? watchLoopStalls({
        thresholdMs: stallWarnMs,
        inFlight,
        onStall(stall) {
          metrics.loopStalls.inc()
          deps.logger.warn(stall, 'event loop blocked: every account waited')
        },
      })
    : () => {}
  const listening = new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, () =>
      resolve(s),
    )
    s.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(
              `Port ${config.port} on ${config.host} is already in use. Stop the other server or choose another port with --port (0 picks a free one).`,
            )
          : err,
      ),
    )
  })
  let server: ServerType
  try {
    server = await listening
  } catch (err) {
    stopWatching()
    if (!deps.store) await store.close()
    throw err
  }
  attachClientErrors(server as HttpServer, {
    logger: deps.logger,
    fetch: app.fetch,
    hostname: config.host,
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : config.port
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`
  let tls: RunningTls | undefined
  try {
    tls = await startTls(config, server, app.fetch, deps.clock, deps.logger)
  } catch (err) {
    stopWatching()
    await new Promise<void>((resolve) => server.close(() => resolve()))
    if (!deps.store) await store.close()
    throw err
  }
  return {
    url,
    store,
    tls,
    adminToken,
    async close() {
      stopWatching()
      await tls?.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      if (!deps.store) await store.close()
    },
  }
}
