/**
 * Ingest events: what a chat platform (a widget backend, a bridge, our simulator) posts as it
 * happens. Folding (`src/domain/fold/`) turns them into the exported objects. Every event carries an
 * `id` chosen by the sender (idempotency key) and an ISO `timestamp` (when it happened).
 * See docs/events.md for an example of each kind.
 * @module
 */
import { z } from 'zod'
import { directoryEventSchemas } from './directory-events.js'
import { isSupportedTime, parseIso, SUPPORTED_TIME_RANGE } from './time.js'

// In the supported range too: folding turns event times into positions and durations.
const isoTimestamp = z.string().refine((s) => isSupportedTime(parseIso(s)), {
  message: `expected an ISO-8601 UTC timestamp from ${SUPPORTED_TIME_RANGE}, such as 2020-12-22T04:54:16Z`,
})

const eventId = z.string().min(1).max(200)
const chatId = z.string().min(1).max(200)
const agentId = z.number().int().positive()
const departmentId = z.number().int().positive()

const base = { id: eventId, timestamp: isoTimestamp }

export const visitorSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  email: z.string().default(''),
  phone: z.string().default(''),
  notes: z.string().default(''),
})

export const sessionSchema = z.object({
  id: z.string().min(1),
  browser: z.string().default(''),
  city: z.string().default(''),
  country_code: z.string().default(''),
  country_name: z.string().default(''),
  region: z.string().default(''),
  platform: z.string().default(''),
  ip: z.string().default(''),
  user_agent: z.string().default(''),
  start_date: isoTimestamp,
})

export const webpathEntrySchema = z.object({
  from: z.string().default(''),
  to: z.string(),
  title: z.string().default(''),
  timestamp: isoTimestamp,
})

export const ingestEventSchema = z.discriminatedUnion('type', [
  // The REST directory (agents, departments, goals, …): created / updated / deleted, each record
  // checked by its resource schema when applied (src/domain/directory-events.ts).
  ...directoryEventSchemas(isoTimestamp),
  // Directory names only (older senders): names that exported objects carry.
  z.object({
    ...base,
    type: z.literal('agent.upserted'),
    agent_id: agentId,
    display_name: z.string().min(1),
    full_name: z.string().min(1),
  }),
  z.object({
    ...base,
    type: z.literal('department.upserted'),
    department_id: departmentId,
    name: z.string().min(1),
  }),
  z.object({
    ...base,
    type: z.literal('goal.upserted'),
    goal_id: z.number().int().positive(),
    name: z.string().min(1),
    attribution_model: z.enum(['first_touch', 'last_touch']).default('last_touch'),
    attribution_period_days: z.number().int().min(1).max(30).default(30),
  }),
  // Chats.
  z.object({
    ...base,
    type: z.literal('chat.started'),
    chat_id: chatId,
    visitor: visitorSchema,
    session: sessionSchema,
    department_id: departmentId.nullable().default(null),
    started_by: z.enum(['visitor', 'agent', 'trigger']).default('visitor'),
    proactive: z.boolean().default(false),
    triggered: z.boolean().default(false),
    webpath: z.array(webpathEntrySchema).default([]),
    referrer_search_engine: z.string().default(''),
    referrer_search_terms: z.string().default(''),
    skills_requested: z.array(z.number().int()).default([]),
    zendesk_ticket_id: z.number().int().nullable().default(null),
  }),
  z.object({
    ...base,
    type: z.literal('chat.member_joined'),
    chat_id: chatId,
    member: z.enum(['visitor', 'agent']),
    agent_id: agentId.optional(),
    name: z.string().optional(),
    source: z.string().optional(),
  }),
  z.object({
    ...base,
    type: z.literal('chat.member_left'),
    chat_id: chatId,
    member: z.enum(['visitor', 'agent']),
    agent_id: agentId.optional(),
    reason: z.string().default('user_leave_chat'),
  }),
  z.object({
    ...base,
    type: z.literal('chat.message'),
    chat_id: chatId,
    sender: z.enum(['visitor', 'agent']),
    agent_id: agentId.optional(),
    msg: z.string(),
    msg_id: z.string().optional(),
    options: z.string().default(''),
  }),
  z.object({
    ...base,
    type: z.literal('chat.tags_changed'),
    chat_id: chatId,
    agent_id: agentId.optional(),
    tags: z.array(z.string().min(1)),
  }),
  z.object({
    ...base,
    type: z.literal('chat.rated'),
    chat_id: chatId,
    rating: z.enum(['good', 'bad']).nullable(),
  }),
  z.object({
    ...base,
    type: z.literal('chat.commented'),
    chat_id: chatId,
    comment: z.string().nullable(),
  }),
  z.object({
    ...base,
    type: z.literal('chat.transferred'),
    chat_id: chatId,
    department_id: departmentId,
    agent_id: agentId.optional(),
  }),
  z.object({ ...base, type: z.literal('chat.ended'), chat_id: chatId }),
  z.object({ ...base, type: z.literal('chat.deleted'), chat_id: chatId }),
  z.object({
    ...base,
    type: z.literal('offline_message'),
    chat_id: chatId,
    visitor: visitorSchema,
    session: sessionSchema,
    department_id: departmentId.nullable().default(null),
    message: z.string(),
    webpath: z.array(webpathEntrySchema).default([]),
    zendesk_ticket_id: z.number().int().nullable().default(null),
  }),
  // Engagements (routing).
  z.object({
    ...base,
    type: z.literal('engagement.assigned'),
    chat_id: chatId,
    agent_id: agentId,
  }),
  z.object({
    ...base,
    type: z.literal('engagement.accepted'),
    chat_id: chatId,
    agent_id: agentId,
  }),
  z.object({
    ...base,
    type: z.literal('engagement.ended'),
    chat_id: chatId,
    agent_id: agentId,
  }),
  // Agents.
  z.object({
    ...base,
    type: z.literal('agent.status_changed'),
    agent_id: agentId,
    status: z.enum(['online', 'away', 'invisible', 'offline']),
  }),
  // Goals.
  z.object({
    ...base,
    type: z.literal('conversion'),
    conversion_id: z.string().min(1).max(200),
    goal_id: z.number().int().positive(),
    visitor_id: z.string().min(1),
    chat_id: chatId.optional(),
  }),
  // Departments.
  z.object({
    ...base,
    type: z.literal('department.queue_sizes'),
    department_id: departmentId.nullable(),
    incoming: z.number().int().nonnegative(),
    assigned: z.number().int().nonnegative(),
  }),
])

export type IngestEvent = z.infer<typeof ingestEventSchema>
export type IngestEventType = IngestEvent['type']
export type EventOf<T extends IngestEventType> = Extract<IngestEvent, { type: T }>
