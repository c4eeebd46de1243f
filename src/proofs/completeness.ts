/**
 * The completeness proof (reliability-notes §7.9): concurrent writers through the live-event API,
 * concurrent exporters following next_page with random limits, re-fetches and restarts from
 * `end_time` alone, against a ground-truth log of acknowledged writes. A naive exporter (a
 * whole-second bookmark: start_time = floor(end_time) + 1, no start_id) runs alongside as the
 * negative control: the checker must see it lose versions, or the checker is blind.
 * @module
 */
import { parseIso } from '../domain/time.js'
import {
  ChatScript,
  createProofAccounts,
  getPage,
  percentile,
  postEvents,
  proofStore,
  seededRandom,
  sleep,
  spawnProofServer,
  type ProofAccount,
} from './proof-support.js'

export interface CompletenessOptions {
  writers: number
  exporters: number
  seconds: number
  seed: number
  /** `sqlite` (default), `postgres`, or a store URL. */
  store: string
  log: (line: string) => void
}

export interface CompletenessReport {
  backend: string
  /** Acknowledged batches (each a new version of every chat it touches). */
  batchesAcked: number
  versionsWritten: number
  chats: number
  writeErrors: number
  pagesFetched: number
  exportErrors: number
  /** The export errors by HTTP status (e.g. 503 `OVERLOADED`, retried after a pause). */
  exportErrorStatuses: Record<number, number>
  lost: number
  duplicated: number
  outOfOrder: number
  crossAccount: number
  refetches: number
  refetchMissing: number
  restarts: number
  maxRestartRepeat: number
  freshnessP50Ms: number
  freshnessP99Ms: number
  freshnessMaxMs: number
  naiveLost: number
}

interface Ack {
  account: number
  chatId: string
  messages: number
  at: number
}

const CHATS = '/api/v2/chat/incremental/chats'

/** Runs the workload and checks it; the server is a child process over a fresh store. */
export async function runCompleteness(options: CompletenessOptions): Promise<CompletenessReport> {
  const store = await proofStore(options.store, options.log)
  try {
    const accounts = await createProofAccounts(store.url, 2)
    const server = await spawnProofServer(store.url)
    try {
      return { backend: store.backend, ...(await workload(server.url, accounts, options)) }
    } finally {
      await server.kill('SIGTERM')
    }
  } finally {
    await store.stop()
  }
}

async function workload(
  base: string,
  accounts: ProofAccount[],
  options: CompletenessOptions,
): Promise<Omit<CompletenessReport, 'backend'>> {
  const random = seededRandom(options.seed)
  const acks: Ack[] = []
  const owner = new Map<string, number>()
  let writeErrors = 0
  let batchesAcked = 0
  let writing = true
  const deadline = Date.now() + options.seconds * 1000

  // Freshness: when each ack was first seen by any strict exporter of its account.
  const firstSeen = new Map<string, number>()
  const ackKey = (chatId: string, messages: number) => `${chatId}#${messages}`
  const ackedAt = new Map<string, number>()

  const writer = async (w: number) => {
    const account = accounts[w % accounts.length] as ProofAccount
    const open: ChatScript[] = []
    let made = 0
    while (Date.now() < deadline) {
      let batch: unknown[]
      let touched: ChatScript[]
      if (open.length < 2 || (open.length < 6 && random() < 0.25)) {
        made += 1
        const suffix = `${options.seed}w${w}c${made}`.padStart(12, '0').slice(-12)
        const chat = new ChatScript(
          `2611.${account.id}${w}.P${suffix}`,
          `s${options.seed}-w${w}-c${made}`,
        )
        owner.set(chat.chatId, account.id)
        batch = chat.start()
        touched = [chat]
      } else {
        // Sometimes one batch touches several chats: one transaction, several versions.
        const n = random() < 0.3 ? Math.min(open.length, 1 + Math.floor(random() * 3)) : 1
        const start = Math.floor(random() * open.length)
        touched = Array.from({ length: n }, (_, i) => open[(start + i) % open.length] as ChatScript)
        batch = touched.flatMap((chat) => chat.message())
      }
      const status = await postEvents(base, account.token, batch)
      const at = Date.now()
      if (status === 200) {
        batchesAcked += 1
        for (const chat of touched) {
          chat.acked += 1
          acks.push({ account: account.id, chatId: chat.chatId, messages: chat.acked, at })
          ackedAt.set(ackKey(chat.chatId, chat.acked), at)
          if (!open.includes(chat)) open.push(chat)
        }
      } else {
        writeErrors += 1
        // Its state is unknown now (the batch may or may not have committed): stop writing to it.
        for (const chat of touched) open.splice(open.indexOf(chat), 1)
      }
      if (open.length > 8) open.shift()
    }
  }

  let pagesFetched = 0
  const exportErrorStatuses: Record<number, number> = {}
  const exportError = (status: number) => {
    exportErrorStatuses[status] = (exportErrorStatuses[status] ?? 0) + 1
  }
  let duplicated = 0
  let outOfOrder = 0
  let crossAccount = 0
  let refetches = 0
  let refetchMissing = 0
  let restarts = 0
  let maxRestartRepeat = 0
  const seenBy: Array<Map<string, number>> = []

  const exporter = async (e: number) => {
    const account = accounts[e % accounts.length] as ProofAccount
    const seen = new Map<string, number>() // chat id → most messages seen
    seenBy[e] = seen
    const versions = new Set<string>()
    let last: { pos: number; id: string } | undefined
    let url = `${base}${CHATS}?fields=chats(*)&start_time=0`
    let restartFrom: { pos: number; id: string } | undefined
    let idleAfterStop = 0
    for (;;) {
      const limit = random() < 0.2 ? 1000 : 1 + Math.floor(random() * 50)
      const request = new URL(url)
      request.searchParams.set('limit', String(limit))
      const page = await getPage(request.toString(), account.token)
      pagesFetched += 1
      if (page.status !== 200) {
        exportError(page.status)
        await sleep(50)
        continue
      }
      const now = Date.now()
      let repeats = 0
      for (const item of page.items) {
        const pos = parseIso(item.position) ?? Number.NaN
        if (owner.get(item.id) !== account.id) crossAccount += 1
        if (restartFrom && !after({ pos, id: item.id }, restartFrom)) {
          // Already seen before the restart from end_time alone: expected, and bounded.
          repeats += 1
          continue
        }
        const key = `${item.id}@${item.position}`
        if (versions.has(key)) duplicated += 1
        versions.add(key)
        if (last && !after({ pos, id: item.id }, last)) outOfOrder += 1
        last = { pos, id: item.id }
        const before = seen.get(item.id) ?? 0
        if (item.messages < before) outOfOrder += 1
        seen.set(item.id, Math.max(before, item.messages))
        for (let k = before + 1; k <= item.messages; k++) {
          const ak = ackKey(item.id, k)
          if (!firstSeen.has(ak)) firstSeen.set(ak, now)
        }
      }
      if (restartFrom) {
        restarts += 1
        maxRestartRepeat = Math.max(maxRestartRepeat, repeats)
        restartFrom = undefined
      }
      const caughtUp = page.count < limit
      if (!writing && caughtUp) {
        idleAfterStop += 1
        // Two caught-up pages after the writers stopped: everything acknowledged was exportable.
        if (idleAfterStop >= 2) break
      }
      const roll = random()
      if (roll < 0.1 && page.count > 0) {
        refetches += 1
        const again = await getPage(request.toString(), account.token)
        pagesFetched += 1
        if (again.status === 200) {
          const had = new Set(page.items.map((i) => `${i.id}@${i.position}`))
          const end = { pos: lastPos(page), id: page.endId }
          for (const item of again.items) {
            const point = { pos: parseIso(item.position) ?? Number.NaN, id: item.id }
            // An item at or before the first answer's end that the first answer did not hold
            // was committed behind a cursor already handed out: a loss for a next_page client.
            if (!after(point, end) && !had.has(`${item.id}@${item.position}`)) {
              // Unless the chat moved on in between (its old version left, a new one came after).
              if ((seen.get(item.id) ?? 0) < item.messages) refetchMissing += 1
            }
          }
        } else exportError(again.status)
      }
      if (roll > 0.95 && page.count > 0 && last) {
        // A client that kept only end_time (start_id dropped) and restarts from it.
        url = `${base}${CHATS}?fields=chats(*)&start_time=${page.endTime}`
        restartFrom = last
      } else {
        url = page.nextPage
      }
      if (caughtUp) await sleep(10 + Math.floor(random() * 20))
    }
  }

  const naiveSeen = new Map<string, number>()
  const naive = async (account: ProofAccount) => {
    const seen = new Map<string, number>()
    let startTime = 0
    let idleAfterStop = 0
    for (;;) {
      const limit = 1 + Math.floor(random() * 5)
      const page = await getPage(
        `${base}${CHATS}?fields=chats(*)&start_time=${startTime}&limit=${limit}`,
        account.token,
      )
      if (page.status !== 200) {
        // A whole-second bookmark can run ahead of the clock: wait for it.
        await sleep(100)
        continue
      }
      for (const item of page.items) {
        seen.set(item.id, Math.max(seen.get(item.id) ?? 0, item.messages))
      }
      if (page.count > 0) startTime = Math.floor(Number(page.endTime)) + 1
      const caughtUp = page.count < limit
      if (!writing && caughtUp && ++idleAfterStop >= 3) break
      if (caughtUp) await sleep(20)
    }
    for (const [id, m] of seen) naiveSeen.set(id, m)
  }

  options.log(
    `writing with ${options.writers} writers, exporting with ${options.exporters} exporters for ${options.seconds} s…`,
  )
  const progress = setInterval(
    () => options.log(`  ${acks.length} versions acknowledged, ${pagesFetched} pages fetched`),
    5000,
  )
  const writersDone = Promise.all(
    Array.from({ length: options.writers }, (_, w) => writer(w)),
  ).then(() => {
    writing = false
  })
  const exportersDone = Promise.all([
    ...Array.from({ length: options.exporters }, (_, e) => exporter(e)),
    ...accounts.map((a) => naive(a)),
  ])
  await writersDone
  await exportersDone
  clearInterval(progress)

  // Lost: an acknowledged version whose content some strict exporter of its account never saw.
  let lost = 0
  let naiveLost = 0
  const latest = new Map<string, Ack>()
  for (const ack of acks) latest.set(ack.chatId, ack)
  for (const ack of acks) {
    for (let e = 0; e < options.exporters; e++) {
      if ((accounts[e % accounts.length] as ProofAccount).id !== ack.account) continue
      if ((seenBy[e]?.get(ack.chatId) ?? 0) < ack.messages) {
        lost += 1
        break
      }
    }
    if ((naiveSeen.get(ack.chatId) ?? 0) < ack.messages) naiveLost += 1
  }
  const freshness: number[] = []
  for (const [key, at] of ackedAt) {
    const seenAt = firstSeen.get(key)
    if (seenAt !== undefined) freshness.push(Math.max(0, seenAt - at))
  }
  return {
    batchesAcked,
    versionsWritten: acks.length,
    chats: latest.size,
    writeErrors,
    pagesFetched,
    exportErrors: Object.values(exportErrorStatuses).reduce((sum, n) => sum + n, 0),
    exportErrorStatuses,
    lost,
    duplicated,
    outOfOrder,
    crossAccount,
    refetches,
    refetchMissing,
    restarts,
    maxRestartRepeat,
    freshnessP50Ms: percentile(freshness, 50),
    freshnessP99Ms: percentile(freshness, 99),
    freshnessMaxMs: percentile(freshness, 100),
    naiveLost,
  }
}

/** The cursor point of a page's last item (its end_time in microseconds). */
function lastPos(page: { endTime: string }): number {
  const [whole, fraction = ''] = page.endTime.split('.')
  return Number(whole) * 1_000_000 + Number(fraction.padEnd(6, '0').slice(0, 6))
}

function after(a: { pos: number; id: string }, b: { pos: number; id: string }): boolean {
  return a.pos > b.pos || (a.pos === b.pos && a.id > b.id)
}
