/**
 * The item types of each export stream, derived from the server's zod schemas
 * (src/domain/schemas). Type-only imports: they are erased, so the client pulls no zod at run time.
 * The types say what a chat-export server (and the reference) serves; the client does not check
 * items against them.
 * @module
 */
import type { ExportedItemOf } from '../domain/schemas/index.js'
import type { ExportStream } from './export-streams.js'

export type {
  ExportedAgentEvent,
  ExportedAgentSpan,
  ExportedChat,
  ExportedConversion,
  ExportedDepartmentEvent,
  ExportedEngagement,
  ExportedHistoryEntry,
  ExportedLiveChat,
  ExportedOfflineMessage,
} from '../domain/schemas/index.js'

/**
 * The whole item of `S`, as served with the default `fields` (`chats(*)`, `conversions(*)`); a
 * narrower `fields` serves only the attributes it names, so those pages are typed `ExportItem`.
 */
export type StreamItem<S extends ExportStream> = ExportedItemOf[S]

type IsUnion<T, U = T> = T extends unknown ? ([U] extends [T] ? false : true) : never

/**
 * What `pages`/`items` yield for `S`: the stream's item type for one named stream, and the plain
 * `ExportItem` when `S` could be several streams (so code looping over streams reads attributes
 * without narrowing first, as before these types existed).
 */
export type PageItem<S extends ExportStream> =
  IsUnion<S> extends true ? Record<string, unknown> : StreamItem<S>
