/**
 * An async mutex built on a promise chain: tasks run one at a time, in call order.
 * @module
 */

/**
 * Serialises async tasks. The SQLite store runs every write transaction through one, because its
 * single write connection can hold only one transaction at a time while `fn` awaits.
 */
export class AsyncMutex {
  private tail: Promise<void> = Promise.resolve()

  /** Runs `task` after every task queued before it has settled; resolves or rejects as it does. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task)
    // The chain itself never rejects: one failed task must not stop the ones queued behind it.
    this.tail = result.then(
      () => undefined,
      () => undefined,
    )
    return result
  }
}
