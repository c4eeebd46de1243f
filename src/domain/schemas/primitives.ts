/**
 * The building blocks the item schemas share: timestamps, ids, counts and response times.
 * @module
 */
import { z } from 'zod'
import { isSupportedTime, MAX_DURATION_SECONDS, parseIso, SUPPORTED_TIME_RANGE } from '../time.js'

/**
 * An ISO-8601 UTC timestamp (`2020-12-22T04:54:16Z`, optionally with a fraction) in the supported
 * range (1970 to 2255). Checked with the same parser the cursor uses, so an item the schema
 * accepts always has a position that is a safe integer.
 */
export const isoTimestamp = z
  .string()
  .refine((s) => isSupportedTime(parseIso(s)), {
    message: `expected an ISO-8601 UTC timestamp from ${SUPPORTED_TIME_RANGE}, such as 2020-12-22T04:54:16Z`,
  })
  .meta({ format: 'date-time' })

/**
 * A duration in seconds: non-negative and short enough that, in µs, it is a safe integer (about
 * 285 years). Longer values cannot be a real duration and would overflow a position.
 */
export const durationSeconds = z.number().nonnegative().max(MAX_DURATION_SECONDS)

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
  avg: durationSeconds.nullable(),
  first: durationSeconds.int().nullable(),
  max: durationSeconds.int().nullable(),
})

/** A rating as chats, engagements and chat.rating events carry it. */
export const ratingSchema = z.enum(['good', 'bad']).nullable()
