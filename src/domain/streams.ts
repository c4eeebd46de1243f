/**
 * The five export streams: their names, units, keys, cursor tie-breakers and how an import item
 * is rendered for storage (validation is `validateImportItem` in ./schemas/, with the one schema of
 * each item). Pure: no I/O.
 * @module
 */
import type { ChatIndexRow } from './rest/chat-index.js'
import { chatIndexRow } from './rest/chat-index.js'
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
  /** On chats, the body's chat_index row (see `ItemWrite.chatIndex`). */
  chatIndex?: ChatIndexRow
}

export interface StreamSpec<S extends StreamName = StreamName> {
  name: S
  /** Unit of `start_time` / `end_time` on the wire. */
  unit: 'seconds' | 'microseconds'
  /** Whether `fields` resource expansion applies (chats, conversions). */
  expandable: boolean
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
  /**
   * Turns an import object into what is stored. The object must be a valid item (one that
   * `validateImportItem` found no problem with): this reads its identity and times, unchecked.
   */
  prepare(raw: unknown): PreparedItem
  /** Turns a `start_id` from a URL into the stored sort id; `undefined` when malformed. */
  sortIdFromStartId(startId: string): string | undefined
  /** Turns a stored sort id back into the `end_id` shown on the wire. */
  endIdFromSortId(sortId: string): string
}

function isoToMicros(s: string): Micros {
  const micros = parseIso(s)
  if (micros === undefined) throw new Error(`not an ISO timestamp: ${s}`)
  return micros
}

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
  // A copy with the omitted attributes set to undefined, which JSON leaves out: the copy keeps the
  // chat's keys in order and its hidden class (a "__proto__" attribute stays an attribute, as in
  // the body), so it stringifies as fast as the body does; filtering entries into a new object
  // built one key at a time stringified at half that speed.
  return JSON.stringify({ ...chat, ...OMITTED_IN_SUMMARY })
}

/** {@link CHAT_SUMMARY_OMITS} as attributes whose value JSON leaves out. */
const OMITTED_IN_SUMMARY: Readonly<Record<string, undefined>> = Object.freeze(
  Object.fromEntries([...CHAT_SUMMARY_OMITS].map((key) => [key, undefined])),
)

/**
 * A chat as stored at `position`: its `update_timestamp` is that position (the moment of its last
 * change here), and its summary and chat_index row come from the same object, so projections
 * served from either match exactly and the store need not parse the body again for the index.
 * Imports, live ingest and the REST chat writes all store chats through this.
 */
export function renderChat(
  chat: Readonly<{ deleted?: boolean }>,
  position: Micros,
): { body: string; summary: string; chatIndex: ChatIndexRow } {
  const stored = { ...chat, update_timestamp: formatIso(position), deleted: chat.deleted ?? false }
  return {
    body: JSON.stringify(stored),
    summary: chatSummary(stored),
    chatIndex: chatIndexRow(stored),
  }
}

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
): StreamSpec<S> {
  return {
    name,
    unit: 'seconds',
    expandable,
    itemIds: byId,
    prepare(raw) {
      const item = raw as { id: string; timestamp: string }
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
    summaryOmits: CHAT_SUMMARY_OMITS,
    itemIds: byId,
    prepare(raw) {
      const chat = raw as { id: string; timestamp: string; update_timestamp?: string }
      const ownTime = isoToMicros(chat.update_timestamp ?? chat.timestamp)
      // Held as text until it is written: a parsed chat takes several times the memory of its JSON.
      const text = JSON.stringify(chat)
      return {
        ...byId(chat),
        ownTime,
        render: (position) => renderChat(JSON.parse(text) as { deleted?: boolean }, position),
      }
    },
    ...textIds(),
  },
  conversions: timestampedStream('conversions', true),
  department_events: timestampedStream('department_events', false),
  agent_timeline: {
    name: 'agent_timeline',
    unit: 'microseconds',
    expandable: false,
    itemIds: timelineIds,
    prepare(raw) {
      const span = raw as { agent_id: number; start_time: string; duration: number }
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
  agent_events: timestampedStream('agent_events', false),
}

/** The specification of one stream. */
export function streamSpec(name: StreamName): StreamSpec {
  return SPECS[name]
}
