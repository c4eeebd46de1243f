/**
 * The bench's PostgreSQL CPU figure (src/bench/bench-server.ts, `postgresCpuSeconds`): the time
 * the database spends must show up in it, including that of a backend that has since exited.
 */
import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { postgresCpuSeconds } from '../../src/bench/bench-server.js'
import { freshPostgresDatabase, postgresTestServerAvailable } from '../support/postgres.js'

// Only the run's own embedded server is on this machine's /proc (not a DATABASE_URL elsewhere).
const localServer =
  postgresTestServerAvailable() && process.platform === 'linux' && !process.env.DATABASE_URL

describe.skipIf(!localServer)('postgresCpuSeconds', () => {
  it("counts a backend's work after its connection has ended", async () => {
    const db = await freshPostgresDatabase()
    const before = await postgresCpuSeconds()
    const client = new pg.Client({ connectionString: db.adminUrl })
    await client.connect()
    // About a second of one core in the backend.
    await client.query('SELECT count(*) FROM generate_series(1, 20000000)')
    await client.end()
    // The postmaster collects the ended backend's time when it reaps it.
    await new Promise((resolve) => setTimeout(resolve, 200))
    const after = await postgresCpuSeconds()
    expect(before).toBeTypeOf('number')
    expect((after ?? 0) - (before ?? 0)).toBeGreaterThan(0.3)
  })
})
