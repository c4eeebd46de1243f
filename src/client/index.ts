/**
 * chat-export/client: a small, dependency-free client for the Zendesk Chat Incremental Export API
 * (and chat-export servers). Runs on any runtime with `fetch`. See docs/client.md.
 * @module
 */
export { ExportClient } from './export-client.js'
export type {
  ExportClientOptions,
  FetchLike,
  FetchResponse,
  PagesOptions,
  RetryInfo,
  StartTime,
} from './export-client.js'
export type { ExportCursor, ExportItem, ExportPage } from './export-page.js'
export { parseExportCursor } from './export-page.js'
export type { RawItem } from './raw-items.js'
export { scanRawItemBytes, scanRawItems } from './raw-items.js'
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
  PageItem,
  StreamItem,
} from './items.js'
export {
  EXPORT_STREAMS,
  STREAM_TIME_UNIT,
  DEFAULT_FIELDS,
  isExportStream,
} from './export-streams.js'
export type { ExportStream } from './export-streams.js'
export {
  ExportHttpError,
  ExportNetworkError,
  ExportProtocolError,
  InvalidClientOptionsError,
  InvalidCursorError,
  redactUrl,
} from './errors.js'
export type { BackoffOptions } from './backoff.js'
export { DEFAULT_BACKOFF } from './backoff.js'
export type { Sleep } from './sleep.js'
export { transition as pagerTransition } from './pager-machine.js'
export type { PagerConfig, PagerEvent, PagerState } from './pager-machine.js'
