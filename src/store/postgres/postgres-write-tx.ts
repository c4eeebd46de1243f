/**
 * The PostgreSQL write transaction handed to `Store.write` callbacks, with its write buffer: item
 * and state writes go out as multi-row statements, not one round trip each.
 * @module
 */
import type pg from 'pg'
import type { StreamName } from '../../domain/streams.js'
import type { Micros } from '../../domain/time.js'
import type { ItemWrite, WriteTx } from '../store.js'
import { assertItemPosition } from '../store-rules.js'
import type { NamedStatement } from './postgres-statements.js'
import { SQL } from './postgres-statements.js'

/** Most rows per multi-row statement, and most body characters: bounds one message's size. */
const FLUSH_ROWS = 2000
const FLUSH_CHARS = 8_000_000

/** A buffered item write. */
interface PendingItem {
  stream: StreamName
  item: ItemWrite
}

/** A buffered state write; `value: null` is a deletion. */
interface PendingState {
  kind: string
  key: string
  value: string | null
}

const pendingKey = (a: string, b: string): string => `${a}\u0000${b}`

/**
 * The write transaction handed to `Store.write` callbacks.
 *
 * Item and state writes are buffered (the last write of a key wins) and sent at commit as one
 * multi-row statement per table, instead of one round trip each: an ingest batch of 1000 events
 * writes several hundred rows. Reads consult the buffer first, so the transaction sees its own
 * writes; `highWaterMark` flushes the items first, because a buffered write may move an item
 * below the stored maximum. The buffer changes when rows are written, not which transaction or
 * position they belong to: the sequencer row is locked before the callback runs and released by
 * COMMIT, after the flush. A write the database refuses (for example text it cannot store) fails
 * the flush, which rolls the whole transaction back, as the port promises.
 */
export class PostgresWriteTx implements WriteTx {
  /** Highest item position written (undefined: none); the clock is raised to cover it. */
  highestWritten: Micros | undefined
  private open = true
  private readonly pendingItems = new Map<string, PendingItem>()
  private readonly pendingState = new Map<string, PendingState>()

  constructor(
    private readonly client: pg.PoolClient,
    readonly accountId: number,
    readonly position: Micros,
  ) {
    this.highestWritten = undefined
  }

  close(): void {
    this.open = false
  }

  private run<R extends pg.QueryResultRow>(
    statement: NamedStatement,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    if (!this.open) {
      return Promise.reject(new Error('The write transaction is already over.'))
    }
    return this.client.query<R>({ ...statement, values })
  }

  private assertOpen(): void {
    if (!this.open) throw new Error('The write transaction is already over.')
  }

  async highWaterMark(stream: StreamName): Promise<Micros> {
    await this.flushItems()
    const { rows } = await this.run<{ position: number }>(SQL.highWaterMark, [
      this.accountId,
      stream,
    ])
    return rows[0]?.position ?? 0
  }

  async getItem(stream: StreamName, key: string): Promise<string | undefined> {
    this.assertOpen()
    const pending = this.pendingItems.get(pendingKey(stream, key))
    if (pending !== undefined) return pending.item.body
    const { rows } = await this.run<{ body: string }>(SQL.getItem, [this.accountId, stream, key])
    return rows[0]?.body
  }

  async getItems(stream: StreamName, keys: readonly string[]): Promise<Map<string, string>> {
    this.assertOpen()
    const found = new Map<string, string>()
    const missing: string[] = []
    for (const key of new Set(keys)) {
      const pending = this.pendingItems.get(pendingKey(stream, key))
      if (pending === undefined) missing.push(key)
      else found.set(key, pending.item.body)
    }
    if (missing.length > 0) {
      const { rows } = await this.run<{ item_key: string; body: string }>(SQL.getItems, [
        this.accountId,
        stream,
        missing,
      ])
      for (const row of rows) found.set(row.item_key, row.body)
    }
    return found
  }

  putItem(stream: StreamName, item: ItemWrite): Promise<void> {
    // The promise constructor turns a throw into a rejection, as from an async method.
    return new Promise((resolve) => {
      this.assertOpen()
      assertItemPosition(item.position)
      // A copy: the row is sent later, and the caller may reuse its object meanwhile.
      this.pendingItems.set(pendingKey(stream, item.key), { stream, item: { ...item } })
      this.highestWritten = Math.max(this.highestWritten ?? item.position, item.position)
      resolve()
    })
  }

  async getState(kind: string, key: string): Promise<string | undefined> {
    this.assertOpen()
    const pending = this.pendingState.get(pendingKey(kind, key))
    if (pending !== undefined) return pending.value ?? undefined
    const { rows } = await this.run<{ value: string }>(SQL.getState, [this.accountId, kind, key])
    return rows[0]?.value
  }

  async getStates(kind: string, keys: readonly string[]): Promise<Map<string, string>> {
    this.assertOpen()
    const found = new Map<string, string>()
    const missing: string[] = []
    for (const key of new Set(keys)) {
      const pending = this.pendingState.get(pendingKey(kind, key))
      if (pending === undefined) missing.push(key)
      else if (pending.value !== null) found.set(key, pending.value)
    }
    if (missing.length > 0) {
      const { rows } = await this.run<{ key: string; value: string }>(SQL.getStates, [
        this.accountId,
        kind,
        missing,
      ])
      for (const row of rows) found.set(row.key, row.value)
    }
    return found
  }

  putState(kind: string, key: string, value: string): Promise<void> {
    return this.bufferState(kind, key, value)
  }

  deleteState(kind: string, key: string): Promise<void> {
    return this.bufferState(kind, key, null)
  }

  private bufferState(kind: string, key: string, value: string | null): Promise<void> {
    return new Promise((resolve) => {
      this.assertOpen()
      this.pendingState.set(pendingKey(kind, key), { kind, key, value })
      resolve()
    })
  }

  async markEvent(eventId: string): Promise<boolean> {
    const result = await this.run(SQL.markEvent, [this.accountId, eventId, this.position])
    return result.rowCount === 1
  }

  async markEvents(eventIds: readonly string[]): Promise<boolean[]> {
    this.assertOpen()
    if (eventIds.length === 0) return []
    const { rows } = await this.run<{ event_id: string }>(SQL.markEvents, [
      this.accountId,
      [...new Set(eventIds)],
      this.position,
    ])
    const recorded = new Set(rows.map((row) => row.event_id))
    // Only the first occurrence of a new id is new: delete() is true once, then false.
    return eventIds.map((id) => recorded.delete(id))
  }

  /** Writes every buffered row. Called by the store before it raises the clock and commits. */
  async flush(): Promise<void> {
    await this.flushItems()
    await this.flushState()
  }

  private async flushItems(): Promise<void> {
    const pending = [...this.pendingItems.values()]
    this.pendingItems.clear()
    const size = (p: PendingItem) => p.item.body.length + (p.item.summary?.length ?? 0)
    for (const chunk of chunks(pending, size)) {
      await this.run(SQL.putItems, [
        this.accountId,
        chunk.map((p) => p.stream),
        chunk.map((p) => p.item.key),
        chunk.map((p) => p.item.sortId),
        chunk.map((p) => p.item.position),
        chunk.map((p) => p.item.body),
        chunk.map((p) => p.item.summary ?? null),
      ])
    }
  }

  private async flushState(): Promise<void> {
    const pending = [...this.pendingState.values()]
    this.pendingState.clear()
    const puts = pending.filter((p) => p.value !== null)
    const deletes = pending.filter((p) => p.value === null)
    for (const chunk of chunks(puts, (p) => p.value?.length ?? 0)) {
      await this.run(SQL.putStates, [
        this.accountId,
        chunk.map((p) => p.kind),
        chunk.map((p) => p.key),
        chunk.map((p) => p.value),
      ])
    }
    for (const chunk of chunks(deletes, () => 0)) {
      await this.run(SQL.deleteStates, [
        this.accountId,
        chunk.map((p) => p.kind),
        chunk.map((p) => p.key),
      ])
    }
  }
}

/** Splits rows into statements of at most FLUSH_ROWS rows and about FLUSH_CHARS characters. */
function chunks<T>(rows: readonly T[], size: (row: T) => number): T[][] {
  const result: T[][] = []
  let current: T[] = []
  let chars = 0
  for (const row of rows) {
    const n = size(row)
    if (current.length > 0 && (current.length >= FLUSH_ROWS || chars + n > FLUSH_CHARS)) {
      result.push(current)
      current = []
      chars = 0
    }
    current.push(row)
    chars += n
  }
  if (current.length > 0) result.push(current)
  return result
}
