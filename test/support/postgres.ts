/**
 * PostgreSQL for tests. Placeholder until the PostgreSQL store lands: the postgres backend is
 * skipped (see storeBackends) when no server is available.
 */
export function freshPostgresUrl(): Promise<string> {
  return Promise.reject(new Error('PostgreSQL test support is not set up yet'))
}
