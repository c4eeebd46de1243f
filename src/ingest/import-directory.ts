/**
 * Import of directory records (`POST /api/chat-export/v1/import/agents`, `chat-export import
 * --resource agents`, …): one REST wire record per line, as `GET /api/v2/chat/agents` serves
 * them, stored like `agent.created` events (a record replaces the one with its id; fields left
 * out take the REST defaults). Atomic: every line is checked first, then all are written in one
 * transaction; any bad line (reported by number) and nothing is written.
 * @module
 */
import type { DirectoryCollection } from '../domain/directory-events.js'
import { createdChange, createdRecord, DIRECTORY_COLLECTIONS } from '../domain/directory-events.js'
import { AppError } from '../domain/errors.js'
import { RESOURCES } from '../domain/rest/resources.js'
import type { Store } from '../store/store.js'
import { applyDirectoryChange, syncFoldNames } from './directory-writes.js'
import type { LineError } from './import-items.js'

const MAX_REPORTED_ERRORS = 50

/** The import resource names of the directory: the REST collection paths. */
export const DIRECTORY_RESOURCES: readonly string[] = DIRECTORY_COLLECTIONS.map(
  (kind) => RESOURCES[kind].path,
)

/** The directory kind an import resource name (`agents`, `bans`, …) stands for, if any. */
export function directoryResource(name: string): DirectoryCollection | undefined {
  return DIRECTORY_COLLECTIONS.find((kind) => RESOURCES[kind].path === name)
}

export interface DirectoryImportResult {
  resource: string
  imported: number
  /** The position of the import's transaction (ISO), as for item imports. */
  position: number
}

interface Line {
  line: number
  fields: Record<string, unknown>
}

/** Parses and checks every line by the resource schema; throws INVALID_IMPORT listing bad lines. */
export function prepareDirectoryLines(
  kind: DirectoryCollection,
  lines: Iterable<string>,
  now: number,
): Line[] {
  const out: Line[] = []
  const errors: LineError[] = []
  let line = 0
  for (const text of lines) {
    line++
    if (text.trim() === '') continue
    let raw: unknown
    try {
      raw = JSON.parse(text)
    } catch {
      errors.push({ line, message: 'not valid JSON' })
      continue
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      errors.push({ line, message: `not a JSON object of ${RESOURCES[kind].singular} fields` })
      continue
    }
    const fields = raw as Record<string, unknown>
    try {
      createdRecord(createdChange(kind, fields), { accountId: 1, at: now })
      out.push({ line, fields })
    } catch (err) {
      if (!(err instanceof AppError)) throw err
      errors.push({ line, message: err.description })
    }
  }
  if (errors.length > 0) throw invalidImport(kind, errors)
  return out
}

/** Writes checked lines in one transaction (with the fold's names for agents, departments, goals). */
export async function importDirectory(
  store: Store,
  accountId: number,
  kind: DirectoryCollection,
  lines: readonly Line[],
  now: number,
): Promise<DirectoryImportResult> {
  const directory = store.directory
  if (directory === undefined) {
    throw new AppError('NOT_FOUND', 'This store keeps no REST directory to import into.')
  }
  const accountCreatedAt = (await store.getAccountById(accountId))?.createdAt ?? 0
  return directory.writeDirectory(accountId, async (tx) => {
    for (const { line, fields } of lines) {
      try {
        const record = await applyDirectoryChange(tx, createdChange(kind, fields), {
          accountId,
          at: now,
          accountCreatedAt,
        })
        if (record !== null) await syncFoldNames(tx, kind, record)
      } catch (err) {
        if (!(err instanceof AppError) || err.code === 'STORE_UNAVAILABLE') throw err
        // A name or email another record holds: the line is what the user must fix.
        throw invalidImport(kind, [{ line, message: err.description }])
      }
    }
    return { resource: RESOURCES[kind].path, imported: lines.length, position: tx.position }
  })
}

function invalidImport(kind: DirectoryCollection, errors: LineError[]): AppError {
  const path = RESOURCES[kind].path
  return new AppError(
    'INVALID_IMPORT',
    `${errors.length} line(s) are not valid ${path} records; nothing was imported. First: line ${errors[0]?.line}: ${errors[0]?.message} Fix the lines and import the file again.`,
    { details: errors.slice(0, MAX_REPORTED_ERRORS) },
  )
}
