/**
 * The SQLite store's read pool: page queries on read-only connections in worker threads, so that
 * a server reads pages on every core instead of one. Only pages go there; everything else (and
 * every write) stays on the store's connections in this thread, so positions and commit order
 * are those of docs/positions.md whatever the pool does. Each page is still one SELECT on one
 * connection: one committed snapshot, as on the reader in this thread.
 *
 * A page comes back as one buffer of all its bodies (transferred, not copied) plus positions,
 * sort ids and offsets; each row's `body` is a view of that buffer.
 * @module
 */
import { Worker } from 'node:worker_threads'
import Database from 'better-sqlite3'
import { AppError } from '../../domain/errors.js'
import type { PageBody, StoredRow } from '../store.js'
import { storeClosedError } from '../store-rules.js'
import { DRIVER_URL } from './driver-url.js'
import { READ_PRAGMAS, toStoreError } from './sqlite-connection.js'
import type { PageForm } from './sqlite-statements.js'
import { PAGE_SQL } from './sqlite-statements.js'
import type { PageReply, PageRequest, ReadWorkerData } from './sqlite-read-worker.js'
import { READ_WORKER_SOURCE } from './sqlite-read-worker.js'

/**
 * Pages sent to one worker before it answers. Two: the worker never waits for its next query
 * while the main thread takes the last one apart; more would only move the queue into the worker,
 * where a request cannot go to whichever worker is free first.
 */
export const PAGES_PER_WORKER = 2

/** Wait before replacing a worker that died without answering (doubled each time, to 5 s). */
const FIRST_RESTART_DELAY_MS = 100
const MAX_RESTART_DELAY_MS = 5000

export interface ReadPoolOptions {
  /** The database file (the store's writer has created it and set WAL). */
  path: string
  /** Worker threads, at least 1. */
  workers: number
  busyTimeoutMs: number
}

interface Pending {
  request: PageRequest
  resolve: (rows: StoredRow[]) => void
  reject: (error: Error) => void
}

interface Slot {
  worker: Worker | undefined
  /** Sent to this worker and not answered yet, by request id. */
  inFlight: Map<number, Pending>
  /** Whether the current worker has answered once (it opened the database). */
  answered: boolean
  restartDelayMs: number
  restartTimer: NodeJS.Timeout | undefined
}

/** The error of a request whose worker stopped before answering it. */
function workerLost(cause: unknown): AppError {
  return new AppError(
    'STORE_UNAVAILABLE',
    'A database reader stopped while reading this page. Try again in a moment.',
    { retryAfterSeconds: 1, cause },
  )
}

/**
 * Worker threads that answer page queries. Requests beyond {@link PAGES_PER_WORKER} per worker
 * wait here, in arrival order. A worker that dies is replaced; the requests it held fail with
 * STORE_UNAVAILABLE. Idle workers do not keep the process alive.
 */
export class SqliteReadPool {
  private readonly slots: Slot[]
  private readonly queue: Pending[] = []
  private readonly data: ReadWorkerData
  private nextId = 1
  private outstanding = 0
  private drained: (() => void) | undefined
  private closing: Promise<void> | undefined

  /** Starts `options.workers` workers (they open their connections in the background). */
  constructor(options: ReadPoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new Error(`A read pool needs at least one worker (got ${options.workers}).`)
    }
    this.data = {
      driver: DRIVER_URL,
      path: options.path,
      busyTimeoutMs: options.busyTimeoutMs,
      pragmas: READ_PRAGMAS,
      sql: PAGE_SQL,
    }
    this.slots = Array.from({ length: options.workers }, () => ({
      worker: undefined,
      inFlight: new Map<number, Pending>(),
      answered: false,
      restartDelayMs: FIRST_RESTART_DELAY_MS,
      restartTimer: undefined,
    }))
    for (const slot of this.slots) this.start(slot)
  }

  /** Runs one page statement in a worker; driver errors map as on the reader in this thread. */
  readPage(
    form: PageForm,
    body: PageBody,
    args: readonly (number | string)[],
  ): Promise<StoredRow[]> {
    if (this.closing) return Promise.reject(storeClosedError())
    return new Promise<StoredRow[]>((resolve, reject) => {
      this.outstanding++
      const settle = () => {
        this.outstanding--
        if (this.outstanding === 0) this.drained?.()
      }
      this.queue.push({
        request: { id: this.nextId++, form, body, args },
        resolve: (rows) => {
          settle()
          resolve(rows)
        },
        reject: (error) => {
          settle()
          reject(error)
        },
      })
      this.dispatch()
    })
  }

  /** The number of worker threads running now. */
  get threads(): number {
    return this.slots.filter((slot) => slot.worker !== undefined).length
  }

  /**
   * Test hook: stops worker `index` as a crash would (its requests fail, a new one takes its
   * place). Resolves once it has stopped.
   */
  async terminateWorker(index: number): Promise<void> {
    await this.slots[index]?.worker?.terminate()
  }

  /**
   * Refuses new reads, lets those already asked for finish, then stops every worker. Resolves
   * when no thread is left.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const slot of this.slots) clearTimeout(slot.restartTimer)
      this.failQueuedIfNoWorker()
      if (this.outstanding > 0) {
        await new Promise<void>((resolve) => (this.drained = resolve))
      }
      await Promise.all(
        this.slots.map(async (slot) => {
          const worker = slot.worker
          if (worker === undefined) return
          // Referenced, so that the process waits for the thread to stop before `close` resolves.
          worker.ref()
          await worker.terminate()
        }),
      )
    })()
    return this.closing
  }

  private start(slot: Slot): void {
    slot.restartTimer = undefined
    const worker = new Worker(READ_WORKER_SOURCE, { eval: true, workerData: this.data })
    slot.worker = worker
    slot.answered = false
    let crash: unknown
    worker.on('message', (reply: PageReply) => this.answer(slot, reply))
    // Without a listener an uncaught error in the worker would be thrown in this thread.
    worker.on('error', (error) => (crash = error))
    worker.on('exit', (code) => this.stopped(slot, worker, crash ?? new Error(`exit code ${code}`)))
    // After the listeners: adding a 'message' listener references the worker again.
    worker.unref()
  }

  private answer(slot: Slot, reply: PageReply): void {
    const pending = slot.inFlight.get(reply.id)
    if (pending === undefined) return
    slot.inFlight.delete(reply.id)
    if (slot.inFlight.size === 0) slot.worker?.unref()
    slot.answered = true
    slot.restartDelayMs = FIRST_RESTART_DELAY_MS
    if ('error' in reply) {
      const { message, code } = reply.error
      // Rebuilt as the driver's own error, so toStoreError maps it as it maps the reader's here.
      const error =
        code === undefined ? new Error(message) : new Database.SqliteError(message, code)
      // toStoreError returns the error it was given or an AppError: an Error either way.
      pending.reject(toStoreError(error) as Error)
    } else {
      pending.resolve(rowsOf(reply))
    }
    this.dispatch()
  }

  private stopped(slot: Slot, worker: Worker, cause: unknown): void {
    if (slot.worker !== worker) return
    slot.worker = undefined
    const lost = [...slot.inFlight.values()]
    slot.inFlight.clear()
    for (const pending of lost) pending.reject(workerLost(cause))
    if (this.closing === undefined) {
      if (slot.answered) {
        this.start(slot)
      } else {
        // It died before answering anything (it may not be able to open the file): wait, so a
        // worker that cannot start does not restart in a tight loop.
        slot.restartTimer = setTimeout(() => this.start(slot), slot.restartDelayMs)
        slot.restartTimer.unref()
        slot.restartDelayMs = Math.min(slot.restartDelayMs * 2, MAX_RESTART_DELAY_MS)
      }
    }
    this.failQueuedIfNoWorker()
    this.dispatch()
  }

  /** Sends queued requests to the least busy workers that have room. */
  private dispatch(): void {
    while (this.queue.length > 0) {
      let best: Slot | undefined
      for (const slot of this.slots) {
        if (slot.worker === undefined || slot.inFlight.size >= PAGES_PER_WORKER) continue
        if (best === undefined || slot.inFlight.size < best.inFlight.size) best = slot
      }
      if (best?.worker === undefined) return
      const pending = this.queue.shift()
      if (pending === undefined) return
      best.inFlight.set(pending.request.id, pending)
      if (best.inFlight.size === 1) best.worker.ref()
      best.worker.postMessage(pending.request)
    }
  }

  /** With every worker waiting to restart, a queued request would wait seconds: it fails now. */
  private failQueuedIfNoWorker(): void {
    if (this.slots.some((slot) => slot.worker !== undefined)) return
    for (const pending of this.queue.splice(0)) {
      pending.reject(workerLost(new Error('no read worker is running')))
    }
  }
}

/** The rows of a page: each body a view of the one transferred buffer, none copied. */
function rowsOf(reply: Extract<PageReply, { positions: Float64Array }>): StoredRow[] {
  const { positions, sortIds, offsets } = reply
  const bytes = Buffer.from(reply.bytes.buffer, reply.bytes.byteOffset, reply.bytes.byteLength)
  const rows = new Array<StoredRow>(positions.length)
  for (let i = 0; i < positions.length; i++) {
    rows[i] = {
      position: positions[i] ?? 0,
      sortId: sortIds[i] ?? '',
      body: bytes.subarray(offsets[i], offsets[i + 1]),
    }
  }
  return rows
}
