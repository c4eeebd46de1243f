/**
 * Builds a directory write transaction over a store's own write transaction. Forwarding (not
 * prototype inheritance) keeps every WriteTx method running on the store's object, whose private
 * bookkeeping (the highest item position written, the ended flag) must stay its own.
 * @module
 */
import type { DirectoryWriteTx } from './directory-port.js'
import type { WriteTx } from './store.js'

export type DirectoryTxMethods = Omit<DirectoryWriteTx, keyof WriteTx>

/** `tx`'s methods plus the directory methods, as one DirectoryWriteTx. */
export function extendWriteTx(tx: WriteTx, directory: DirectoryTxMethods): DirectoryWriteTx {
  return {
    get accountId() {
      return tx.accountId
    },
    get position() {
      return tx.position
    },
    highWaterMark: (stream) => tx.highWaterMark(stream),
    getItem: (stream, key) => tx.getItem(stream, key),
    getItems: (stream, keys) => tx.getItems(stream, keys),
    putItem: (stream, item) => tx.putItem(stream, item),
    getState: (kind, key) => tx.getState(kind, key),
    getStates: (kind, keys) => tx.getStates(kind, keys),
    putState: (kind, key, value) => tx.putState(kind, key, value),
    deleteState: (kind, key) => tx.deleteState(kind, key),
    markEvent: (eventId) => tx.markEvent(eventId),
    markEvents: (eventIds) => tx.markEvents(eventIds),
    ...directory,
  }
}
