/**
 * The code of a read worker (sqlite-read-pool.ts) and the messages it exchanges with the pool.
 *
 * The worker is a small CommonJS script kept here as text and started with `new Worker(code,
 * { eval: true })`, not a module file beside this one: tests run the TypeScript sources and the
 * CLI runs dist/, and a file given by `new URL('./x.js', import.meta.url)` exists only in dist/.
 * Text runs the same from both. It loads better-sqlite3 from the path the pool resolves (an eval'd
 * script has no location to resolve packages from) and takes everything else (the file, the
 * pragmas, the SQL) from `workerData`, so the page SQL and the connection settings stay in
 * sqlite-statements.ts and sqlite-connection.ts.
 * @module
 */
import type { PageBody } from '../store.js'
import type { PageForm } from './sqlite-statements.js'

/** What the pool hands a new worker. */
export interface ReadWorkerData {
  /** The file: URL of better-sqlite3's entry point (resolved by the pool). */
  driver: string
  /** The database file. */
  path: string
  busyTimeoutMs: number
  /** Run in order after opening (READ_PRAGMAS). */
  pragmas: readonly string[]
  /** The page statements (PAGE_SQL), prepared on first use: the tables exist after migrate(). */
  sql: Record<PageForm, Record<PageBody, string>>
}

/** One page query: the statement and its bound arguments. */
export interface PageRequest {
  id: number
  form: PageForm
  body: PageBody
  args: readonly (number | string)[]
}

/**
 * A page: row i is `positions[i]`, `sortIds[i]` and the bytes `offsets[i]..offsets[i + 1]` of
 * `bytes`, which holds every body back to back. The three typed arrays are transferred, not copied.
 */
export interface PageRows {
  id: number
  positions: Float64Array
  sortIds: string[]
  offsets: Uint32Array
  bytes: Uint8Array
}

/** A query that threw: enough of the driver's error to rebuild it (its code decides the mapping). */
export interface PageFailure {
  id: number
  error: { message: string; code: string | undefined }
}

export type PageReply = PageRows | PageFailure

/**
 * The worker. Modules come in by `import()`, which an eval'd script has whether Node runs it as
 * CommonJS or as an ES module (it follows the process's `--input-type`). A failure to open is an
 * unhandled rejection: the worker exits and the pool sees it die. `raw(true)`: rows as
 * [position, sortId, body] arrays, no object per row. The bodies are copied once into one buffer
 * of their own (`allocUnsafeSlow`: not Node's shared pool, as it is transferred, and not zeroed,
 * as every byte is written), and the per-row Buffers the driver made die here, so their garbage
 * never reaches the main thread.
 */
export const READ_WORKER_SOURCE = `'use strict'
import('node:worker_threads').then(async ({ parentPort, workerData }) => {
  const { default: Database } = await import(workerData.driver)
  const db = new Database(workerData.path, {
    readonly: true,
    fileMustExist: true,
    timeout: workerData.busyTimeoutMs,
  })
  for (const pragma of workerData.pragmas) db.pragma(pragma)
  const statements = new Map()
  const statement = (form, body) => {
    const key = form + ':' + body
    let prepared = statements.get(key)
    if (prepared === undefined) {
      prepared = db.prepare(workerData.sql[form][body]).raw(true)
      statements.set(key, prepared)
    }
    return prepared
  }
  parentPort.on('message', (request) => {
    let rows
    try {
      rows = statement(request.form, request.body).all(...request.args)
    } catch (error) {
      const code =
        error !== null && typeof error === 'object' && typeof error.code === 'string'
          ? error.code
          : undefined
      const message = error instanceof Error ? error.message : String(error)
      parentPort.postMessage({ id: request.id, error: { message, code } })
      return
    }
    const count = rows.length
    const positions = new Float64Array(count)
    const offsets = new Uint32Array(count + 1)
    const sortIds = new Array(count)
    let total = 0
    for (let i = 0; i < count; i++) total += rows[i][2].length
    const bytes = Buffer.allocUnsafeSlow(total)
    let at = 0
    for (let i = 0; i < count; i++) {
      const row = rows[i]
      positions[i] = row[0]
      sortIds[i] = row[1]
      offsets[i] = at
      bytes.set(row[2], at)
      at += row[2].length
    }
    offsets[count] = at
    parentPort.postMessage({ id: request.id, positions, sortIds, offsets, bytes }, [
      positions.buffer,
      offsets.buffer,
      bytes.buffer,
    ])
  })
})
`
