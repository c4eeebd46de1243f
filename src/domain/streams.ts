/**
 * The five export streams: their names, units, keys, cursor tie-breakers and how an item is
 * validated on import and rendered for storage. Pure: no I/O.
 * @module
 */
import { z } from 'zod'
import type { Micros } from './time.js'
import { formatIso, parseIso, secondsToMicros } from './time.js'

export const STREAM_NAMES = [
  'chats',
  'conversions',
  'department_events',
  'agent_timeline',
  'agent_events',
] as const

export type StreamName = (typeof STREAM_NAMES)[number]

/** Type guard for stream names coming from URLs and flags. */
export function isStreamName(value: string): value is StreamName {
  return (STREAM_NAMES as readonly string[]).includes(value)
}

/**
 * The least of an item each stream derives its key and sort id from: an `id`, or on the agent
 * timeline the agent and the span's start.
 */
export interface ItemIdentity {
  chats: { id: string }
  conversions: { id: string }
  department_events: { id: string }
  agent_timeline: { agent_id: number; start_time: string }
  agent_events: { id: string }
}

/** Where an item is stored: its key and its cursor tie-breaker. */
export interface ItemIds {
  /** Unique per account and stream; a second item with the same key replaces the first. */
  key: string
  /** The cursor tie-breaker stored with the item (compared as bytes). */
  sortId: string
}

/** What an import line becomes before it is stored. */
export interface PreparedItem {
  /** Unique per account and stream; a second item with the same key replaces the first. */
  key: string
  /** The cursor tie-breaker stored with the item (compared as bytes). */
  sortId: string
  /** The item's own time: its position when timestamps are preserved. */
  ownTime: Micros
  /** What is stored, given the position the item gets. */
  render(position: Micros): RenderedItem
}

/** An item as stored: its JSON and, on streams that keep one, its summary. */
export interface RenderedItem {
  body: string
  /** The body without the attributes `StreamSpec.summaryOmits` names (see `ItemWrite.summary`). */
  summary?: string
}

export interface StreamSpec<S extends StreamName = StreamName> {
  name: S
  /** Unit of `start_time` / `end_time` on the wire. */
  unit: 'seconds' | 'microseconds'
  /** Whether `fields` resource expansion applies (chats, conversions). */
  expandable: boolean
  /**
   * Whether each item written in one transaction needs a position of its own. True where the sort
   * id alone is not unique (agent_timeline: one agent can close several spans in a transaction);
   * writers then use `P`, `P + 1`, … and the store raises the clock over them, so
   * (position, sort id) stays a unique cursor point.
   */
  positionPerItem: boolean
  /**
   * The top-level attributes an item's stored summary leaves out; a projection naming none of
   * them can be served from the summary. Undefined: the stream stores no summaries.
   */
  summaryOmits?: ReadonlySet<string>
  /**
   * The key and sort id of an item: the one derivation, used by import (`prepare`) and by live
   * ingest for the items folding produces.
   */
  itemIds(item: ItemIdentity[S]): ItemIds
  /** Validates one import object; throws a ZodError when it is not a valid item. */
  prepare(raw: unknown): PreparedItem
  /** Turns a `start_id` from a URL into the stored sort id; `undefined` when malformed. */
  sortIdFromStartId(startId: string): string | undefined
  /** Turns a stored sort id back into the `end_id` shown on the wire. */
  endIdFromSortId(sortId: string): string
}

const isoTimestamp = z.string().refine((s) => parseIso(s) !== undefined, {
  message: 'expected an ISO-8601 UTC timestamp such as 2020-12-22T04:54:16Z',
})

function isoToMicros(s: string): Micros {
  const micros = parseIso(s)
  if (micros === undefined) throw new Error(`not an ISO timestamp: ${s}`)
  return micros
}

const idString = z.string().min(1).max(200)

/**
 * What a chat's summary leaves out: the arrays that make up most of a chat's size (about 3.5 KB,
 * of which the summary keeps roughly a third), and that few projections ask for.
 */
export const CHAT_SUMMARY_OMITS: ReadonlySet<string> = new Set([
  'history',
  'engagements',
  'conversions',
  'webpath',
])

/**
 * A chat's summary: its JSON without the {@link CHAT_SUMMARY_OMITS} attributes, keys in the chat's
 * own order. Pass the very object whose JSON is the stored body (after `update_timestamp` is set),
 * so that projecting the summary gives exactly what projecting the body gives.
 */
export function chatSummary(chat: Readonly<Record<string, unknown>>): string {
  // fromEntries, not assignment: a "__proto__" attribute stays an attribute, as in the body.
  return JSON.stringify(
    Object.fromEntries(Object.entries(chat).filter(([key]) => !CHAT_SUMMARY_OMITS.has(key))),
  )
}

/**
 * A chat as stored at `position`: its `update_timestamp` is that position (the moment of its last
 * change here), and its summary comes from the same object, so projections served from either
 * match exactly. Imports and live ingest both store chats through this.
 */
export function renderChat(
  chat: Readonly<{ deleted?: boolean }>,
  position: Micros,
): { body: string; summary: string } {
  const stored = { ...chat, update_timestamp: formatIso(position), deleted: chat.deleted ?? false }
  return { body: JSON.stringify(stored), summary: chatSummary(stored) }
}

const chatSchema = z.looseObject({
  id: idString,
  type: z.enum(['chat', 'offline_msg']),
  timestamp: isoTimestamp,
  update_timestamp: isoTimestamp.optional(),
  deleted: z.boolean().optional(),
})

const conversionSchema = z.looseObject({
  id: idString,
  timestamp: isoTimestamp,
  goal_id: z.number().int(),
})

const departmentEventSchema = z.looseObject({
  id: idString,
  timestamp: isoTimestamp,
  field_name: z.string().min(1),
  department_id: z.number().int().nullable(),
})

const agentTimelineSchema = z.looseObject({
  agent_id: z.number().int().nonnegative(),
  start_time: isoTimestamp,
  duration: z.number().nonnegative(),
  status: z.enum(['online', 'away', 'invisible']),
  engagement_count: z.number().int().nonnegative(),
})

const agentEventSchema = z.looseObject({
  id: idString,
  agent_id: z.number().int().nonnegative(),
  field_name: z.enum(['status', 'engagements']),
  timestamp: isoTimestamp,
})

/** Sort ids compare as bytes; agent ids are padded so they also sort as numbers. */
const AGENT_ID_WIDTH = 20

/**
 * A span is identified by its agent and start (what Airbyte and our sync use as the key) and
 * tie-broken by its agent, padded so that, compared as bytes, agent ids sort as numbers.
 */
function timelineIds(span: ItemIdentity['agent_timeline']): ItemIds {
  return {
    key: `${span.agent_id}:${isoToMicros(span.start_time)}`,
    sortId: String(span.agent_id).padStart(AGENT_ID_WIDTH, '0'),
  }
}

/** Keyed and tie-broken by the item's own id. */
function byId({ id }: { id: string }): ItemIds {
  return { key: id, sortId: id }
}

function textIds(): Pick<StreamSpec, 'sortIdFromStartId' | 'endIdFromSortId'> {
  return {
    sortIdFromStartId: (startId) => (startId.length <= 200 ? startId : undefined),
    endIdFromSortId: (sortId) => sortId,
  }
}

/**
 * A stream of items with an `id` and an own `timestamp` (conversions, department and agent events):
 * stored as written, keyed and tie-broken by id, and positioned at their timestamp when preserved.
 */
function timestampedStream<S extends 'conversions' | 'department_events' | 'agent_events'>(
  name: S,
  expandable: boolean,
  schema: z.ZodType<{ id: string; timestamp: string }>,
): StreamSpec<S> {
  return {
    name,
    unit: 'seconds',
    expandable,
    positionPerItem: false,
    itemIds: byId,
    prepare(raw) {
      const item = schema.parse(raw)
      const rendered = { body: JSON.stringify(item) }
      return {
        ...byId(item),
        ownTime: isoToMicros(item.timestamp),
        render: () => rendered,
      }
    },
    ...textIds(),
  }
}

const SPECS: { [S in StreamName]: StreamSpec<S> } = {
  chats: {
    name: 'chats',
    unit: 'seconds',
    expandable: true,
    positionPerItem: false,
    summaryOmits: CHAT_SUMMARY_OMITS,
    itemIds: byId,
    prepare(raw) {
      const chat = chatSchema.parse(raw)
      const ownTime = isoToMicros(chat.update_timestamp ?? chat.timestamp)
      return {
        ...byId(chat),
        ownTime,
        render: (position) => renderChat(chat, position),
      }
    },
    ...textIds(),
  },
  conversions: timestampedStream('conversions', true, conversionSchema),
  department_events: timestampedStream('department_events', false, departmentEventSchema),
  agent_timeline: {
    name: 'agent_timeline',
    unit: 'microseconds',
    expandable: false,
    positionPerItem: true,
    itemIds: timelineIds,
    prepare(raw) {
      const span = agentTimelineSchema.parse(raw)
      const rendered = { body: JSON.stringify(span) }
      return {
        ...timelineIds(span),
        // The timeline is ordered and cursored by the END of each span.
        ownTime: isoToMicros(span.start_time) + secondsToMicros(span.duration),
        render: () => rendered,
      }
    },
    sortIdFromStartId: (startId) =>
      /^\d{1,20}$/.test(startId) ? startId.padStart(AGENT_ID_WIDTH, '0') : undefined,
    endIdFromSortId: (sortId) => sortId.replace(/^0+(?=\d)/, ''),
  },
  agent_events: timestampedStream('agent_events', false, agentEventSchema),
}

/** The specification of one stream. */
export function streamSpec(name: StreamName): StreamSpec {
  return SPECS[name]
}
