/**
 * PostgreSQL for tests: one server per run (test/support/global-setup.ts), one fresh, empty
 * database per call here, so suites and test cases never see each other's rows.
 *
 * The URL handed out is the application's login (`chat_export_test`): not a superuser and not the
 * database's superuser, so row-level security applies as in production. It owns the database, as a
 * deployment's login would, so the store's migrations can create tables and the application role.
 */
import pg from 'pg'
import { inject } from 'vitest'

/** The application's login role in tests (created once per server by the global setup). */
export const TEST_LOGIN_ROLE = 'chat_export_test'
/** Its password: a fixed, test-only value, so concurrent runs on one DATABASE_URL agree on it. */
export const TEST_LOGIN_PASSWORD = 'chat_export_test'

/** Every database a run creates starts with this, so the run can drop exactly its own. */
export function testDatabasePrefix(runId: string): string {
  return `chat_export_t_${runId}_`
}

/** Whether this run has a PostgreSQL server (not when `STORES` names only other backends). */
export function postgresTestServerAvailable(): boolean {
  return inject('postgresAdminUrl') !== null
}

export interface FreshPostgresDatabase {
  name: string
  /** The application login's URL for this database (what `--store` would be in production). */
  url: string
  /** A superuser URL for the same database, for tests that inspect it from outside. */
  adminUrl: string
}

let created = 0

/** Creates a new, empty database on the test server and returns URLs for it. */
export async function freshPostgresDatabase(): Promise<FreshPostgresDatabase> {
  const serverAdminUrl = inject('postgresAdminUrl')
  if (serverAdminUrl === null) {
    throw new Error('No PostgreSQL test server in this run (STORES excludes postgres).')
  }
  created += 1
  const name = `${testDatabasePrefix(inject('postgresRunId'))}${process.pid}_${created}`
  const admin = new pg.Client({ connectionString: serverAdminUrl })
  await admin.connect()
  try {
    // template0: an empty database that does not depend on what someone put into template1.
    await admin.query(
      `CREATE DATABASE ${admin.escapeIdentifier(name)} TEMPLATE template0 ENCODING 'UTF8' OWNER ${TEST_LOGIN_ROLE}`,
    )
  } finally {
    await admin.end()
  }
  const adminUrl = new URL(serverAdminUrl)
  adminUrl.pathname = `/${name}`
  const url = new URL(adminUrl)
  url.username = TEST_LOGIN_ROLE
  url.password = TEST_LOGIN_PASSWORD
  return { name, url: url.toString(), adminUrl: adminUrl.toString() }
}

/** A fresh, empty database per call; returns the application login's URL for it. */
export async function freshPostgresUrl(): Promise<string> {
  return (await freshPostgresDatabase()).url
}
