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
import { ManualClock } from '../domain/clock.js'
import type { IngestEvent } from '../domain/events.js'
import { parseIso } from '../domain/time.js'
import { issueToken } from '../auth/tokens.js'
import { applyEvents } from '../ingest/ingest-events.js'
import { createDirectory } from '../simulate/directory.js'
import { simulate } from '../simulate/simulate-day.js'
import { openStore } from '../store/open-store.js'
import type { RunningServer } from './start-server.js'

const HISTORY_DAYS = 2
const DAY = 86_400_000_000

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
  // Start the simulation on a whole hour so a given seed always yields the same history shape.
  const simStart = now - HISTORY_DAYS * DAY - (now % 3_600_000_000)
  const directory = createDirectory({ seed: config.demoSeed, accountNumber: 9339545 })
  const events = simulate({
    seed: config.demoSeed,
    directory,
    start: simStart,
    end: Number.POSITIVE_INFINITY,
    arrivalsPerHour: 30,
  })

  const fresh = (await store.lastPosition(account.id)) === 0
  let next = events.next()
  if (fresh) {
    // History: positions follow the simulated time (a second store handle on the same database,
    // with a clock that replays the simulation), so update_timestamps spread over the two days.
    // Allowed only because the account is empty: no cursor can have passed these positions.
    const simClock = new ManualClock(simStart)
    const seedStore = await openStore(config.store, { clock: simClock })
    let batch: IngestEvent[] = []
    let applied = 0
    const apply = async (events: IngestEvent[]) => {
      try {
        await applyEvents(seedStore, account.id, events)
        applied += events.length
      } catch {
        // A batch is all or nothing; keep the demo going with whatever events do apply.
        for (const event of events) {
          try {
            await applyEvents(seedStore, account.id, [event])
            applied++
          } catch (err) {
            skipped++
            if (skipped <= 3)
              deps.logger.warn({ err: (err as Error).message }, 'demo event skipped')
          }
        }
      }
    }
    let skipped = 0
    try {
      while (!next.done && (parseIso(next.value.timestamp) ?? 0) < now) {
        batch.push(next.value)
        if (batch.length === 500) {
          simClock.set(parseIso(batch.at(-1)?.timestamp ?? '') ?? simStart)
          await apply(batch)
          batch = []
        }
        next = events.next()
      }
      if (batch.length > 0) {
        simClock.set(parseIso(batch.at(-1)?.timestamp ?? '') ?? simStart)
        await apply(batch)
      }
    } finally {
      await seedStore.close()
    }
    deps.logger.info({ events: applied, skipped }, 'demo history seeded')
  } else {
    // Restart: skip the history the account already holds and go live from now.
    while (!next.done && (parseIso(next.value.timestamp) ?? 0) < now) next = events.next()
  }

  const { token } = await issueToken(store, {
    accountId: account.id,
    role: 'owner',
    scopes: ['read', 'write'],
    label: 'demo',
    now: deps.clock.now(),
  })
  deps.out.write(
    [
      '',
      `Demo account "${accountName}": ${HISTORY_DAYS} days of simulated chat activity (seed ${config.demoSeed}), live at speed ${config.demoSpeed}.`,
      `Token (owner, read write): ${token}`,
      'Try:',
      `  curl -H "Authorization: Bearer ${token}" "${config.publicUrl ?? server.url}/api/v2/chat/incremental/chats?fields=chats(*)&limit=2"`,
      '',
    ].join('\n') + '\n',
  )

  // Live: deliver each simulated event when its time comes (scaled by the demo speed).
  const liveStartWall = deps.clock.now()
  const liveStartSim = now
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  const tick = async () => {
    if (stopped) return
    const simNow = liveStartSim + (deps.clock.now() - liveStartWall) * config.demoSpeed
    const due: IngestEvent[] = []
    while (!next.done && (parseIso(next.value.timestamp) ?? 0) <= simNow && due.length < 1000) {
      due.push(next.value)
      next = events.next()
    }
    if (due.length > 0) {
      try {
        await applyEvents(store, account.id, due)
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
