/**
 * Typed per-event fold errors. Folding never throws for a bad event: it returns one of these, so
 * the ingest endpoint can report it for that event and leave every stored object untouched.
 * @module
 */

export type FoldErrorCode =
  /** The event names a chat that has not started (or was imported without fold state). */
  | 'unknown_chat'
  /** A second chat.started / offline_message for a chat id that exists. */
  | 'duplicate_chat'
  /** An event that needs a chat in progress arrived after chat.ended. */
  | 'chat_ended'
  /** Any event for a deleted chat. */
  | 'chat_deleted'
  /** An event only a live chat takes, sent for an offline message. */
  | 'not_a_live_chat'
  /** The event is earlier than the last event applied to the same chat, agent or department. */
  | 'out_of_order'
  /** Agent, department or goal not in the directory: upsert it first. */
  | 'unknown_agent'
  | 'unknown_department'
  | 'unknown_goal'
  /** The event contradicts who is in the chat (agent leaves without joining, joins twice, ...). */
  | 'member_state'
  /** A field the event type needs is missing (for example agent_id on an agent message). */
  | 'invalid_event'

export interface FoldError {
  code: FoldErrorCode
  eventId: string
  /** What was wrong and what to do; never contains message text or visitor data. */
  message: string
}

/** Builds a fold error. */
export function foldError(code: FoldErrorCode, eventId: string, message: string): FoldError {
  return { code, eventId, message }
}
