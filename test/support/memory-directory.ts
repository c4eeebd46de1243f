/**
 * A reference implementation of the directory port over in-memory maps: the model the store
 * implementations (phase 2) must agree with, and what the phase-1 route tests run on. It delegates
 * `writeDirectory` to the real store's `write`, so positions and serialisation are the store's;
 * only the directory rows live in memory (and roll back with a failed transaction).
 */
import { matchesChatSearch } from '../../src/domain/rest/chats.js'
import { applyIdWindow } from '../../src/domain/rest/id-window.js'
import type {
  ChatReader,
  DirectoryEntry,
  DirectoryKind,
  DirectoryStore,
  DirectoryWriteTx,
  IdWindow,
} from '../../src/store/directory-port.js'
import { extendWriteTx } from '../../src/store/directory-tx.js'
import type { Store } from '../../src/store/store.js'

type Table = Map<string, DirectoryEntry>

export function memoryDirectory(store: Store): DirectoryStore {
  const tables = new Map<string, Table>()
  const counters = new Map<string, number>()
  const table = (accountId: number, kind: DirectoryKind, from = tables): Table => {
    const key = `${accountId}/${kind}`
    let t = from.get(key)
    if (!t) from.set(key, (t = new Map()))
    return t
  }
  const sorted = (entries: Iterable<DirectoryEntry>) =>
    [...entries].sort((a, b) =>
      a.numericId !== null && b.numericId !== null
        ? a.numericId - b.numericId
        : a.id < b.id
          ? -1
          : a.id > b.id
            ? 1
            : 0,
    )
  const find = (t: Table, lookup: string) => [...t.values()].find((e) => e.lookup === lookup)

  return {
    async listEntries(accountId, kind, window: IdWindow | null) {
      const all = sorted(table(accountId, kind).values())
      if (window === null) return all
      const withIds = all.map((e) => ({ id: e.numericId ?? 0, entry: e }))
      return applyIdWindow(withIds, window).map((w) => w.entry)
    },
    async getEntry(accountId, kind, id) {
      return table(accountId, kind).get(id)
    },
    async findEntry(accountId, kind, lookup) {
      return find(table(accountId, kind), lookup)
    },
    writeDirectory(accountId, fn) {
      return store.write(accountId, async (base) => {
        // Copy-on-write: the transaction's changes become visible only when fn succeeds.
        const draft = new Map<string, Table>()
        const draftTable = (kind: DirectoryKind) => {
          const key = `${accountId}/${kind}`
          if (!draft.has(key)) draft.set(key, new Map(table(accountId, kind)))
          return table(accountId, kind, draft)
        }
        const draftCounters = new Map(counters)
        const tx: DirectoryWriteTx = extendWriteTx(base, {
          async allocateId(kind: DirectoryKind) {
            const key = `${accountId}/${kind}`
            const highest = Math.max(
              draftCounters.get(key) ?? 0,
              ...[...draftTable(kind).values()].map((e) => e.numericId ?? 0),
            )
            draftCounters.set(key, highest + 1)
            return highest + 1
          },
          async getEntry(kind: DirectoryKind, id: string) {
            return draftTable(kind).get(id)
          },
          async findEntry(kind: DirectoryKind, lookup: string) {
            return find(draftTable(kind), lookup)
          },
          async putEntry(kind: DirectoryKind, entry: DirectoryEntry) {
            draftTable(kind).set(entry.id, entry)
          },
          async deleteEntry(kind: DirectoryKind, id: string) {
            return draftTable(kind).delete(id)
          },
        })
        const result = await fn(tx)
        for (const [key, t] of draft) tables.set(key, t)
        for (const [key, n] of draftCounters) counters.set(key, n)
        return result
      })
    },
  }
}

/**
 * A reference chat reader: scans the `chats` export stream of the real store (its current item per
 * chat) and applies the domain's search semantics. Phase 2 gives the stores their own reads.
 */
export function scanChatReader(store: Store): ChatReader {
  const all = async (accountId: number) => {
    const chats = new Map<string, string>()
    let afterPosition = 0
    let afterSortId: string | null = null
    for (;;) {
      const rows = await store.readPage({
        accountId,
        stream: 'chats',
        afterPosition,
        afterSortId,
        limit: 1000,
      })
      for (const row of rows) {
        const body = row.body.toString('utf8')
        chats.set(String((JSON.parse(body) as { id: unknown }).id), body)
      }
      const last = rows[rows.length - 1]
      if (!last) break
      afterPosition = last.position
      afterSortId = last.sortId
    }
    return [...chats.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  }
  return {
    async getChats(accountId, ids) {
      const found = new Map<string, string>()
      for (const [id, body] of await all(accountId)) if (ids.includes(id)) found.set(id, body)
      return found
    },
    async listChats(accountId, afterId, limit) {
      return (await all(accountId))
        .filter(([id]) => afterId === null || id > afterId)
        .slice(0, limit)
        .map(([, body]) => body)
    },
    async searchChats(accountId, query, offset, limit) {
      const hits = (await all(accountId))
        .map(([, body]) => body)
        .filter((body) => {
          const chat = JSON.parse(body) as Record<string, unknown>
          return chat['deleted'] !== true && matchesChatSearch(query, chat)
        })
      return { total: hits.length, chats: hits.slice(offset, offset + limit) }
    },
  }
}
