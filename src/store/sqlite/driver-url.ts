/**
 * The file: URL of better-sqlite3's entry point, for the store's worker threads (read pool and
 * checkpointer): their code is eval'd text, which has no location to resolve packages from. (The
 * sync's writer thread resolves its own: the sync does not import the store.)
 * @module
 */
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'

/** See the module comment. */
export const DRIVER_URL = pathToFileURL(
  createRequire(import.meta.url).resolve('better-sqlite3'),
).href
