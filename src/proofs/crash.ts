/**
 * The crash proof: SIGKILL the server child under write load, check the database image (SQLite:
 * `PRAGMA integrity_check`), restart, and check that every acknowledged event is exported and
 * that no position went backwards (per chat, and the newest position overall).
 * @module
 */
import Database from 'better-sqlite3'
import { parseIso } from '../domain/time.js'
import {
  ChatScript,
  createProofAccounts,
  getPage,
  postEvents,
  proofStore,
  seededRandom,
  sleep,
  spawnProofServer,
  type ProofAccount,
  type ProofServer,
} from './proof-support.js'

export interface CrashOptions {
  cycles: number
  /** `sqlite`, `postgres` or a store URL. */
  store: string
  writers: number
  seed: number
  log: (line: string) => void
}

export interface CrashReport {
  backend: string
  cycles: number
  eventsAcked: number
  chats: number
  lostAcked: number
  integrityErrors: number
  integrityChecks: number
  positionRegressions: number
  outOfOrder: number
  restartMsMax: number
}

/** Runs `cycles` kill/restart cycles over one store. */
export async function runCrash(options: CrashOptions): Promise<CrashReport> {
  const store = await proofStore(options.store, options.log)
  const random = seededRandom(options.seed)
  const report: CrashReport = {
    backend: store.backend,
    cycles: 0,
    eventsAcked: 0,
    chats: 0,
    lostAcked: 0,
    integrityErrors: 0,
    integrityChecks: 0,
    positionRegressions: 0,
    outOfOrder: 0,
    restartMsMax: 0,
  }
  const acked = new Map<string, { account: ProofAccount; messages: number }>()
  const lastPosition = new Map<string, number>()
  let newest = 0
  let server: ProofServer | undefined
  try {
    const accounts = await createProofAccounts(store.url, 2)
    server = await spawnProofServer(store.url)
    for (let cycle = 1; cycle <= options.cycles; cycle++) {
      // Write load, then SIGKILL in the middle of it.
      let writing = true
      const base = server.url
      const writers = Array.from({ length: options.writers }, async (_, w) => {
        const account = accounts[w % accounts.length] as ProofAccount
        let made = 0
        while (writing) {
          made += 1
          const chat = new ChatScript(
            `2611.${account.id}${w}.K${String(cycle * 1000 + made).padStart(11, '0')}`,
            `k${options.seed}-${cycle}-${w}-${made}`,
          )
          for (let m = 0; m < 4 && writing; m++) {
            const batch = m === 0 ? chat.start() : chat.message()
            const status = await postEvents(base, account.token, batch)
            if (status !== 200) return
            chat.acked += 1
            report.eventsAcked += batch.length
            acked.set(chat.chatId, { account, messages: chat.acked })
          }
        }
      })
      await sleep(200 + Math.floor(random() * 800))
      await server.kill('SIGKILL')
      writing = false
      await Promise.all(writers)

      if (store.backend === 'sqlite') {
        report.integrityChecks += 1
        if (!integrityOk(store.url.slice('sqlite:'.length))) report.integrityErrors += 1
      }
      const started = Date.now()
      server = await spawnProofServer(store.url)
      report.restartMsMax = Math.max(report.restartMsMax, Date.now() - started)

      // Everything acknowledged is exported; nothing moved back: no chat's position is lower
      // than last cycle, and whatever changed since sits after the newest position seen then.
      const newestBefore = newest
      for (const account of accounts) {
        const seen = await exportAll(server.url, account, report)
        for (const [chatId, truth] of acked) {
          if (truth.account !== account) continue
          const got = seen.get(chatId)
          if (!got || got.messages < truth.messages) report.lostAcked += 1
        }
        for (const [chatId, got] of seen) {
          const before = lastPosition.get(chatId)
          if (before !== undefined && got.pos < before) report.positionRegressions += 1
          if (got.pos !== before && got.pos <= newestBefore) report.positionRegressions += 1
          lastPosition.set(chatId, got.pos)
          newest = Math.max(newest, got.pos)
        }
      }
      report.cycles = cycle
      if (cycle % 5 === 0 || cycle === options.cycles) {
        options.log(
          `  cycle ${cycle}/${options.cycles}: ${report.eventsAcked} events acknowledged, ${report.lostAcked} lost, ${report.integrityErrors} integrity errors`,
        )
      }
    }
    report.chats = acked.size
    return report
  } finally {
    await server?.kill('SIGTERM')
    await store.stop()
  }
}

/** Opens the image as the next process would (WAL recovery) and runs the full check. */
function integrityOk(path: string): boolean {
  const db = new Database(path)
  try {
    const rows = db.pragma('integrity_check') as Array<{ integrity_check: string }>
    return rows.length === 1 && rows[0]?.integrity_check === 'ok'
  } finally {
    db.close()
  }
}

/** Follows next_page from the start; counts order violations; returns each chat's last version. */
async function exportAll(
  base: string,
  account: ProofAccount,
  report: CrashReport,
): Promise<Map<string, { messages: number; pos: number }>> {
  const seen = new Map<string, { messages: number; pos: number }>()
  let url = `${base}/api/v2/chat/incremental/chats?fields=chats(*)&start_time=0&limit=1000`
  let last: { pos: number; id: string } | undefined
  for (;;) {
    const page = await getPage(url, account.token)
    if (page.status !== 200) throw new Error(`export answered ${page.status}: ${page.raw}`)
    for (const item of page.items) {
      const pos = parseIso(item.position) ?? Number.NaN
      if (last && !(pos > last.pos || (pos === last.pos && item.id > last.id))) {
        report.outOfOrder += 1
      }
      last = { pos, id: item.id }
      seen.set(item.id, { messages: item.messages, pos })
    }
    if (page.count < 1000) return seen
    url = page.nextPage
  }
}
