/**
 * Opens the destination a `--to` value names: `sqlite:PATH`, `jsonl:DIR` or
 * `postgres://USER:PASSWORD@HOST:PORT/DATABASE` (also `postgresql://`).
 * @module
 */
import type { Destination, FaultHooks } from './destination.js'
import type { DataType } from './postgres-destination.js'
import { DestinationError } from './destination.js'

export interface OpenDestinationOptions {
  /** Crash-injection points for tests (see destination.ts). */
  hooks?: FaultHooks
  /** SQLite and PostgreSQL: create the typed tables too (docs/sync.md, "Typed tables"). */
  typedTables?: boolean
  /** PostgreSQL: the type of `data` in tables it creates, `jsonb` (default) or `json`. */
  postgresData?: DataType
}

/** Checks a `--to` value without opening anything; throws DestinationError saying what is accepted. */
export function parseDestinationUrl(
  to: string,
):
  | { kind: 'sqlite'; path: string }
  | { kind: 'jsonl'; dir: string }
  | { kind: 'postgres'; url: string } {
  if (to.startsWith('sqlite:') && to.length > 'sqlite:'.length) {
    return { kind: 'sqlite', path: to.slice('sqlite:'.length) }
  }
  if (to.startsWith('jsonl:') && to.length > 'jsonl:'.length) {
    return { kind: 'jsonl', dir: to.slice('jsonl:'.length) }
  }
  if (/^postgres(ql)?:\/\/./.test(to)) return { kind: 'postgres', url: to }
  throw new DestinationError(
    `Unsupported destination "${to.replace(/\/\/[^@/]*@/, '//…@')}". Use sqlite:PATH (e.g. sqlite:./export.db), jsonl:DIR (e.g. jsonl:./export) or postgres://USER:PASSWORD@HOST:PORT/DATABASE.`,
  )
}

/** Opens (creating tables / directories as needed) the destination named by `to`. */
export async function openDestination(
  to: string,
  options: OpenDestinationOptions = {},
): Promise<Destination> {
  const parsed = parseDestinationUrl(to)
  const hooks = options.hooks === undefined ? {} : { hooks: options.hooks }
  const typed = options.typedTables === true ? { typedTables: true } : {}
  switch (parsed.kind) {
    case 'sqlite': {
      const { openSqliteDestination } = await import('./sqlite-destination.js')
      return openSqliteDestination({ path: parsed.path, ...hooks, ...typed })
    }
    case 'jsonl': {
      if (options.typedTables === true) {
        throw new DestinationError(
          'Typed tables are for SQL destinations (sqlite:, postgres://); a JSONL directory holds items only.',
        )
      }
      const { openJsonlDestination } = await import('./jsonl-destination.js')
      return openJsonlDestination({ dir: parsed.dir, ...hooks })
    }
    case 'postgres': {
      const { openPostgresDestination } = await import('./postgres-destination.js')
      return openPostgresDestination({
        url: parsed.url,
        ...hooks,
        ...typed,
        ...(options.postgresData === undefined ? {} : { dataType: options.postgresData }),
      })
    }
  }
}
