/**
 * How foldEvent reads and writes what it keeps between events: private state by kind and key
 * (JSON-serialisable values, one type per kind) and the current exported chat objects. A store
 * transaction implements it over `WriteTx` (see docs/derivation.md, "Connecting to the store");
 * tests use `MemoryFoldState`. Stored text becomes a typed value in one place,
 * {@link parseFoldState} (and {@link parseStoredChat} for chat items).
 * @module
 */
import type { AgentInfo, GoalInfo } from './directory.js'
import type { AgentState } from './fold-agent.js'
import type { DepartmentQueueState } from './fold-department.js'
import type { Chat, ChatPrivate } from './types.js'

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

/** The value kept under each kind of fold state. */
export interface FoldStateValues {
  [FOLD_STATE.chat]: ChatPrivate
  [FOLD_STATE.agent]: AgentState
  [FOLD_STATE.department]: DepartmentQueueState
  [FOLD_STATE.visitor]: VisitorChats
  [FOLD_STATE.directoryAgent]: AgentInfo
  [FOLD_STATE.directoryDepartment]: DepartmentInfo
  [FOLD_STATE.directoryGoal]: GoalInfo
}

/** A chat item as stored: the exported chat, with the `update_timestamp` the store gave it. */
export type StoredChat = Chat & { update_timestamp?: string }

/**
 * Storage for folding. Values are plain JSON (an implementation stores
 * `serializeFoldState(kind, value)` and returns `parseFoldState(kind, text)`). Values handed out
 * belong to the fold, which may change them in place: return a fresh copy, or (like the ingest
 * service's batch cache) objects that are thrown away when a fold fails. `getChat` returns the
 * chat item as last written from a FoldOutput, so the items of one event's output must be
 * written before the next event is folded.
 */
export interface FoldStateAccess {
  getState<K extends FoldStateKind>(
    kind: K,
    key: string,
  ): MaybePromise<FoldStateValues[K] | undefined>
  putState<K extends FoldStateKind>(
    kind: K,
    key: string,
    value: FoldStateValues[K],
  ): MaybePromise<void>
  /** The stored chat item (an extra `update_timestamp` is ignored); undefined when none. */
  getChat(chatId: string): MaybePromise<StoredChat | undefined>
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * What each kind's stored value must look like to be read as that kind: its version and the
 * fields that identify it. A shallow check, by design: the fold wrote these values itself, so
 * this catches a corrupt row or a kind mix-up, not a malformed event; deeper checks would cost
 * every read of every batch.
 */
const LOOKS_LIKE: { [K in FoldStateKind]: (value: unknown) => value is FoldStateValues[K] } = {
  [FOLD_STATE.chat]: (v): v is ChatPrivate =>
    isRecord(v) && v.v === 1 && typeof v.chatId === 'string' && Array.isArray(v.times),
  [FOLD_STATE.agent]: (v): v is AgentState =>
    isRecord(v) && v.v === 1 && typeof v.agentId === 'number' && Array.isArray(v.chats),
  [FOLD_STATE.department]: (v): v is DepartmentQueueState =>
    isRecord(v) && v.v === 1 && isRecord(v.value) && typeof v.at === 'number',
  [FOLD_STATE.visitor]: (v): v is VisitorChats =>
    isRecord(v) && v.v === 1 && Array.isArray(v.chats),
  [FOLD_STATE.directoryAgent]: (v): v is AgentInfo =>
    isRecord(v) && typeof v.display_name === 'string' && typeof v.full_name === 'string',
  [FOLD_STATE.directoryDepartment]: (v): v is DepartmentInfo =>
    isRecord(v) && typeof v.name === 'string',
  [FOLD_STATE.directoryGoal]: (v): v is GoalInfo =>
    isRecord(v) && typeof v.name === 'string' && typeof v.attribution_period_days === 'number',
}

/**
 * A stored fold state value, from the text {@link serializeFoldState} made of it. Throws when the
 * text is not a value of `kind` (a corrupt row): folding on top of it would export nonsense.
 * @example parseFoldState(FOLD_STATE.directoryDepartment, '{"name":"Sales"}') // { name: 'Sales' }
 */
export function parseFoldState<K extends FoldStateKind>(kind: K, text: string): FoldStateValues[K] {
  const value: unknown = JSON.parse(text)
  const looksLike = LOOKS_LIKE[kind]
  if (!looksLike(value)) throw new Error(`stored fold state of kind ${kind} is not a ${kind} value`)
  return value
}

/** The text a fold state value is stored as (plain JSON). */
export function serializeFoldState<K extends FoldStateKind>(
  _kind: K,
  value: FoldStateValues[K],
): string {
  return JSON.stringify(value)
}

function looksLikeChat(v: unknown): v is StoredChat {
  return isRecord(v) && typeof v.id === 'string' && (v.type === 'chat' || v.type === 'offline_msg')
}

/** A stored chat item, from its JSON body. Throws when the body is not a chat. */
export function parseStoredChat(text: string): StoredChat {
  const value: unknown = JSON.parse(text)
  if (!looksLikeChat(value)) throw new Error('stored chat item is not a chat')
  return value
}

/** An in-memory FoldStateAccess (tests, simulations). JSON round-trips every value, like a store. */
export class MemoryFoldState implements FoldStateAccess {
  private readonly state = new Map<string, string>()
  private readonly chats = new Map<string, string>()

  getState<K extends FoldStateKind>(kind: K, key: string): FoldStateValues[K] | undefined {
    const text = this.state.get(`${kind}\u0000${key}`)
    return text === undefined ? undefined : parseFoldState(kind, text)
  }

  putState<K extends FoldStateKind>(kind: K, key: string, value: FoldStateValues[K]): void {
    this.state.set(`${kind}\u0000${key}`, serializeFoldState(kind, value))
  }

  getChat(chatId: string): StoredChat | undefined {
    const text = this.chats.get(chatId)
    return text === undefined ? undefined : parseStoredChat(text)
  }

  /** Stores the chat items of a fold output, as the store's putItem would. */
  writeChats(chats: readonly Chat[]): void {
    for (const chat of chats) this.chats.set(chat.id, JSON.stringify(chat))
  }
}
