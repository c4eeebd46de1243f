/**
 * The SQLite destination's writes, on a worker thread of their own with a connection of its own.
 *
 * A sync fetches page N + 1 while page N commits (run-sync.ts), but with the writes on the main
 * thread the two never ran at once: SQLite's work on a 1000-chat page (about 25 ms of inserts and
 * the transaction) held the thread that receives and scans the next page. Here the main thread
 * turns a page into a list of statement runs (`WriteOp`) and the item bytes into one buffer, hands
 * both to the worker (the buffer is transferred, not copied), and is free until the worker says
 * the transaction committed.
 *
 * The worker knows nothing of pages or streams: it prepares the SQL it was given once, and runs
 * each batch of operations in one transaction (better-sqlite3 rolls it back when anything throws),
 * one batch at a time, in the order they were sent. Fault hooks (tests) stay on the main thread: at
 * a hook point the worker asks the main thread and waits on a shared flag for the answer, so an
 * injected crash is thrown inside the worker's transaction, at the point it names.
 *
 * Like the store's read workers, the code is kept as text (it needs only the driver), and the
 * worker keeps the process alive only while a batch is in flight.
 * @module
 */
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { FaultHooks } from './destination.js'

/**
 * better-sqlite3's entry point as a file: URL, for the worker's eval'd code (which has no location
 * to resolve packages from). The store has the same three lines (store/sqlite/driver-url.ts); the
 * sync does not import the store (docs/architecture.md).
 */
const DRIVER_URL = pathToFileURL(createRequire(import.meta.url).resolve('better-sqlite3')).href

/** A parameter: a value, or `[start, end]`, the bytes of the batch's buffer between them. */
export type WriteParam = string | number | bigint | null | readonly [number, number]

/** Run statement `op[0]` with the parameters that follow it; a string is a fault-hook point. */
export type WriteOp = readonly [number, ...WriteParam[]] | string

export interface SqlitePageWriterOptions {
  path: string
  /** The SQL of every statement a batch may name, by index. */
  statements: readonly string[]
  /** `wal_autocheckpoint` for the worker's connection. */
  autocheckpointPages: number
  busyTimeoutMs: number
  hooks?: FaultHooks
}

interface WorkerData {
  driver: string
  path: string
  statements: readonly string[]
  autocheckpointPages: number
  busyTimeoutMs: number
  gate: SharedArrayBuffer | null
}

type WorkerMessage =
  | { type: 'ready' }
  | { type: 'hook'; point: string }
  | { type: 'done'; id: number }
  | { type: 'failed'; id: number; hook: boolean; message: string; code: string | undefined }
  | { type: 'closed' }

/** The gate's values: the worker waits while it is PENDING. */
const PENDING = 0
const CONTINUE = 1
const CRASH = 2

const WORKER_SOURCE = `'use strict'
import('node:worker_threads').then(async ({ parentPort, workerData }) => {
  const { default: Database } = await import(workerData.driver)
  let db
  try {
    db = new Database(workerData.path, { fileMustExist: true, timeout: workerData.busyTimeoutMs })
    db.pragma('synchronous = FULL')
    db.pragma('wal_autocheckpoint = ' + workerData.autocheckpointPages)
  } catch (error) {
    parentPort.postMessage({ type: 'failed', id: -1, hook: false, message: String(error && error.message), code: error && error.code })
    return
  }
  const statements = workerData.statements.map((sql) => db.prepare(sql))
  const gate = workerData.gate === null ? null : new Int32Array(workerData.gate)
  class HookCrash extends Error {}
  const hook = (point) => {
    if (gate === null) return
    Atomics.store(gate, 0, ${PENDING})
    parentPort.postMessage({ type: 'hook', point })
    Atomics.wait(gate, 0, ${PENDING})
    if (Atomics.load(gate, 0) === ${CRASH}) throw new HookCrash(point)
  }
  const run = db.transaction((ops, bytes) => {
    for (const op of ops) {
      if (typeof op === 'string') {
        hook(op)
        continue
      }
      const params = new Array(op.length - 1)
      for (let k = 1; k < op.length; k++) {
        const p = op[k]
        params[k - 1] = Array.isArray(p) ? bytes.subarray(p[0], p[1]) : p
      }
      statements[op[0]].run(params)
    }
  })
  parentPort.on('message', (message) => {
    if (message.type === 'close') {
      db.close()
      parentPort.postMessage({ type: 'closed' })
      parentPort.close()
      return
    }
    const bytes = Buffer.from(message.buffer)
    try {
      run(message.ops, bytes)
      parentPort.postMessage({ type: 'done', id: message.id })
    } catch (error) {
      parentPort.postMessage({
        type: 'failed',
        id: message.id,
        hook: error instanceof HookCrash,
        message: String(error && error.message),
        code: error && error.code,
      })
    }
  })
  parentPort.postMessage({ type: 'ready' })
})
`

interface Pending {
  resolve: () => void
  reject: (error: Error) => void
  /** What a fault hook threw during this batch: the batch fails with it. */
  hookError?: unknown
}

/** A SQLite error from the worker, with the driver's code (`SQLITE_BUSY`, …) kept. */
export class SqliteWriteError extends Error {
  override readonly name = 'SqliteWriteError'
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message)
  }
}

/** See the module comment. */
export class SqlitePageWriter {
  private readonly pending = new Map<number, Pending>()
  private nextId = 0
  private failure: Error | undefined
  private closing: Promise<void> | undefined
  /** Called once no batch is in flight (close waits for that). */
  private onDrained: (() => void) | undefined
  private onClosed: (() => void) | undefined

  private constructor(
    private readonly worker: Worker,
    private readonly gate: Int32Array | null,
    private readonly hooks: FaultHooks | undefined,
  ) {
    worker.on('message', (message: WorkerMessage) => this.onMessage(message))
    worker.on('error', (error) => this.fail(error))
    worker.on('exit', () => this.fail(new Error('The SQLite writer thread stopped.')))
  }

  /** Starts the worker; resolves once its connection is open and its statements are prepared. */
  static open(options: SqlitePageWriterOptions): Promise<SqlitePageWriter> {
    const gate = options.hooks === undefined ? null : new SharedArrayBuffer(4)
    const workerData: WorkerData = {
      driver: DRIVER_URL,
      path: options.path,
      statements: options.statements,
      autocheckpointPages: options.autocheckpointPages,
      busyTimeoutMs: options.busyTimeoutMs,
      gate,
    }
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData })
    return new Promise((resolve, reject) => {
      const onMessage = (message: WorkerMessage) => {
        worker.off('error', onError)
        if (message.type === 'ready') {
          const gateView = gate === null ? null : new Int32Array(gate)
          resolve(new SqlitePageWriter(worker, gateView, options.hooks))
          worker.unref()
        } else {
          void worker.terminate()
          reject(new Error(message.type === 'failed' ? message.message : 'unexpected message'))
        }
      }
      const onError = (error: Error) => {
        worker.off('message', onMessage)
        reject(error)
      }
      worker.once('message', onMessage)
      worker.once('error', onError)
    })
  }

  /**
   * Runs `ops` in one transaction on the worker; `[start, end]` parameters refer to `bytes`, which
   * is transferred when it is a whole buffer of its own (copied otherwise). Resolves once committed.
   */
  write(ops: readonly WriteOp[], bytes: Uint8Array): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    if (this.closing !== undefined) return Promise.reject(new Error('The destination is closed.'))
    const id = this.nextId++
    const own =
      bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice()
    const buffer = own.buffer as ArrayBuffer
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      if (this.pending.size === 1) this.worker.ref()
      this.worker.postMessage({ id, ops, buffer }, [buffer])
    })
  }

  /** Waits for the batches in flight, closes the worker's connection and stops the worker. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.pending.size > 0) await new Promise<void>((resolve) => (this.onDrained = resolve))
      if (this.failure === undefined) {
        const closed = new Promise<void>((resolve) => (this.onClosed = resolve))
        this.worker.ref()
        this.worker.postMessage({ type: 'close' })
        await closed
      }
      await this.worker.terminate()
    })()
    return this.closing
  }

  private onMessage(message: WorkerMessage): void {
    if (message.type === 'hook') this.answerHook(message.point)
    else if (message.type === 'closed') this.onClosed?.()
    else if (message.type === 'done' || message.type === 'failed') {
      const entry = this.pending.get(message.id)
      if (entry === undefined) return
      this.pending.delete(message.id)
      if (message.type === 'done') entry.resolve()
      else if (message.hook) entry.reject(asError(entry.hookError))
      else entry.reject(new SqliteWriteError(message.message, message.code))
      this.afterSettled()
    }
  }

  /**
   * A hook point inside the batch the worker is running: the oldest one in flight, since the
   * worker runs batches one at a time in the order they were sent.
   */
  private answerHook(point: string): void {
    const gate = this.gate
    if (gate === null) return
    let answer = CONTINUE
    try {
      this.hooks?.at(point)
    } catch (error) {
      const oldest = this.pending.values().next().value
      if (oldest !== undefined) oldest.hookError = error
      answer = CRASH
    }
    Atomics.store(gate, 0, answer)
    Atomics.notify(gate, 0)
  }

  private afterSettled(): void {
    if (this.pending.size > 0) return
    this.worker.unref()
    this.onDrained?.()
  }

  /** The worker died or failed: every batch in flight fails, and so does every later write. */
  private fail(error: Error): void {
    if (this.closing === undefined || this.pending.size > 0) this.failure ??= error
    for (const entry of this.pending.values()) entry.reject(this.failure ?? error)
    this.pending.clear()
    this.afterSettled()
    this.onClosed?.()
  }
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value))
}
