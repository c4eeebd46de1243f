/**
 * The Conversion object (reference-notes.md §1.4): on the conversions stream, and embedded in the
 * chat it is attributed to (where the attribution also names the agent and department).
 * @module
 */
import { z } from 'zod'
import { isoTimestamp, itemId } from './primitives.js'

/** Attribution of a conversion; every field is null when no chat is credited. */
export const attributionSchema = z.object({
  agent_id: z.number().int().nullable(),
  chat_id: z.string().nullable(),
  chat_timestamp: isoTimestamp.nullable(),
  department_id: z.number().int().nullable(),
})

const conversionShape = {
  goal_id: z.number().int(),
  goal_name: z.string(),
  id: itemId,
  timestamp: isoTimestamp,
}

/** A conversions stream item. */
export const conversionSchema = z
  .object({ attribution: attributionSchema, ...conversionShape })
  .meta({ description: 'A visitor reaching a goal (conversions stream).' })

/** A conversion in `chat.conversions` (the last 20 attributed to the chat). */
export const chatConversionSchema = z.object({
  attribution: attributionSchema.extend({
    agent_name: z.string().nullable(),
    department_name: z.string().nullable(),
  }),
  ...conversionShape,
})
