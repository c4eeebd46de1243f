/**
 * The live demo behind `npm start` (`serve --demo`): an account named "demo" with two days of
 * realistic history (seeded, so every run with the same seed shows the same data) and simulated
 * activity that keeps arriving while the server runs, through the same ingest path as real events.
 * @module
 */
import type { Writable } from 'node:stream'
import type { Logger } from 'pino'
import type { ServeConfig } from '../config/config.js'
import type { Clock } from '../domain/clock.js'
import type { IngestEvent } from '../domain/events.js'
import type { Micros } from '../domain/time.js'
import { formatIso, parseIso } from '../domain/time.js'
import { issueToken } from '../auth/tokens.js'
import { ingestService } from '../ingest/ingest-events.js'
import { LocalTime } from '../simulate/arrival-curve.js'
import { resetAccount, seededEvents, type PeekedEvents } from '../admin/seed-account.js'
import type { RunningServer } from './start-server.js'

const HISTORY_DAYS = 2
const HOUR = 3_600_000_000
const DAY = 24 * HOUR
/** Average arrivals per weekday hour at speed 1 (one a minute or so in the afternoon). */
const BASE_ARRIVALS_PER_HOUR = 40
/** Highest traffic multiplier `--speed` gives (beyond that the demo only burns CPU). */
const MAX_SPEED = 100
/** The local hour the demo's business is at when the server starts. */
const START_HOUR = 14
/** How long a demo token lives; each start revokes the previous ones. */
const TOKEN_TTL: Micros = 7 * DAY

export interface DemoDeps {
  clock: Clock
  logger: Logger
  out: Writable
}

export interface RunningDemo {
  accountName: string
  token: string
  stop(): void
}

/**
 * The demo business's UTC offset (whole hours, possibly days) chosen so that the server starts at
 * {@link START_HOUR} local time on a weekday: the demo runs its own day, so whatever the hour at
 * which `npm start` runs, agents are online and chats are under way.
 */
export function demoUtcOffsetMinutes(now: Micros): number {
  const utcHour = Math.floor((((now % DAY) + DAY) % DAY) / HOUR)
  let offset = (((START_HOUR - utcHour) % 24) + 24) % 24
  while (new LocalTime(offset * 60).isWeekend(now)) offset += 24
  return offset * 60
}

/** Creates (or reuses) the demo account, seeds its history, prints a token and keeps it live. */
export async function startDemo(
  server: RunningServer,
  config: ServeConfig,
  deps: DemoDeps,
): Promise<RunningDemo> {
  const { store } = server
  const accountName = 'demo'
  const account =
    (await store.getAccountByName(accountName)) ?? (await store.createAccount(accountName))
  const now = deps.clock.now()
  const speed = Math.min(config.demoSpeed, MAX_SPEED)
  // --speed above 1 makes the demo busier, never faster than the wall clock; below 1, slower (an
  // event is delivered after its time, stretched by 1/speed). Either way every event is delivered
  // at or after its own time and goes through the ingest API's validation: nothing is stamped ahead.
  const seed = {
    seed: config.demoSeed,
    days: HISTORY_DAYS,
    arrivalsPerHour: BASE_ARRIVALS_PER_HOUR,
    utcOffsetMinutes: demoUtcOffsetMinutes(now),
    arrivalsPerHourAt: (at: Micros) =>
      BASE_ARRIVALS_PER_HOUR * (at >= now ? Math.max(1, speed) : 1),
  }

  let live: PeekedEvents
  if ((await store.lastPosition(account.id)) === 0) {
    // History in one transaction, positions following simulated time (see admin/seed-account.ts).
    const seeded = await resetAccount(store, account.id, now, seed)
    deps.logger.info({ events: seeded.events }, 'demo history seeded')
    live = seeded.rest ?? {
      events: seededEvents(seed, now),
      next: { done: true, value: undefined },
    }
  } else {
    // Restart: skip the history the account already holds and go live from now.
    const events = seededEvents(seed, now)
    let next = events.next()
    while (!next.done && (parseIso(next.value.timestamp) ?? 0) < now) next = events.next()
    live = { events, next }
  }

  // One live demo token at a time: the previous runs' tokens are revoked, this one expires.
  for (const old of await store.listTokens(account.id)) {
    if (old.label === 'demo' && old.revokedAt === null) {
      await store.revokeToken(account.id, old.id, now)
    }
  }
  const { token, record } = await issueToken(store, {
    accountId: account.id,
    role: 'owner',
    scopes: ['read', 'write'],
    label: 'demo',
    now,
    ttl: TOKEN_TTL,
  })
  deps.out.write(
    [
      '',
      `Demo account "${accountName}": ${HISTORY_DAYS} days of simulated chat activity (seed ${config.demoSeed}), live at speed ${config.demoSpeed}.`,
      `Token (owner, read write): ${token}`,
      `  (expires ${formatIso(record.expiresAt ?? now)}; the earlier demo tokens are revoked)`,
      'Try:',
      `  curl -H "Authorization: Bearer ${token}" "${config.publicUrl ?? server.url}/api/v2/chat/incremental/chats?fields=chats(*)&limit=2"`,
      '',
    ].join('\n') + '\n',
  )

  // Live: deliver each simulated event when its time comes, through the ingest validation.
  const ingest = ingestService(store, deps.clock)
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let { next } = live
  const tick = async () => {
    if (stopped) return
    const wallNow = deps.clock.now()
    const due: IngestEvent[] = []
    const isDue = (at: Micros) => (speed >= 1 ? at : now + (at - now) / speed) <= wallNow
    while (!next.done && isDue(parseIso(next.value.timestamp) ?? 0) && due.length < 1000) {
      due.push(next.value)
      next = live.events.next()
    }
    if (due.length > 0) {
      try {
        await ingest(account.id, due)
      } catch (err) {
        deps.logger.warn({ err: (err as Error).message }, 'demo batch skipped')
      }
    }
    if (!stopped && !next.done) timer = setTimeout(() => void tick(), 250)
  }
  timer = setTimeout(() => void tick(), 250)
  return {
    accountName,
    token,
    stop() {
      stopped = true
      if (timer) clearTimeout(timer)
    },
  }
}
