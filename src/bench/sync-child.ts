/**
 * One full sync in a process of its own, as `chat-export sync` runs: the bench process has just
 * generated and imported the chats, and its heap and compiled code are not what a sync starts
 * with. Started by sync-bench.ts with an IPC channel: it receives `{ from, token, to }` (the token
 * never on a command line), reports progress, and ends with its own CPU time.
 * @module
 */
import { performance } from 'node:perf_hooks'
import { runSync } from '../sync/index.js'
import type { DataType } from '../sync/postgres-destination.js'

/** What the bench sends. */
export interface SyncChildJob {
  from: string
  token: string
  to: string
  /** PostgreSQL destinations: the type of `data` (sync --postgres-data). */
  postgresData?: DataType
}

/** What the child sends back. */
export type SyncChildMessage =
  | { type: 'progress'; items: number; itemsPerSecond: number }
  | { type: 'done'; items: number; pages: number; seconds: number; cpuMs: number }
  | { type: 'failed'; message: string }

const send = (message: SyncChildMessage) => process.send?.(message)

process.once('message', (job: SyncChildJob) => {
  void (async () => {
    try {
      const cpu0 = process.cpuUsage()
      const t0 = performance.now()
      const result = await runSync({
        from: job.from,
        token: job.token,
        to: job.to,
        streams: ['chats'],
        ...(job.postgresData === undefined ? {} : { postgresData: job.postgresData }),
        onProgress: (event) => {
          if (event.type === 'page')
            send({ type: 'progress', items: event.items, itemsPerSecond: event.itemsPerSecond })
        },
      })
      const seconds = (performance.now() - t0) / 1000
      const cpu = process.cpuUsage(cpu0)
      send({
        type: 'done',
        items: result.streams.reduce((n, s) => n + s.items, 0),
        pages: result.streams.reduce((n, s) => n + s.pages, 0),
        seconds,
        cpuMs: (cpu.user + cpu.system) / 1000,
      })
    } catch (error) {
      send({ type: 'failed', message: (error as Error).message })
    } finally {
      process.disconnect()
    }
  })()
})
