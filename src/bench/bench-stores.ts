/**
 * The stores a benchmark run uses: a fresh SQLite file, and PostgreSQL from DATABASE_URL or an
 * embedded server started for the run.
 * @module
 */
import { join } from 'node:path'

/** Resolves store URLs for the requested backends, starting what they need. */
export async function benchStoreUrls(
  backends: string[],
  dir: string,
  log: (line: string) => void,
): Promise<{ urls: string[]; stop: () => Promise<void> }> {
  const urls: string[] = []
  const stops: Array<() => Promise<void>> = []
  if (backends.includes('sqlite')) urls.push(`sqlite:${join(dir, 'bench.db')}`)
  if (backends.includes('postgres')) {
    try {
      const { startBenchPostgres } = await import('./bench-postgres.js')
      const pg = await startBenchPostgres()
      urls.push(pg.url)
      stops.push(pg.stop)
    } catch (err) {
      log(`postgres: skipped (${(err as Error).message})`)
    }
  }
  return {
    urls,
    stop: async () => {
      for (const s of stops) await s()
    },
  }
}
