/**
 * The building blocks the item schemas share: timestamps, ids, counts and response times.
 * @module
 */
import { z } from 'zod'
import { parseIso } from '../time.js'

/**
 * An ISO-8601 UTC timestamp (`2020-12-22T04:54:16Z`, optionally with a fraction). Checked with the
 * same parser the cursor uses, so an item the schema accepts always has a position.
 */
export const isoTimestamp = z
  .string()
  .refine((s) => parseIso(s) !== undefined, {
    message: 'expected an ISO-8601 UTC timestamp such as 2020-12-22T04:54:16Z',
  })
  .meta({ format: 'date-time' })

/** Item ids are stored as cursor tie-breakers: non-empty and bounded. */
export const itemId = z.string().min(1).max(200)

export const nonNegativeInt = z.number().int().nonnegative()

/** Messages per side (reference-notes.md §1.1): `total = agent + visitor` in real records. */
export const countSchema = z.object({
  agent: nonNegativeInt,
  total: nonNegativeInt,
  visitor: nonNegativeInt,
})

/** Response statistics in seconds; all null when no agent answered a visitor. */
export const responseTimeSchema = z.object({
  avg: z.number().nonnegative().nullable(),
  first: nonNegativeInt.nullable(),
  max: nonNegativeInt.nullable(),
})

/** A rating as chats, engagements and chat.rating events carry it. */
export const ratingSchema = z.enum(['good', 'bad']).nullable()
