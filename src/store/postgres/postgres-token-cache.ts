/**
 * Token records by prefix, so that a request on PostgreSQL does not spend three round trips
 * (BEGIN and SET, SELECT, COMMIT) on finding its token. Found by the slow-readers proof: 200
 * readers retrying after 503 made about 100 token lookups a second, and their garbage let the heap
 * grow by tens of megabytes.
 *
 * A revocation must still take effect at once, from this process or any other (`tokens revoke`,
 * a second server on the same database). So a cached record is used only while this cache holds a
 * LISTEN connection on {@link TOKENS_CHANNEL}: migration 6 makes every UPDATE or DELETE of `tokens`
 * notify it, by whoever runs it, and each notification empties the cache. This process's own
 * changes empty it as soon as they commit ({@link TokenCache.invalidate}), without waiting for
 * the notification. Without the connection (not yet up, or lost) every lookup goes to the database.
 * Only found tokens are kept (an unknown prefix costs a lookup each time, so guessing fills
 * nothing), at most {@link TokenCacheOptions.maxEntries}, each for at most `maxAgeMs`.
 * @module
 */
import type pg from 'pg'
import type { TokenRecord } from '../store.js'

/** The channel migration 6's trigger notifies on every change to `tokens`. */
export const TOKENS_CHANNEL = 'chat_export_tokens'

export interface TokenCacheOptions {
  /** Connects the LISTEN client (not yet connected). */
  connect: () => pg.Client
  /** Milliseconds on a monotonic clock (entry ages, reconnect delay). */
  nowMs: () => number
  /** Longest an entry is used, even with no notification (default 10 s). */
  maxAgeMs?: number
  /** Most entries; a full cache is emptied (default 10 000). */
  maxEntries?: number
  /** Wait before reconnecting a lost LISTEN connection (default 1 s). */
  retryMs?: number
}

interface Entry {
  record: TokenRecord
  at: number
}

/** See the module comment. */
export class TokenCache {
  private readonly entries = new Map<string, Entry>()
  /** Bumped by every invalidation: a lookup that began before one must not be kept. */
  private generation = 0
  private listener: pg.Client | undefined
  private listening = false
  private started = false
  private closed = false
  private retry: ReturnType<typeof setTimeout> | undefined
  private readonly maxAgeMs: number
  private readonly maxEntries: number
  private readonly retryMs: number

  constructor(private readonly options: TokenCacheOptions) {
    this.maxAgeMs = options.maxAgeMs ?? 10_000
    this.maxEntries = options.maxEntries ?? 10_000
    this.retryMs = options.retryMs ?? 1000
  }

  /** Whether cached records are being used (the LISTEN connection is up). */
  get active(): boolean {
    return this.listening
  }

  /**
   * The cached record of `prefix`, if it may be used. The first call starts listening (so that
   * commands that never authenticate a request never open the extra connection).
   */
  get(prefix: string): TokenRecord | undefined {
    if (!this.started) this.start()
    if (!this.listening) return undefined
    const entry = this.entries.get(prefix)
    if (entry === undefined) return undefined
    if (this.options.nowMs() - entry.at > this.maxAgeMs) {
      this.entries.delete(prefix)
      return undefined
    }
    return entry.record
  }

  /** The generation to pass to {@link put} for a lookup that starts now. */
  mark(): number {
    return this.generation
  }

  /** Keeps a record read from the database, unless something changed since `generation`. */
  put(prefix: string, record: TokenRecord, generation: number): void {
    if (!this.listening || generation !== this.generation) return
    if (this.entries.size >= this.maxEntries) this.entries.clear()
    this.entries.set(prefix, { record, at: this.options.nowMs() })
  }

  /** Forgets every record: a token may have changed. */
  invalidate(): void {
    this.generation++
    this.entries.clear()
  }

  /** Stops listening; later lookups all go to the database. */
  async close(): Promise<void> {
    this.closed = true
    if (this.retry !== undefined) clearTimeout(this.retry)
    await this.lost()
  }

  private start(): void {
    this.started = true
    void this.listen()
  }

  private async listen(): Promise<void> {
    if (this.closed) return
    const client = this.options.connect()
    this.listener = client
    client.on('notification', () => this.invalidate())
    client.on('error', () => void this.lost(client))
    client.on('end', () => void this.lost(client))
    try {
      await client.connect()
      await client.query(`LISTEN ${TOKENS_CHANNEL}`)
    } catch {
      await this.lost(client)
      return
    }
    if (this.listener !== client) return
    // Anything cached before now was read without a listener: start from nothing.
    this.invalidate()
    this.listening = true
  }

  /** The LISTEN connection is gone (or being closed): stop using the cache, reconnect later. */
  private async lost(client: pg.Client | undefined = this.listener): Promise<void> {
    if (client === undefined || client !== this.listener) return
    this.listener = undefined
    this.listening = false
    this.invalidate()
    client.removeAllListeners('notification')
    // An 'error' after end() must not reach the process as an unhandled event.
    client.on('error', () => {})
    if (!this.closed) {
      this.retry = setTimeout(() => {
        this.retry = undefined
        void this.listen()
      }, this.retryMs)
      this.retry.unref()
    }
    await client.end().catch(() => {})
  }
}
