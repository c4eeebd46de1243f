/**
 * The Chat object of the incremental chat export, field by field (reference-notes.md §1.1–§1.3),
 * in both representations (`chat` and `offline_msg`). Required is what every real record of the
 * reference and every chat the folding writes carries; optional is what the notes say some real
 * records lack (history `index`, `sender_type`, engagement `chat_id`, an offline message's
 * `started_by`).
 * @module
 */
import { z } from 'zod'
import { chatConversionSchema } from './conversion.js'
import {
  countSchema,
  isoTimestamp,
  itemId,
  nonNegativeInt,
  ratingSchema,
  responseTimeSchema,
} from './primitives.js'

export const visitorSchema = z.object({
  email: z.string(),
  id: z.string().meta({ description: '"<account>.<visitor key>"' }),
  name: z.string(),
  notes: z.string(),
  phone: z.string(),
})

/**
 * The chat's browser session. Its dates are plain strings: legacy records carry malformed ones
 * (`2017-04-24T12:45:32+00:00Z`), and nothing is positioned by them.
 */
export const sessionSchema = z.object({
  browser: z.string(),
  city: z.string(),
  country_code: z.string(),
  country_name: z.string(),
  end_date: z.string().nullable().meta({ description: 'null while the chat goes on' }),
  id: z.string(),
  ip: z.string(),
  platform: z.string(),
  region: z.string(),
  start_date: z.string(),
  user_agent: z.string(),
})

export const webpathEntrySchema = z.object({
  from: z.string(),
  timestamp: isoTimestamp,
  title: z.string(),
  to: z.string(),
})

const historyBase = {
  channel: z.string(),
  index: nonNegativeInt.optional().meta({ description: 'absent in older records' }),
  name: z.string().meta({ description: 'display name of the actor' }),
  timestamp: isoTimestamp,
}

export const memberJoinEntrySchema = z.object({
  ...historyBase,
  type: z.literal('chat.memberjoin'),
  department_id: z.number().int().nullable().optional(),
  department_name: z.string().nullable().optional(),
  source: z.string().optional(),
})

export const memberLeaveEntrySchema = z.object({
  ...historyBase,
  type: z.literal('chat.memberleave'),
  reason: z.string(),
})

export const messageEntrySchema = z.object({
  ...historyBase,
  type: z.literal('chat.msg'),
  agent_id: z.string().optional().meta({ description: 'agent messages only' }),
  msg: z.string(),
  msg_id: z.string().optional(),
  options: z.string(),
  sender_type: z.enum(['Agent', 'Visitor']).optional(),
})

export const tagEntrySchema = z.object({
  ...historyBase,
  type: z.literal('chat.tag'),
  tags: z.array(z.string()),
  new_tags: z.array(z.string()),
})

export const ratingEntrySchema = z.object({
  ...historyBase,
  type: z.literal('chat.rating'),
  rating: ratingSchema,
  new_rating: ratingSchema,
})

export const commentEntrySchema = z.object({
  ...historyBase,
  type: z.literal('chat.comment'),
  comment: z.string().nullable(),
  new_comment: z.string().nullable(),
})

export const transferEntrySchema = z.object({
  ...historyBase,
  type: z.literal('chat.transfer'),
  prev_department_id: z.number().int().nullable(),
  department_id: z.number().int(),
  department_name: z.string(),
})

/** One entry of `history`, by its `type`. */
export const historyEntrySchema = z.discriminatedUnion('type', [
  memberJoinEntrySchema,
  memberLeaveEntrySchema,
  messageEntrySchema,
  tagEntrySchema,
  ratingEntrySchema,
  commentEntrySchema,
  transferEntrySchema,
])

/** An agent's part in a chat, from join to leave (incremental export only). */
export const engagementSchema = z.object({
  accepted: z.boolean(),
  agent_full_name: z.string(),
  agent_id: z.string().meta({ description: 'a string on the wire' }),
  agent_name: z.string(),
  assigned: z.boolean(),
  chat_id: z.string().optional(),
  comment: z.string().nullable(),
  count: countSchema,
  department_id: z.number().int().nullable(),
  duration: z.number().nonnegative().nullable().meta({ description: 'seconds; null while open' }),
  id: z.string().meta({ description: '"<chat id>.<n>"' }),
  rating: ratingSchema,
  response_time: responseTimeSchema,
  skills_fulfilled: z.boolean(),
  skills_requested: z.array(z.number().int()),
  started_by: z.enum(['visitor', 'agent', 'transfer']),
  timestamp: isoTimestamp,
})

/** What both representations share. */
const chatBase = {
  deleted: z.boolean(),
  department_id: z.number().int().nullable(),
  department_name: z.string().nullable(),
  id: itemId,
  session: sessionSchema,
  tags: z.array(z.string()),
  timestamp: isoTimestamp,
  unread: z.boolean(),
  update_timestamp: isoTimestamp.meta({
    format: 'date-time',
    description: 'When the chat last changed here: its cursor time.',
  }),
  visitor: visitorSchema,
  webpath: z.array(webpathEntrySchema),
  zendesk_ticket_id: z.number().int().nullable(),
}

export const liveChatSchema = z.object({
  ...chatBase,
  type: z.literal('chat'),
  abandon_time: z.number().nonnegative().nullable(),
  agent_ids: z.array(z.string()),
  agent_names: z.array(z.string()),
  comment: z.string().nullable(),
  conversions: z.array(chatConversionSchema),
  count: countSchema,
  dropped: z.boolean(),
  duration: nonNegativeInt.nullable().meta({ description: 'whole seconds' }),
  end_timestamp: isoTimestamp.nullable(),
  engagements: z.array(engagementSchema),
  history: z.array(historyEntrySchema),
  missed: z.boolean(),
  proactive: z.boolean(),
  rating: ratingSchema,
  referrer_search_engine: z.string(),
  referrer_search_terms: z.string(),
  response_time: responseTimeSchema,
  skills_fulfilled: z.boolean(),
  skills_requested: z.array(z.number().int()),
  started_by: z.enum(['visitor', 'agent', 'trigger']),
  triggered: z.boolean(),
  triggered_response: z.boolean().nullable(),
})

export const offlineMessageSchema = z.object({
  ...chatBase,
  type: z.literal('offline_msg'),
  message: z.string(),
  started_by: z.literal('visitor').optional(),
})

/** A chats stream item as exported (with `fields=chats(*)`). */
export const chatSchema = z
  .discriminatedUnion('type', [liveChatSchema, offlineMessageSchema])
  .meta({ description: 'A chat or an offline message (chats stream).' })

/**
 * A chat as imported: the store sets `update_timestamp` (unless timestamps are preserved) and
 * `deleted` defaults to false, so both may be missing.
 */
export const importChatSchema = z.discriminatedUnion('type', [
  liveChatSchema.extend({
    update_timestamp: isoTimestamp.optional(),
    deleted: z.boolean().optional(),
  }),
  offlineMessageSchema.extend({
    update_timestamp: isoTimestamp.optional(),
    deleted: z.boolean().optional(),
  }),
])
