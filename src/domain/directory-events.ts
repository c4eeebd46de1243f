/**
 * Directory events: the live event API's way to keep the REST directory (agents, departments,
 * goals, skills, roles, shortcuts, triggers, bans, the account and its routing settings) in step
 * with the platform that owns it. Each collection has `<kind>.created`, `<kind>.updated` and
 * `<kind>.deleted`; the two singletons have `account.updated` and `routing_settings.updated`.
 *
 * The event schema checks only the envelope (a record object, an id); the record itself is
 * checked by the resource's wire schema (`src/domain/rest/schemas.ts`, through
 * {@link createdRecord} / {@link updatedRecord}), so there is one definition of a valid agent,
 * whether it arrives by REST, by event or by import. See docs/events.md, "Directory".
 * @module
 */
import { z } from 'zod'
import { AppError } from './errors.js'
import type { DirectoryKind, ResourceSpec } from './rest/resources.js'
import { RESOURCES, SINGLETON_ID } from './rest/resources.js'
import { intId } from './rest/schemas.js'
import { deepMerge, validate } from './rest/write-body.js'
import type { Micros } from './time.js'

type Json = Record<string, unknown>

/** Collections that directory events create, update and delete. */
export const DIRECTORY_COLLECTIONS = [
  'agent',
  'department',
  'goal',
  'skill',
  'role',
  'shortcut',
  'trigger',
  'ban',
] as const
export type DirectoryCollection = (typeof DIRECTORY_COLLECTIONS)[number]

/** What a directory event does to its record. */
export type DirectoryAction = 'created' | 'updated' | 'deleted'

/** A record body in an event: any JSON object, checked later by the resource schema. */
const recordBody = z.record(z.string(), z.unknown())
const shortcutId = z.string().min(1).max(200)

function keyed<K extends string, S extends z.ZodType>(key: K, schema: S): { [P in K]: S } {
  return { [key]: schema } as { [P in K]: S }
}

/**
 * The envelope fields every event has; the same as in `events.ts` (repeated here so this module
 * does not import the module that imports it).
 */
function envelope(isoTimestamp: z.ZodType<string>) {
  return { id: z.string().min(1).max(200), timestamp: isoTimestamp }
}

function collectionEvents<K extends DirectoryCollection, I extends z.ZodType>(
  kind: K,
  id: I,
  base: ReturnType<typeof envelope>,
) {
  return [
    z.object({ ...base, type: z.literal(`${kind}.created`), ...keyed(kind, recordBody) }),
    z.object({ ...base, type: z.literal(`${kind}.updated`), ...keyed(kind, recordBody) }),
    z.object({ ...base, type: z.literal(`${kind}.deleted`), ...keyed(`${kind}_id`, id) }),
  ] as const
}

/** The zod options of every directory event, for `ingestEventSchema`'s discriminated union. */
export function directoryEventSchemas(isoTimestamp: z.ZodType<string>) {
  const base = envelope(isoTimestamp)
  return [
    ...collectionEvents('agent', intId, base),
    ...collectionEvents('department', intId, base),
    ...collectionEvents('goal', intId, base),
    ...collectionEvents('skill', intId, base),
    ...collectionEvents('role', intId, base),
    ...collectionEvents('shortcut', shortcutId, base),
    ...collectionEvents('trigger', intId, base),
    ...collectionEvents('ban', intId, base),
    z.object({ ...base, type: z.literal('account.updated'), account: recordBody }),
    z.object({
      ...base,
      type: z.literal('routing_settings.updated'),
      routing_settings: recordBody,
    }),
  ] as const
}

export type DirectoryEvent = z.infer<ReturnType<typeof directoryEventSchemas>[number]>
export type DirectoryEventType = DirectoryEvent['type']

const DIRECTORY_TYPES: ReadonlySet<string> = new Set([
  ...DIRECTORY_COLLECTIONS.flatMap((k) => [`${k}.created`, `${k}.updated`, `${k}.deleted`]),
  'account.updated',
  'routing_settings.updated',
])

/** Whether an event (by its type) is a directory event. */
export function isDirectoryEvent<E extends { type: string }>(
  event: E,
): event is Extract<E, DirectoryEvent> {
  return DIRECTORY_TYPES.has(event.type)
}

/** One directory event, in the terms of the directory store. */
export interface DirectoryChange {
  kind: DirectoryKind
  action: DirectoryAction
  /** The entry id: an integer as text, a shortcut's name, or `"singleton"`. */
  id: string
  /** The record fields the event carries (empty for deletions). */
  fields: Json
}

/**
 * What a directory event changes: its kind, action, entry id and fields. Throws INVALID_RESOURCE
 * (naming the field) when a created/updated record has no usable id.
 * @example directoryChange({ type: 'agent.updated', agent: { id: 7, display_name: 'Ann' }, … })
 *   // { kind: 'agent', action: 'updated', id: '7', fields: { id: 7, display_name: 'Ann' } }
 */
export function directoryChange(event: DirectoryEvent): DirectoryChange {
  if (event.type === 'account.updated') {
    return { kind: 'account', action: 'updated', id: SINGLETON_ID, fields: event.account }
  }
  if (event.type === 'routing_settings.updated') {
    return {
      kind: 'account_routing',
      action: 'updated',
      id: SINGLETON_ID,
      fields: event.routing_settings,
    }
  }
  const [kind, action] = event.type.split('.') as [DirectoryCollection, DirectoryAction]
  const spec = RESOURCES[kind]
  if (action === 'deleted') {
    const id = (event as unknown as Json)[`${kind}_id`]
    return { kind, action, id: String(id), fields: {} }
  }
  const fields = (event as unknown as Json)[kind] as Json
  return { kind, action, id: recordId(spec, fields), fields }
}

/**
 * The change that stores `fields` as a whole record of `kind` (an import line): the same as a
 * `<kind>.created` event carrying them. Throws INVALID_RESOURCE when the record has no usable id.
 */
export function createdChange(kind: DirectoryCollection, fields: Json): DirectoryChange {
  return { kind, action: 'created', id: recordId(RESOURCES[kind], fields), fields }
}

/** The id a record names: `id` (integer), or for shortcuts `name` (their id is their name). */
function recordId(spec: ResourceSpec, fields: Json): string {
  if (spec.idStyle === 'name') {
    const name = fields['name'] ?? fields['id']
    if (typeof name === 'string' && name !== '') {
      if (fields['id'] !== undefined && fields['id'] !== name) {
        throw invalid(
          `${spec.singular}.id must equal ${spec.singular}.name (a shortcut's id is its name)`,
        )
      }
      return name
    }
    throw invalid(`${spec.singular}.name is required: a shortcut is identified by its name`)
  }
  const parsed = intId.safeParse(fields['id'])
  if (!parsed.success) {
    throw invalid(
      `${spec.singular}.id is required and must be a non-negative integer: the sender chooses the ids that its chat events use`,
    )
  }
  return String(parsed.data)
}

/** What a created record's defaults depend on. */
export interface RecordContext {
  accountId: number
  /** The event's time: the default `create_date` / `created_at`. */
  at: Micros
}

/**
 * The record a `created` change stores: the resource defaults with the event's fields over them,
 * validated by the resource's wire schema. Read-only fields of the REST API (`create_date`,
 * `roles`, `login_count`, a ban's `type`) may be set: the event's sender owns the directory.
 * Throws INVALID_RESOURCE naming the field.
 */
export function createdRecord(change: DirectoryChange, ctx: RecordContext): Json {
  const spec = RESOURCES[change.kind]
  const numeric = spec.idStyle === 'integer' ? Number(change.id) : 0
  const defaults = spec.defaults(
    { accountId: ctx.accountId, allocatedId: numeric, now: ctx.at },
    change.fields,
  )
  const merged = deepMerge(defaults, change.fields)
  if (spec.kind === 'shortcut') merged['id'] = change.id
  return validate(spec, merged)
}

/**
 * The record an `updated` change stores: `existing` with the event's fields merged over it
 * (objects key by key, arrays and scalars replace), validated. The id cannot change.
 */
export function updatedRecord(change: DirectoryChange, existing: Json): Json {
  const spec = RESOURCES[change.kind]
  const merged = deepMerge(existing, change.fields)
  if (spec.idStyle !== 'name' || spec.kind === 'shortcut') merged['id'] = existing['id']
  if (spec.kind === 'shortcut') merged['name'] = existing['name']
  return validate(spec, merged)
}

function invalid(message: string): AppError {
  return new AppError('INVALID_RESOURCE', `${message}.`)
}
