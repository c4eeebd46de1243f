/**
 * The slow-readers proof (issue 13, finding 5): many readers that take full export pages at a few
 * KB/s (or never read at all) and writers posting live events, at once, against a real server
 * child; the child's resident memory is sampled from /proc all along. Readers honour 503 with
 * Retry-After as a connector should; writers measure how long an acknowledgement takes while the
 * readers hold the server's sockets, and every acknowledged message must be exported at the end.
 * @module
 */
import { request, type IncomingMessage } from 'node:http'
import { readFile } from 'node:fs/promises'
import { performance } from 'node:perf_hooks'
import { createBrotliDecompress, createGunzip } from 'node:zlib'
import { syntheticChats } from '../bench/bench-data.js'
import { DEFAULT_LIMITS } from '../config/limits-config.js'
import { systemClock } from '../domain/clock.js'
import { streamSpec } from '../domain/streams.js'
import { importItems } from '../ingest/import-items.js'
import { openStore } from '../store/open-store.js'
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

export interface SlowReadersOptions {
  readers: number
  writers: number
  seconds: number
  /** Bytes per second each steady reader takes (each gets 1–2× this). */
  rate: number
  /** Readers that never read their page (dropped by the send timeout, or not). */
  stalled: number
  /**
   * Each writer posts one batch every this many ms (at once when the last took longer): a chat
   * widget's pace, not a flood; closed-loop writers as fast as they can measure SQLite's commit
   * rate instead, whose fsyncs block the event loop.
   */
  writeIntervalMs: number
  /** Chats loaded before the run (1000 make one full page). */
  chats: number
  /**
   * Kilobytes of each loaded chat (a synthetic chat is about 3.5 KB; a `comment` of random text
   * pads it). Pages must be larger than what loopback socket buffers swallow (some 4 MB), or a
   * reader that never reads costs the server nothing and the send timeout is never exercised.
   */
  chatKb: number
  seed: number
  /** `sqlite` (default), `postgres`, or a store URL. */
  store: string
  /** Server settings given as flags; the server's defaults when undefined (the point is that they hold). */
  sendTimeoutSeconds?: number | undefined
  maxBytesInFlight?: number | undefined
  log: (line: string) => void
}

export interface SlowReadersReport {
  backend: string
  readers: number
  stalled: number
  rate: number
  writers: number
  writeIntervalMs: number
  chats: number
  chatKb: number
  /** Bytes of the first full page (`fields=chats(*)&limit=1000`), uncompressed. */
  pageBytes: number
  /** Page responses that began (200 headers received). */
  pagesStarted: number
  /** Pages read to their end. */
  pagesCompleted: number
  overloaded503: number
  /** Pages whose connection the server closed before the end (the send timeout). */
  dropped: number
  /** Of those, pages of readers that never read. */
  droppedStalled: number
  /** Answers that are 5xx but not 503 OVERLOADED, or other unexpected statuses. */
  unexpected: string[]
  readerErrors: number
  rssStartMb: number
  rssPeakMb: number
  /** Peak of RssAnon (VmRSS without file pages). */
  anonPeakMb: number
  hwmMb: number
  rssSamples: number
  writerBatchesAcked: number
  writerErrors: number
  writerP50Ms: number
  writerP99Ms: number
  writerMaxMs: number
  lostAcked: number
  healthzP50Ms: number
  healthzP99Ms: number
  healthzMaxMs: number
  healthzErrors: number
}

const CHATS = '/api/v2/chat/incremental/chats'
const FIRST_PAGE = `${CHATS}?fields=chats(*)&limit=1000&start_time=0`
/** What a reader keeps of a page: its tail, which holds count and next_page. */
const TAIL_BYTES = 8192

/** Loads the run, starts the server child, runs the load, and stops everything. */
export async function runSlowReaders(options: SlowReadersOptions): Promise<SlowReadersReport> {
  const store = await proofStore(options.store, options.log)
  try {
    const accounts = await createProofAccounts(store.url, 1)
    const account = accounts[0] as ProofAccount
    await loadChats(store.url, account.id, options, options.log)
    const args: string[] = []
    if (options.sendTimeoutSeconds !== undefined)
      args.push('--send-timeout', String(options.sendTimeoutSeconds))
    if (options.maxBytesInFlight !== undefined)
      args.push('--max-bytes-in-flight', String(options.maxBytesInFlight))
    const server = await spawnProofServer(store.url, {}, args)
    try {
      const result = await workload(server.url, server.pid, account, options)
      return { backend: store.backend, ...result }
    } finally {
      await server.kill('SIGTERM')
    }
  } finally {
    await store.stop()
  }
}

/** Imports the synthetic chats, padded to `chatKb` each, straight into the store. */
async function loadChats(
  url: string,
  accountId: number,
  options: { chats: number; chatKb: number; seed: number },
  log: (l: string) => void,
) {
  const count = options.chats
  const random = seededRandom(options.seed)
  // Random text, so compressed pages are not trivially small either.
  const pool = Array.from({ length: 256 * 1024 }, () =>
    String.fromCharCode(97 + Math.floor(random() * 26)),
  ).join('')
  const pad = Math.max(0, options.chatKb * 1000 - 3500)
  const clock = systemClock()
  const store = await openStore(url, { clock })
  try {
    const spec = streamSpec('chats')
    const chunk = 2000
    const end = clock.now() - 10_000_000
    for (let first = 0; first < count; first += chunk) {
      const n = Math.min(chunk, count - first)
      const chunkEnd = end - (count - first - n) * 2_000_000
      const items = syntheticChats(n, chunkEnd, 1 + first / chunk).map((raw, i) => {
        const at = Math.floor(random() * (pool.length - pad))
        const comment = pad > 0 ? pool.slice(at, at + pad) : null
        return { line: first + i + 1, item: spec.prepare({ ...raw, comment }) }
      })
      await importItems(store, accountId, 'chats', items, {
        preserveTimestamps: false,
        now: clock.now(),
      })
    }
    log(`loaded ${count} chats of about ${options.chatKb} KB`)
  } finally {
    await store.close()
  }
}

/**
 * VmRSS, its anonymous part and VmHWM of a process in MB (10^6 bytes), from /proc (Linux). The
 * rest of VmRSS is file pages (SQLite reads its file through mmap), which the kernel may drop.
 */
async function memoryOf(
  pid: number,
): Promise<{ rss: number; anon: number; hwm: number } | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const kb = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN)
    const rss = kb('VmRSS')
    if (!Number.isFinite(rss)) return undefined
    const mb = (n: number) => (n * 1024) / 1e6
    return { rss: mb(rss), anon: mb(kb('RssAnon')), hwm: mb(kb('VmHWM')) }
  } catch {
    return undefined
  }
}

type Outcome =
  | { kind: 'page'; complete: boolean; count: number; nextPage: string }
  | { kind: 'retry'; afterMs: number }
  | { kind: 'other'; status: number }
  | { kind: 'error' }
  | { kind: 'stopped' }

interface ReaderPlan {
  token: string
  /** Bytes per second; 0 never reads. */
  rate: number
  acceptEncoding: string | undefined
  /** When a stalled reader may take its page at last (so the send timeout has had its chance). */
  releaseAt: () => number
  stopped: () => boolean
  onStart: () => void
  /** Requests under way, so a stop ends them at once (a throttled reader may sleep for seconds). */
  active: Set<{ destroy(): void }>
}

/**
 * One GET of a page over its own connection, read at `plan.rate` bytes per second (the socket is
 * paused between reads, so the server sees the slowness through TCP back-pressure).
 */
function readPage(url: string, plan: ReaderPlan): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false
    const settle = (o: Outcome) => {
      if (!settled) {
        settled = true
        resolve(o)
      }
    }
    const headers: Record<string, string> = { authorization: `Bearer ${plan.token}` }
    if (plan.acceptEncoding) headers['accept-encoding'] = plan.acceptEncoding
    const req = request(url, { agent: false, headers })
    plan.active.add(req)
    req.once('close', () => plan.active.delete(req))
    req.on('error', () => settle(plan.stopped() ? { kind: 'stopped' } : { kind: 'error' }))
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0
      if (status !== 200) {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (text += c))
        res.on('end', () => {
          if (status === 503 && /too many export bytes/i.test(text)) {
            const seconds = Number(res.headers['retry-after'] ?? '1')
            settle({ kind: 'retry', afterMs: (Number.isFinite(seconds) ? seconds : 1) * 1000 })
          } else settle({ kind: 'other', status })
        })
        res.on('error', () => settle({ kind: 'error' }))
        return
      }
      plan.onStart()
      let tail = Buffer.alloc(0)
      const keep = (chunk: Buffer) => {
        tail = Buffer.concat([tail, chunk])
        if (tail.length > TAIL_BYTES) tail = tail.subarray(tail.length - TAIL_BYTES)
      }
      const coding = res.headers['content-encoding']
      const decoder =
        coding === 'gzip' ? createGunzip() : coding === 'br' ? createBrotliDecompress() : undefined
      decoder?.on('data', keep)
      decoder?.on('error', () => {})
      const finish = () => {
        const text = tail.toString('utf8')
        const count = Number(/"count":(\d+)/.exec(text)?.[1] ?? -1)
        const nextPage = /"next_page":"([^"]+)"/.exec(text)?.[1] ?? ''
        settle({ kind: 'page', complete: res.complete, count, nextPage })
      }
      res.on('data', (chunk: Buffer) => {
        if (decoder) decoder.write(chunk)
        else keep(chunk)
        if (plan.stopped()) {
          req.destroy()
          return
        }
        if (plan.rate > 0) {
          res.pause()
          setTimeout(() => res.resume(), (chunk.length / plan.rate) * 1000)
        }
      })
      // Ended, or the server closed it before the end (res.complete tells which).
      res.on('close', () => {
        if (plan.stopped() && !res.complete) settle({ kind: 'stopped' })
        else if (decoder && res.complete) decoder.end(finish)
        else finish()
      })
      res.on('error', () => {})
      if (plan.rate === 0) {
        res.pause()
        const wait = () => {
          if (Date.now() >= plan.releaseAt()) res.resume()
          else setTimeout(wait, 250)
        }
        wait()
      }
    })
    req.end()
  })
}

async function workload(
  base: string,
  pid: number,
  account: ProofAccount,
  options: SlowReadersOptions,
): Promise<Omit<SlowReadersReport, 'backend'>> {
  const random = seededRandom(options.seed)
  const sendTimeoutMs = (options.sendTimeoutSeconds ?? DEFAULT_LIMITS.sendTimeoutSeconds) * 1000

  // The size of one full page, measured once before the load starts.
  const probe = await getPage(`${base}${FIRST_PAGE}`, account.token)
  const pageBytes = Buffer.byteLength(probe.raw)
  await sleep(500)
  const start = await memoryOf(pid)
  const rssStartMb = start?.rss ?? 0
  let rssPeakMb = rssStartMb
  let anonPeakMb = start?.anon ?? 0
  let rssSamples = 0
  let sampling = true
  const sampler = (async () => {
    while (sampling) {
      const m = await memoryOf(pid)
      if (m) {
        rssSamples += 1
        rssPeakMb = Math.max(rssPeakMb, m.rss)
        anonPeakMb = Math.max(anonPeakMb, m.anon)
      }
      await sleep(100)
    }
  })()

  const deadline = Date.now() + options.seconds * 1000
  let stopping = false
  let pagesStarted = 0
  let pagesCompleted = 0
  let overloaded503 = 0
  let dropped = 0
  let droppedStalled = 0
  let readerErrors = 0
  const unexpected: string[] = []

  const active = new Set<{ destroy(): void }>()
  const reader = async (r: number) => {
    const stalled = r < options.stalled
    // A mix of what connectors send: most ask for gzip (python requests, Airbyte), some nothing.
    const roll = random()
    const acceptEncoding = roll < 0.5 ? 'gzip, deflate' : roll < 0.7 ? 'br, gzip' : undefined
    const rate = stalled ? 0 : Math.round(options.rate * (1 + random()))
    let startedAt = 0
    const plan: ReaderPlan = {
      token: account.token,
      rate,
      acceptEncoding: stalled ? undefined : acceptEncoding,
      // The page is held until the send timeout has passed, or the run is over. The timeout counts
      // from the server's last progress, which on a loaded machine comes seconds after the first
      // byte (the kernel's buffers fill slowly): a wide margin, or resuming would save the page.
      releaseAt: () => Math.max(startedAt + sendTimeoutMs * 1.5 + 5000, deadline),
      stopped: () => stopping && !stalled,
      active: stalled ? new Set() : active,
      onStart: () => {
        startedAt = Date.now()
        pagesStarted += 1
      },
    }
    // Readers do not all arrive in the same millisecond. The stalled ones come first, so they hold
    // pages (and the send timeout has something to drop) before steady readers fill the bound.
    const delay = 200 + Math.floor(random() * 1000)
    if (!stalled) await sleep(delay)
    let url = `${base}${FIRST_PAGE}`
    while (!stopping && Date.now() < deadline) {
      const outcome = await readPage(url, plan)
      if (outcome.kind === 'stopped') break
      if (outcome.kind === 'retry') {
        overloaded503 += 1
        await sleep(outcome.afterMs)
      } else if (outcome.kind === 'other') {
        if (unexpected.length < 20) unexpected.push(`reader: ${outcome.status}`)
        await sleep(1000)
      } else if (outcome.kind === 'error') {
        readerErrors += 1
        await sleep(1000)
      } else if (!outcome.complete) {
        dropped += 1
        if (stalled) {
          droppedStalled += 1
          // It is the send timeout's to drop, once: a stalled reader does not come back.
          break
        }
      } else {
        pagesCompleted += 1
        if (stalled) break
        // Caught up: poll the next_page like a connector, a second later.
        if (outcome.count < 1000) await sleep(1000)
        url = outcome.nextPage || `${base}${FIRST_PAGE}`
      }
    }
  }

  let writerBatchesAcked = 0
  let writerErrors = 0
  const latencies: number[] = []
  const scripts: ChatScript[] = []
  const writer = async (w: number) => {
    let chat: ChatScript | undefined
    while (Date.now() < deadline) {
      if (!chat || chat.acked >= 20) {
        chat = new ChatScript(
          `2611.${account.id}${w}.S${String(options.seed * 1_000_000 + w * 10_000 + scripts.length).padStart(12, '0')}`,
          `slow${options.seed}-w${w}-c${scripts.length}`,
        )
        scripts.push(chat)
      }
      const batch = chat.acked === 0 ? chat.start() : chat.message()
      const next = Date.now() + options.writeIntervalMs * (0.5 + random())
      const t0 = performance.now()
      const status = await postEvents(base, account.token, batch)
      latencies.push(performance.now() - t0)
      if (status === 200) {
        writerBatchesAcked += 1
        chat.acked += 1
      } else {
        writerErrors += 1
        if (unexpected.length < 20) unexpected.push(`writer: ${status || 'no answer'}`)
        // Its state is unknown (the batch may have committed): leave this chat.
        chat = undefined
      }
      await sleep(Math.max(0, next - Date.now()))
    }
  }

  const health: number[] = []
  let healthzErrors = 0
  const healthz = async () => {
    while (Date.now() < deadline) {
      const t0 = performance.now()
      try {
        const res = await fetch(`${base}/healthz`)
        await res.arrayBuffer()
        if (res.status !== 200) {
          healthzErrors += 1
          if (unexpected.length < 20) unexpected.push(`healthz: ${res.status}`)
        }
      } catch {
        healthzErrors += 1
      }
      health.push(performance.now() - t0)
      await sleep(100)
    }
  }

  options.log(
    `${options.readers} readers (${options.stalled} never reading) at ~${options.rate} B/s, ${options.writers} writers (a batch every ~${options.writeIntervalMs} ms), ${options.seconds} s; page ${(pageBytes / 1e6).toFixed(1)} MB, RSS at start ${rssStartMb.toFixed(0)} MB`,
  )
  const progress = setInterval(
    () =>
      options.log(
        `  RSS peak ${rssPeakMb.toFixed(0)} MB; pages ${pagesStarted} started / ${pagesCompleted} read; 503 ${overloaded503}; dropped ${dropped}; writes ${writerBatchesAcked} acked / ${writerErrors} errors`,
      ),
    5000,
  )
  const readersDone = Promise.all(Array.from({ length: options.readers }, (_, r) => reader(r)))
  await Promise.all([
    ...Array.from({ length: options.writers }, (_, w) => writer(w)),
    healthz(),
    sleep(options.seconds * 1000),
  ])
  // The steady readers stop now; a stalled one ends once it has taken its page after the send
  // timeout had its chance (so the run lasts up to 1.5 send timeouts longer than --seconds).
  stopping = true
  for (const req of active) req.destroy()
  options.log('waiting for the stalled readers (send timeout)…')
  await readersDone
  clearInterval(progress)
  sampling = false
  await sampler
  const end = await memoryOf(pid)

  // Every acknowledged message must be exported (the readers did not cost a write).
  const seen = new Map<string, number>()
  let url = `${base}${CHATS}?fields=chats(*)&limit=1000&start_time=0`
  for (let guard = 0; guard < 10_000; guard++) {
    const page = await getPage(url, account.token)
    if (page.status === 503) {
      await sleep(1000)
      continue
    }
    if (page.status !== 200) {
      unexpected.push(`final export: ${page.status}`)
      break
    }
    for (const item of page.items)
      seen.set(item.id, Math.max(seen.get(item.id) ?? 0, item.messages))
    if (page.count < 1000) break
    url = page.nextPage
  }
  let lostAcked = 0
  for (const script of scripts) {
    if ((seen.get(script.chatId) ?? 0) < script.acked) lostAcked += 1
  }

  return {
    readers: options.readers,
    stalled: options.stalled,
    rate: options.rate,
    writers: options.writers,
    writeIntervalMs: options.writeIntervalMs,
    chats: options.chats,
    chatKb: options.chatKb,
    pageBytes,
    pagesStarted,
    pagesCompleted,
    overloaded503,
    dropped,
    droppedStalled,
    unexpected,
    readerErrors,
    rssStartMb: round(rssStartMb),
    rssPeakMb: round(Math.max(rssPeakMb, end?.rss ?? 0)),
    anonPeakMb: round(anonPeakMb),
    hwmMb: round(end?.hwm ?? 0),
    rssSamples,
    writerBatchesAcked,
    writerErrors,
    writerP50Ms: round(percentile(latencies, 50)),
    writerP99Ms: round(percentile(latencies, 99)),
    writerMaxMs: round(percentile(latencies, 100)),
    lostAcked,
    healthzP50Ms: round(percentile(health, 50)),
    healthzP99Ms: round(percentile(health, 99)),
    healthzMaxMs: round(percentile(health, 100)),
    healthzErrors,
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10
}
