/**
 * WAL checkpoints in a worker thread, so that no commit of the server's write connection pays for
 * one on the event loop.
 *
 * With SQLite's automatic checkpoints, the commit that crosses the threshold also copies the WAL
 * into the database file and fsyncs it, inside that COMMIT call, on the main thread: the fuzz
 * proof saw the event loop held 340 ms by one small write (process CPU 21 ms: the thread was in
 * fsync), with every account's requests waiting. Here the writer's automatic checkpoints are
 * turned off once a worker with a connection of its own is up, and the worker runs a PASSIVE
 * checkpoint every {@link CHECKPOINT_INTERVAL_MS}: it never waits for a lock, never blocks the
 * writer or a reader, and with nothing to copy it does no I/O at all. The WAL then holds at most
 * about one interval of writes beyond what readers still need. Durability is unchanged: each
 * commit is still fsynced by the writer (synchronous=FULL), and the worker's connection syncs
 * the database file before SQLite may reuse the WAL (synchronous=FULL there too).
 *
 * If the worker fails or dies, the writer's automatic checkpoints are turned back on, so the WAL
 * never grows without bound. Like the read workers, the code is kept as text and the worker does
 * not keep the process alive.
 * @module
 */
import { Worker } from 'node:worker_threads'
import type Database from 'better-sqlite3'
import { DRIVER_URL } from './driver-url.js'
import { WAL_AUTOCHECKPOINT_PAGES } from './sqlite-connection.js'

/** How often the worker checkpoints (when there is anything to copy). */
export const CHECKPOINT_INTERVAL_MS = 1000

interface CheckpointWorkerData {
  driver: string
  path: string
  busyTimeoutMs: number
  intervalMs: number
}

const WORKER_SOURCE = `'use strict'
import('node:worker_threads').then(async ({ parentPort, workerData }) => {
  const { default: Database } = await import(workerData.driver)
  const db = new Database(workerData.path, { fileMustExist: true, timeout: workerData.busyTimeoutMs })
  db.pragma('synchronous = FULL')
  const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)')
  // The one message: the writer may stop checkpointing for itself.
  parentPort.postMessage('ready')
  setInterval(() => checkpoint.get(), workerData.intervalMs)
})
`

/** See the module comment. */
export class SqliteCheckpointer {
  private readonly worker: Worker
  private stopped = false
  private running = false

  /** Starts the worker on `path`; `writer`'s automatic checkpoints go off once it runs. */
  constructor(
    private readonly writer: Database.Database,
    path: string,
    busyTimeoutMs: number,
  ) {
    const workerData: CheckpointWorkerData = {
      driver: DRIVER_URL,
      path,
      busyTimeoutMs,
      intervalMs: CHECKPOINT_INTERVAL_MS,
    }
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData })
    this.worker.once('message', () => {
      if (this.stopped) return
      this.running = true
      this.writer.pragma('wal_autocheckpoint = 0')
    })
    // A worker that fails (it could not open the file, a checkpoint threw) exits: the writer
    // checkpoints for itself again.
    this.worker.on('error', () => {})
    this.worker.on('exit', () => this.fallBack())
    // After the listeners: adding a 'message' listener references the worker again.
    this.worker.unref()
  }

  /** Stops the worker and gives checkpoints back to the writer (call before closing it). */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.fallBack()
    await this.worker.terminate()
  }

  private fallBack(): void {
    if (!this.running) return
    this.running = false
    if (this.writer.open) this.writer.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`)
  }
}
