/**
 * How foldEvent reads and writes what it keeps between events: private state by kind and key
 * (JSON-serialisable values) and the current exported chat objects. A store transaction
 * implements it over `WriteTx` (see docs/derivation.md, "Connecting to the store"); tests use
 * `MemoryFoldState`.
 * @module
 */
import type { AgentInfo, GoalInfo } from './directory.js'
import type { Chat } from './types.js'

export type MaybePromise<T> = T | Promise<T>

/** The kinds of private state folding keeps (keys: chat id, agent id, department id or "null", visitor id). */
export const FOLD_STATE = {
  chat: 'fold.chat',
  agent: 'fold.agent',
  department: 'fold.department',
  visitor: 'fold.visitor',
  directoryAgent: 'directory.agent',
  directoryDepartment: 'directory.department',
  directoryGoal: 'directory.goal',
} as const

export type FoldStateKind = (typeof FOLD_STATE)[keyof typeof FOLD_STATE]

/**
 * Storage for folding. Values are plain JSON (an implementation may store `JSON.stringify(value)`
 * and return `JSON.parse(text)`). Values handed out belong to the fold, which may change them in
 * place: return a fresh copy, or (like the ingest service's batch cache) objects that are thrown
 * away when a fold fails. `getChat` returns the chat item as last written from a
 * FoldOutput, so the items of one event's output must be written before the next event is folded.
 */
export interface FoldStateAccess {
  getState(kind: FoldStateKind, key: string): MaybePromise<unknown>
  putState(kind: FoldStateKind, key: string, value: unknown): MaybePromise<void>
  /** The stored chat item (an extra `update_timestamp` is ignored); undefined when none. */
  getChat(chatId: string): MaybePromise<unknown>
}

/** Directory entry of a department, as stored. */
export interface DepartmentInfo {
  name: string
}

/** The chats of one visitor, for conversion attribution. */
export interface VisitorChats {
  v: 1
  chats: { chatId: string; at: number }[]
}

export type { AgentInfo, GoalInfo }

/** An in-memory FoldStateAccess (tests, simulations). JSON round-trips every value, like a store. */
export class MemoryFoldState implements FoldStateAccess {
  private readonly state = new Map<string, string>()
  private readonly chats = new Map<string, string>()

  getState(kind: FoldStateKind, key: string): unknown {
    const text = this.state.get(`${kind}\u0000${key}`)
    return text === undefined ? undefined : JSON.parse(text)
  }

  putState(kind: FoldStateKind, key: string, value: unknown): void {
    this.state.set(`${kind}\u0000${key}`, JSON.stringify(value))
  }

  getChat(chatId: string): unknown {
    const text = this.chats.get(chatId)
    return text === undefined ? undefined : JSON.parse(text)
  }

  /** Stores the chat items of a fold output, as the store's putItem would. */
  writeChats(chats: readonly Chat[]): void {
    for (const chat of chats) this.chats.set(chat.id, JSON.stringify(chat))
  }
}
