/**
 * The file: URL of better-sqlite3's entry point, for worker threads (the store's read pool and
 * checkpointer, the sync destination's writer): their code is eval'd text, which has no location
 * to resolve packages from.
 * @module
 */
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

/** See the module comment. */
export const DRIVER_URL = pathToFileURL(
  createRequire(import.meta.url).resolve('better-sqlite3'),
).href
