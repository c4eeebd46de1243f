/**
 * The SQLite write transaction handed to `Store.write` callbacks: every statement runs on the write
 * connection, inside the `BEGIN IMMEDIATE` transaction the store opened, scoped to one account.
 * @module
 */
import type { StreamName } from '../../domain/streams.js'
import type { Micros } from '../../domain/time.js'
import type { ItemWrite, WriteTx } from '../store.js'
import { assertItemPosition } from '../store-rules.js'
import { asPromise } from './as-promise.js'
import type { WriteTxStatements } from './sqlite-statements.js'
import { chatIndexArgs } from './sqlite-chats.js'

/**
 * One write transaction. Methods are synchronous underneath (better-sqlite3) and async only to fit
 * the port. The object refuses use after its transaction ended, so a callback that leaks it cannot
 * write outside the lock (into whatever transaction runs next).
 */
export class SqliteWriteTx implements WriteTx {
  private ended = false
  /** Highest item position written, for raising the account clock at commit. */
  private highestItemPosition: Micros | undefined

  constructor(
    private readonly statements: WriteTxStatements,
    readonly accountId: number,
    readonly position: Micros,
  ) {}

  /** The highest position of an item this transaction wrote; undefined if it wrote none. */
  get highestWritten(): Micros | undefined {
    return this.highestItemPosition
  }

  /** Called by the store when the transaction commits or rolls back. */
  end(): void {
    this.ended = true
  }

  highWaterMark(stream: StreamName): Promise<Micros> {
    return this.run(() => this.statements.highWaterMark().get(this.accountId, stream) ?? 0)
  }

  getItem(stream: StreamName, key: string): Promise<string | undefined> {
    return this.run(() =>
      this.statements.getItem().get(this.accountId, stream, key)?.toString('utf8'),
    )
  }

  getItems(stream: StreamName, keys: readonly string[]): Promise<Map<string, string>> {
    // SQLite runs in-process: a loop over the indexed single-row read costs no round trips.
    return this.run(() => {
      const found = new Map<string, string>()
      const statement = this.statements.getItem()
      for (const key of keys) {
        const body = statement.get(this.accountId, stream, key)
        if (body !== undefined) found.set(key, body.toString('utf8'))
      }
      return found
    })
  }

  putItem(stream: StreamName, item: ItemWrite): Promise<void> {
    return this.run(() => {
      assertItemPosition(item.position)
      const body = Buffer.from(item.body, 'utf8')
      const summary = item.summary === undefined ? null : Buffer.from(item.summary, 'utf8')
      this.statements
        .putItem()
        .run(this.accountId, stream, item.key, item.sortId, item.position, body, summary)
      // The chat index row changes with the item, in this transaction (sqlite-chats.ts).
      if (stream === 'chats') {
        this.statements
          .putChatIndex()
          .run(...chatIndexArgs(this.accountId, item.key, item.body, item.chatIndex))
      }
      this.highestItemPosition = Math.max(this.highestItemPosition ?? 0, item.position)
    })
  }

  getState(kind: string, key: string): Promise<string | undefined> {
    return this.run(() => this.statements.getState().get(this.accountId, kind, key))
  }

  getStates(kind: string, keys: readonly string[]): Promise<Map<string, string>> {
    return this.run(() => {
      const found = new Map<string, string>()
      const statement = this.statements.getState()
      for (const key of keys) {
        const value = statement.get(this.accountId, kind, key)
        if (value !== undefined) found.set(key, value)
      }
      return found
    })
  }

  putState(kind: string, key: string, value: string): Promise<void> {
    return this.run(() => {
      this.statements.putState().run(this.accountId, kind, key, value)
    })
  }

  deleteState(kind: string, key: string): Promise<void> {
    return this.run(() => {
      this.statements.deleteState().run(this.accountId, kind, key)
    })
  }

  markEvent(eventId: string): Promise<boolean> {
    return this.run(
      () => this.statements.markEvent().run(this.accountId, eventId, this.position).changes === 1,
    )
  }

  markEvents(eventIds: readonly string[]): Promise<boolean[]> {
    return this.run(() => {
      const statement = this.statements.markEvent()
      // In order, one statement per id: a repeated id finds its first occurrence already recorded.
      return eventIds.map((id) => statement.run(this.accountId, id, this.position).changes === 1)
    })
  }

  private run<T>(work: () => T): Promise<T> {
    return asPromise(() => {
      if (this.ended) {
        throw new Error(
          'This write transaction has already ended; use the tx only inside its write() callback.',
        )
      }
      // Some errors (disk full, I/O) make SQLite roll the whole transaction back. A callback that
      // caught such an error must not go on writing: each statement would commit on its own.
      if (!this.statements.inTransaction()) {
        throw new Error('The write transaction was rolled back by the database after an error.')
      }
      return work()
    })
  }
}
