/**
 * The PostgreSQL store under real concurrency (reliability-notes §5.3 Option A, §7.1):
 * 8 writer connections on two store instances (two server processes in production, one with a
 * lagging clock) hold their transactions open for random times while 4 exporters follow the
 * cursor. Checked: 0 lost versions, 0 duplicates, strictly increasing cursors, no aborted or
 * foreign rows. A negative control runs the same checker on writers that take their position
 * before the account's lock and must show losses, so the checker is known to be able to fail.
 *
 * Also here: concurrent migrations, and the rate-limit table shared by every instance.
 */
import { createServer } from 'node:net'
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import type { Clock, Random } from '../../src/domain/clock.js'
import { seededRandom, systemClock } from '../../src/domain/clock.js'
import type { PostgresStore } from '../../src/store/postgres/postgres-store.js'
import { MIGRATIONS } from '../../src/store/postgres/postgres-migrations.js'
import { openPostgresStore } from '../../src/store/postgres/postgres-store.js'
import type { ItemWrite } from '../../src/store/store.js'
import { freshPostgresDatabase, postgresTestServerAvailable } from '../support/postgres.js'

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

type Strategy = 'sequencer' | 'position-before-lock'

interface Version {
  accountId: number
  key: string
  tag: string
  position: number
  /** Order in which writers saw their commits succeed (for "superseded by a later version"). */
  commitSeq: number
}

interface Delivery {
  key: string
  tag: string
  accountId: number
  position: number
}

interface ExporterResult {
  accountId: number
  deliveries: Delivery[]
  nonMonotonic: number
  pages: number
}

interface Report {
  committed: number
  aborted: number
  deliveries: number
  pages: number
  lost: number
  duplicates: number
  nonMonotonic: number
  abortedSeen: number
  crossTenant: number
  writerErrors: number
}

interface Workload {
  strategy: Strategy
  durationMs: number
  seed: number
}

const WRITERS = 8
const EXPORTERS = 4
const MAX_HOLD_MS = 500

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return typeof address === 'object' && address !== null ? address.port : 1
}

/** A clock that lags the system clock: the second server process's clock is 2 s behind. */
function laggingClock(lagMicros: number): Clock {
  const base = systemClock()
  return { now: () => base.now() - lagMicros }
}

async function runWorkload(workload: Workload): Promise<Report> {
  const db = await freshPostgresDatabase()
  const writerStores = [
    await openPostgresStore({ url: db.url, clock: systemClock(), poolSize: 6 }),
    await openPostgresStore({ url: db.url, clock: laggingClock(2_000_000), poolSize: 6 }),
  ]
  const exportStore = await openPostgresStore({ url: db.url, clock: systemClock(), poolSize: 4 })
  const stores = [...writerStores, exportStore]
  try {
    await Promise.all(stores.map((s) => s.migrate()))
    // One sequencer row per account: four accounts keep enough versions flowing while every
    // writer of an account waits for the one holding its row.
    const accounts: number[] = []
    for (const name of ['acme', 'globex', 'initech', 'umbrella']) {
      accounts.push((await exportStore.createAccount(name)).id)
    }
    const random = seededRandom(workload.seed)
    const pick = <T>(items: readonly T[], r: Random = random): T =>
      items[Math.floor(r.next() * items.length)]!

    const committed: Version[] = []
    const aborted = new Set<string>()
    const knownKeys = new Map<number, string[]>(accounts.map((a) => [a, []]))
    let commitSeq = 0
    let writerErrors = 0
    let writersDone = false
    const deadline = Date.now() + workload.durationMs

    const writer = async (w: number): Promise<void> => {
      const store = writerStores[w % writerStores.length]!
      const clock = w % 2 === 0 ? systemClock() : laggingClock(2_000_000)
      for (let n = 0; Date.now() < deadline; n++) {
        const accountId = pick(accounts)
        const tag = `w${w}:${n}`
        const known = knownKeys.get(accountId)!
        // 1-3 items: new keys, or updates of keys another writer already committed.
        const keys = new Set<string>()
        const count = 1 + Math.floor(random.next() * 3)
        for (let j = 0; j < count; j++) {
          keys.add(known.length > 0 && random.next() < 0.5 ? pick(known) : `k${w}-${n}-${j}`)
        }
        const abort = random.next() < 0.1
        const holdMs = random.next() * MAX_HOLD_MS
        const item = (key: string, position: number): ItemWrite => ({
          key,
          sortId: key,
          position,
          body: JSON.stringify({ id: key, tag, accountId }),
        })
        try {
          let position: number
          if (workload.strategy === 'sequencer') {
            position = await store.write(accountId, async (tx) => {
              for (const key of keys) await tx.putItem('chats', item(key, tx.position))
              await sleep(holdMs) // the transaction stays open, holding the account's row
              if (abort) throw new Error('aborted on purpose')
              return tx.position
            })
          } else {
            // The naive design: take a position first (clock, or last + 1), commit later.
            position = Math.max(clock.now(), (await store.lastPosition(accountId)) + 1)
            await sleep(holdMs)
            await store.write(accountId, async (tx) => {
              for (const key of keys) await tx.putItem('chats', item(key, position))
              if (abort) throw new Error('aborted on purpose')
            })
          }
          commitSeq += 1
          for (const key of keys) {
            committed.push({ accountId, key, tag, position, commitSeq })
            if (!known.includes(key)) known.push(key)
          }
        } catch (error) {
          if (abort && error instanceof Error && error.message === 'aborted on purpose') {
            for (const key of keys) aborted.add(`${key}@${tag}`)
          } else {
            writerErrors += 1
          }
        }
      }
    }

    const exporter = async (e: number): Promise<ExporterResult> => {
      const accountId = accounts[e % accounts.length]!
      const own = seededRandom(workload.seed * 100 + e)
      const deliveries: Delivery[] = []
      let afterPosition = 0
      let afterSortId: string | null = null
      let nonMonotonic = 0
      let pages = 0
      for (;;) {
        const finalRound = writersDone
        const limit = pick([1, 2, 7, 100], own)
        const rows = await exportStore.readPage({
          accountId,
          stream: 'chats',
          afterPosition,
          afterSortId,
          limit,
        })
        pages += 1
        for (const row of rows) {
          const after =
            row.position > afterPosition ||
            (row.position === afterPosition &&
              (afterSortId === null ||
                Buffer.compare(Buffer.from(row.sortId), Buffer.from(afterSortId)) > 0))
          if (!after) nonMonotonic += 1
          const parsed = JSON.parse(row.body.toString('utf8')) as {
            id: string
            tag: string
            accountId: number
          }
          deliveries.push({
            key: parsed.id,
            tag: parsed.tag,
            accountId: parsed.accountId,
            position: row.position,
          })
          afterPosition = row.position
          afterSortId = row.sortId
        }
        if (rows.length < limit) {
          if (finalRound) return { accountId, deliveries, nonMonotonic, pages }
          await sleep(own.next() * 20) // caught up: poll again soon
        }
      }
    }

    const exporters = Array.from({ length: EXPORTERS }, (_, e) => exporter(e))
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)))
    writersDone = true
    const results = await Promise.all(exporters)

    // The checker (reliability-notes §7.1, C1-C5 and C7).
    const report: Report = {
      committed: committed.length,
      aborted: aborted.size,
      deliveries: 0,
      pages: 0,
      lost: 0,
      duplicates: 0,
      nonMonotonic: 0,
      abortedSeen: 0,
      crossTenant: 0,
      writerErrors,
    }
    const seqOf = new Map(committed.map((v) => [`${v.key}@${v.tag}`, v.commitSeq]))
    for (const result of results) {
      report.deliveries += result.deliveries.length
      report.pages += result.pages
      report.nonMonotonic += result.nonMonotonic
      const seen = new Set<string>()
      const latestSeen = new Map<string, number>()
      for (const d of result.deliveries) {
        const id = `${d.key}@${d.tag}`
        if (seen.has(id)) report.duplicates += 1
        seen.add(id)
        if (d.accountId !== result.accountId) report.crossTenant += 1
        if (aborted.has(id)) report.abortedSeen += 1
        const seq = seqOf.get(id) ?? 0
        latestSeen.set(d.key, Math.max(latestSeen.get(d.key) ?? 0, seq))
      }
      for (const v of committed) {
        if (v.accountId !== result.accountId) continue
        const delivered = seen.has(`${v.key}@${v.tag}`)
        const superseded = (latestSeen.get(v.key) ?? 0) > v.commitSeq
        if (!delivered && !superseded) report.lost += 1
      }
    }
    return report
  } finally {
    for (const store of stores) await store.close()
  }
}

function summary(workload: Workload, r: Report): string {
  return (
    `${workload.strategy}: ${WRITERS} writers x ${EXPORTERS} exporters x ${workload.durationMs / 1000} s, ` +
    `${r.committed} committed versions, ${r.aborted} aborted, ${r.deliveries} deliveries in ${r.pages} pages; ` +
    `lost ${r.lost}, duplicates ${r.duplicates}, non-monotonic ${r.nonMonotonic}, ` +
    `aborted seen ${r.abortedSeen}, cross-tenant ${r.crossTenant}, writer errors ${r.writerErrors}`
  )
}

describe.skipIf(!postgresTestServerAvailable())('postgres store under concurrency', () => {
  it('loses and duplicates nothing with 8 slow writers and 4 exporters (sequencer row)', async ({
    annotate,
  }) => {
    const workload: Workload = { strategy: 'sequencer', durationMs: 8_000, seed: 11 }
    const report = await runWorkload(workload)
    await annotate(summary(workload, report))
    // Enough traffic for the result to mean something.
    expect(report.committed).toBeGreaterThan(100)
    expect(report.aborted).toBeGreaterThan(0)
    expect(report.writerErrors).toBe(0)
    expect(report).toMatchObject({
      lost: 0,
      duplicates: 0,
      nonMonotonic: 0,
      abortedSeen: 0,
      crossTenant: 0,
    })
  })

  it('negative control: the same checker finds losses when positions are taken before the lock', async ({
    annotate,
  }) => {
    const workload: Workload = { strategy: 'position-before-lock', durationMs: 3_000, seed: 12 }
    const report = await runWorkload(workload)
    await annotate(summary(workload, report))
    expect(report.writerErrors).toBe(0)
    expect(report.committed).toBeGreaterThan(20)
    expect(report.lost).toBeGreaterThan(0)
  })

  it('migrates once when several servers start at the same time', async () => {
    const db = await freshPostgresDatabase()
    const stores = await Promise.all(
      Array.from({ length: 4 }, () => openPostgresStore({ url: db.url, clock: systemClock() })),
    )
    try {
      await Promise.all(stores.map((s) => s.migrate()))
      await stores[0]!.migrate() // and again on a restart
      const admin = new pg.Client({ connectionString: db.adminUrl })
      await admin.connect()
      const { rows } = await admin.query<{ version: number }>(
        'SELECT version FROM schema_migrations ORDER BY version',
      )
      await admin.end()
      // Each migration exactly once, however many servers start at the same time.
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version))
      const account = await stores[1]!.createAccount('acme')
      expect(await stores[3]!.getAccountById(account.id)).toEqual(account)
    } finally {
      for (const s of stores) await s.close()
    }
  })

  it('answers 503 with Retry-After, not 500, while its database is unreachable', async () => {
    const db = await freshPostgresDatabase()
    const url = new URL(db.url)
    url.port = String(await closedPort())
    const store = await openPostgresStore({ url: url.toString(), clock: systemClock() })
    try {
      for (const attempt of [
        () => store.listAccounts(),
        () => store.lastPosition(1),
        () => store.write(1, () => Promise.resolve()),
      ]) {
        await expect(attempt()).rejects.toMatchObject({
          code: 'STORE_UNAVAILABLE',
          status: 503,
          retryAfterSeconds: 1,
        })
      }
    } finally {
      await store.close()
    }
  })

  describe('rate limits shared by every server', () => {
    /** The start of a one-minute window: 2023-11-14T22:13:00Z. */
    const W0 = 28_333_333 * 60_000_000
    const MINUTE = 60_000_000

    async function instances(n: number): Promise<PostgresStore[]> {
      const db = await freshPostgresDatabase()
      const stores: PostgresStore[] = []
      for (let i = 0; i < n; i++) {
        const s = await openPostgresStore({ url: db.url, clock: systemClock() })
        await s.migrate()
        stores.push(s)
      }
      return stores
    }

    it('spends one budget across instances and names the wait in whole seconds', async () => {
      const [a, b] = (await instances(2)) as [PostgresStore, PostgresStore]
      try {
        const results = []
        for (let i = 0; i < 3; i++) {
          results.push(await (i % 2 === 0 ? a : b).consumeRateLimit('account:1', 3, MINUTE, W0))
        }
        expect(results.every((r) => r.allowed && r.retryAfterSeconds === 0)).toBe(true)
        // Full: the next request must wait until the sliding window has shed enough of this
        // minute's 3 requests: 3 x (60 - 20)/60 + 1 = 3 at 80 s.
        expect(await b.consumeRateLimit('account:1', 3, MINUTE, W0)).toEqual({
          allowed: false,
          retryAfterSeconds: 80,
        })
        // Another key has its own budget.
        expect((await a.consumeRateLimit('account:2', 3, MINUTE, W0)).allowed).toBe(true)
        // Denied requests are not counted: hammering does not push the wait further out.
        for (let i = 0; i < 5; i++) await a.consumeRateLimit('account:1', 3, MINUTE, W0 + i)
        const early = await a.consumeRateLimit('account:1', 3, MINUTE, W0 + 79 * 1_000_000)
        expect(early).toEqual({ allowed: false, retryAfterSeconds: 1 })
        expect(await b.consumeRateLimit('account:1', 3, MINUTE, W0 + 80 * 1_000_000)).toEqual({
          allowed: true,
          retryAfterSeconds: 0,
        })
        // Long idle: a fresh budget.
        const later = W0 + 10 * MINUTE
        for (let i = 0; i < 3; i++) {
          expect((await a.consumeRateLimit('account:1', 3, MINUTE, later)).allowed).toBe(true)
        }
      } finally {
        for (const s of [a, b]) await s.close()
      }
    })

    it('admits exactly the limit from a concurrent burst on three instances', async () => {
      const stores = await instances(3)
      try {
        const results = await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            stores[i % 3]!.consumeRateLimit('token:burst', 10, MINUTE, W0 + i),
          ),
        )
        expect(results.filter((r) => r.allowed)).toHaveLength(10)
        for (const r of results.filter((x) => !x.allowed)) {
          expect(r.retryAfterSeconds).toBeGreaterThan(0)
        }
      } finally {
        for (const s of stores) await s.close()
      }
    })
  })
})
