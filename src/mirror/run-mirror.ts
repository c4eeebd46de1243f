/**
 * The mirror: copies a Zendesk Chat account's export streams (or another chat-export server's)
 * into a local chat-export account, resumably, by running the sync engine into an
 * `accountDestination`. The engine brings the rest: one concurrent reader per stream, the source's
 * rate limit and Retry-After honoured by the export client, a page and its cursor committed
 * together, `--follow` until stopped. The source's five-minute rule needs nothing of ours: every
 * start_time the mirror sends is a cursor the source handed out (or 0), never a recent time.
 * See docs/mirror.md.
 * @module
 */
import type { FetchLike } from '../client/index.js'
import type { ExportStream } from '../client/index.js'
import type { Account, Store } from '../store/store.js'
import { DuplicateKeyError } from '../store/store-rules.js'
import type { RunSyncOptions, SyncResult } from '../sync/run-sync.js'
import { runSync, SyncSourceMismatchError } from '../sync/run-sync.js'
import type { SyncEvent } from '../sync/sync-events.js'
import { accountDestination } from './account-destination.js'

export interface RunMirrorOptions {
  /** The source: https://acme.zendesk.com, its …/api/v2/chat, or a chat-export server's URL. */
  from: string
  token: string
  /** The local store (left open). */
  store: Store
  /** The local account to mirror into; created when missing. */
  account: string
  /** Default: all five export streams. */
  streams?: readonly ExportStream[]
  /** Keep mirroring after catching up, until `signal` aborts. */
  follow?: boolean
  intervalMs?: number
  onProgress?: (event: SyncEvent) => void
  signal?: AbortSignal
  fetch?: FetchLike
  client?: RunSyncOptions['client']
}

export interface MirrorResult extends SyncResult {
  account: Account
  /** Whether this run created the local account. */
  created: boolean
}

/**
 * Mirrors `from` into the local account. Resolves when every stream has caught up (with
 * `follow`, never until aborted); rejects like `runSync` (the first error, or the abort reason).
 */
export async function runMirror(options: RunMirrorOptions): Promise<MirrorResult> {
  const { account, created } = await ensureAccount(options.store, options.account)
  const destination = accountDestination({
    store: options.store,
    accountId: account.id,
    accountName: account.name,
  })
  const result = await runSync({
    from: options.from,
    token: options.token,
    to: destination,
    ...(options.streams === undefined ? {} : { streams: options.streams }),
    follow: options.follow ?? false,
    ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
    // A mirror keeps tombstones: connectors reading the local export must see deletions too.
    deletedMode: 'flag',
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    ...(options.client === undefined ? {} : { client: options.client }),
  }).catch((error: unknown) => {
    // The engine's advice (`sync state reset`) is for sync destinations; a mirror starts over in
    // a new account instead, since resetting would copy everything a second time.
    if (!(error instanceof SyncSourceMismatchError)) throw error
    throw new SyncSourceMismatchError(
      `Account ${account.name} is a mirror of another source than ${options.from}. Mirror that source into a new account (another --account name).`,
    )
  })
  return { ...result, account, created }
}

async function ensureAccount(
  store: Store,
  name: string,
): Promise<{ account: Account; created: boolean }> {
  const existing = await store.getAccountByName(name)
  if (existing) return { account: existing, created: false }
  try {
    return { account: await store.createAccount(name), created: true }
  } catch (error) {
    // Another process created it in between: use that one.
    if (!(error instanceof DuplicateKeyError)) throw error
    const account = await store.getAccountByName(name)
    if (!account) throw error
    return { account, created: false }
  }
}
