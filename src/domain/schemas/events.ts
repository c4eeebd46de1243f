/**
 * The items of the three other streams (reference-notes.md §6): department events, agent
 * timeline spans and agent events.
 * @module
 */
import { z } from 'zod'
import { isoTimestamp, itemId, nonNegativeInt } from './primitives.js'

export const queueSizesSchema = z.object({
  assigned: nonNegativeInt,
  incoming: nonNegativeInt,
})

/** A department_events item: a department's queue sizes changed. */
export const departmentEventSchema = z
  .object({
    department_id: z
      .number()
      .int()
      .nullable()
      .meta({ description: 'null: the account-level queue' }),
    field_name: z.literal('queue_sizes'),
    id: itemId,
    previous_value: queueSizesSchema
      .nullable()
      .optional()
      .meta({ description: 'absent on the first event of a queue' }),
    timestamp: isoTimestamp,
    value: queueSizesSchema,
  })
  .meta({ description: 'A change of a queue (department_events stream).' })

/** An agent_timeline item: a closed span of one (status, engagement_count). */
export const agentSpanSchema = z
  .object({
    agent_id: nonNegativeInt,
    duration: z.number().nonnegative().meta({ description: 'seconds, microsecond precision' }),
    engagement_count: nonNegativeInt,
    start_time: isoTimestamp,
    status: z.enum(['online', 'away', 'invisible']),
  })
  .meta({ description: 'A closed span of an agent state (agent_timeline stream).' })

const agentStatus = z.enum(['offline', 'online', 'away', 'invisible'])

const agentEventBase = {
  account_id: z.number().int().optional(),
  agent_id: nonNegativeInt,
  id: itemId,
  timestamp: isoTimestamp,
}

/** An agent_events item: a status change, or a change in the number of engagements. */
export const agentEventSchema = z
  .discriminatedUnion('field_name', [
    z.object({
      ...agentEventBase,
      field_name: z.literal('status'),
      previous_value: agentStatus.nullable(),
      value: agentStatus,
    }),
    z.object({
      ...agentEventBase,
      field_name: z.literal('engagements'),
      previous_value: nonNegativeInt.nullable(),
      value: nonNegativeInt,
    }),
  ])
  .meta({ description: 'A change of an agent status or engagement count (agent_events stream).' })
