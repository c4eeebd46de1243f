/**
 * Bridges better-sqlite3's synchronous calls to the store port's promises.
 * @module
 */

/**
 * Runs `work` now and returns its result as a promise; a throw becomes a rejection (not a
 * synchronous throw), so `.catch()` on the returned promise sees every failure.
 */
export function asPromise<T>(work: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(work()))
}
