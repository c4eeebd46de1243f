/**
 * Event folding: ingest events become the exported objects (chats, agent timeline spans, agent
 * events, department events, conversions). Pure; the store connects through FoldStateAccess.
 * Rules: docs/derivation.md.
 * @module
 */
export * from './types.js'
export * from './fold-error.js'
export * from './directory.js'
export * from './item-ids.js'
export { deriveChatMetrics } from './derive-chat-metrics.js'
export type { ChatTimeline } from './derive-chat-metrics.js'
export * from './fold-chat.js'
export * from './fold-agent.js'
export * from './fold-department.js'
export * from './fold-conversion.js'
export * from './fold-state.js'
export * from './fold-event.js'
