/**
 * Writes to the REST directory that come from the platform rather than from REST clients:
 * directory events (`agent.created`, …) and directory imports. Both run inside a store write
 * transaction (`DirectoryStore.writeDirectory`), so the record and whatever else the batch writes
 * commit together. The fold's names for agents, departments and goals are kept in step: by the
 * fold itself for events, by {@link syncFoldNames} for imports and REST writes.
 * @module
 */
import type { DirectoryChange } from '../domain/directory-events.js'
import { createdRecord, updatedRecord } from '../domain/directory-events.js'
import { AppError } from '../domain/errors.js'
import { agentInfoOf, FOLD_STATE, goalInfoOf, serializeFoldState } from '../domain/fold/index.js'
import type { DirectoryKind, ResourceSpec } from '../domain/rest/resources.js'
import {
  defaultAccount,
  defaultAccountRouting,
  RESOURCES,
  SINGLETON_ID,
} from '../domain/rest/resources.js'
import type { Micros } from '../domain/time.js'
import type { DirectoryEntry, DirectoryWriteTx } from '../store/directory-port.js'
import type { WriteTx } from '../store/store.js'

type Json = Record<string, unknown>

export interface ChangeContext {
  accountId: number
  /** When the change happened (the event's time): default `create_date` of a new record. */
  at: Micros
  /** The account's creation time: the `create_date` of its account record until one is written. */
  accountCreatedAt: Micros
}

/**
 * Applies one directory change in `tx`: a `created` record replaces any record with its id (a
 * sender re-publishing its directory, as the simulator does every run, changes nothing); an
 * `updated` one merges into the stored record (or, for the account and its routing settings, into
 * the defaults the REST API serves); `deleted` removes it. Throws the catalogue's
 * INVALID_RESOURCE (naming the field), RESOURCE_CONFLICT (a name or email another record holds)
 * or RESOURCE_NOT_FOUND (updating or deleting a record that does not exist). Returns the stored
 * record (null when deleted).
 */
export async function applyDirectoryChange(
  tx: DirectoryWriteTx,
  change: DirectoryChange,
  ctx: ChangeContext,
): Promise<Json | null> {
  const spec = RESOURCES[change.kind]
  if (change.action === 'deleted') {
    if (!(await tx.deleteEntry(change.kind, change.id))) throw notFound(spec, change.id)
    if (change.kind === 'agent') await tx.deleteEntry('agent_routing', change.id)
    return null
  }
  let record: Json
  if (change.action === 'created') {
    record = createdRecord(change, { accountId: ctx.accountId, at: ctx.at })
  } else {
    const stored = await tx.getEntry(change.kind, change.id)
    const existing = stored
      ? (JSON.parse(stored.body) as Json)
      : change.id === SINGLETON_ID
        ? singletonDefaults(change.kind, ctx)
        : undefined
    if (existing === undefined) throw notFound(spec, change.id)
    record = updatedRecord(change, existing)
  }
  const entry = entryOf(spec, record)
  await checkUnique(tx, spec, entry)
  await tx.putEntry(change.kind, entry)
  return record
}

/**
 * Writes the fold's names for a REST record of an agent, department or goal (a no-op for other
 * kinds): what later chats show for the agent and department, and the goal settings conversions
 * are attributed by. For writes that do not go through the fold (REST writes, imports).
 */
export async function syncFoldNames(tx: WriteTx, kind: DirectoryKind, record: Json): Promise<void> {
  const key = String(record['id'])
  if (kind === 'agent') {
    const info = agentInfoOf(record)
    await tx.putState(
      FOLD_STATE.directoryAgent,
      key,
      serializeFoldState(FOLD_STATE.directoryAgent, info),
    )
  } else if (kind === 'department' && typeof record['name'] === 'string') {
    const info = { name: record['name'] }
    await tx.putState(
      FOLD_STATE.directoryDepartment,
      key,
      serializeFoldState(FOLD_STATE.directoryDepartment, info),
    )
  } else if (kind === 'goal') {
    const info = goalInfoOf(record)
    await tx.putState(
      FOLD_STATE.directoryGoal,
      key,
      serializeFoldState(FOLD_STATE.directoryGoal, info),
    )
  }
}

/** The stored entry of a validated record (the same columns the REST routes store). */
export function entryOf(spec: ResourceSpec, record: Json): DirectoryEntry {
  const id = record['id']
  const singleton = spec.kind === 'account' || spec.kind === 'account_routing'
  return {
    id: singleton ? SINGLETON_ID : String(id),
    numericId: typeof id === 'number' ? id : null,
    lookup: spec.lookup(record),
    body: JSON.stringify(record),
  }
}

/** The same rule as the REST writes: a name or email another record of the account holds is a conflict. */
async function checkUnique(
  tx: DirectoryWriteTx,
  spec: ResourceSpec,
  entry: DirectoryEntry,
): Promise<void> {
  if (!spec.uniqueLookup || entry.lookup === null || spec.kind === 'shortcut') return
  const clash = await tx.findEntry(spec.kind, entry.lookup)
  if (clash && clash.id !== entry.id) {
    throw new AppError(
      'RESOURCE_CONFLICT',
      `${spec.singular} ${entry.id}: ${spec.kind === 'agent' ? 'email' : 'name'} "${entry.lookup}" is already held by ${spec.singular} ${clash.id}.`,
    )
  }
}

function singletonDefaults(kind: DirectoryKind, ctx: ChangeContext): Json {
  return kind === 'account'
    ? defaultAccount(ctx.accountId, ctx.accountCreatedAt)
    : defaultAccountRouting()
}

function notFound(spec: ResourceSpec, id: string): AppError {
  return new AppError(
    'RESOURCE_NOT_FOUND',
    `${spec.singular} ${id} is not in the directory: send ${spec.singular}.created for it first.`,
  )
}
