/**
 * Time helpers for the Chat object: chats show whole-second ISO timestamps, while folding keeps
 * exact microseconds privately for the fields that need them (abandon_time, engagement duration).
 * @module
 */
import type { Micros } from '../time.js'
import { MICROS_PER_SECOND, formatIso, parseIso } from '../time.js'

/** Whole seconds since the epoch (the second a timestamp falls in). */
export function wholeSecond(micros: Micros): number {
  return Math.floor(micros / MICROS_PER_SECOND)
}

/** ISO-8601 UTC truncated to the second, as every Chat-object timestamp is written. */
export function isoSeconds(micros: Micros): string {
  return formatIso(wholeSecond(micros) * MICROS_PER_SECOND)
}

/**
 * Parses a timestamp that a zod schema already validated. Throws only on a programming error
 * (an unvalidated value reaching the domain).
 */
export function validatedMicros(iso: string): Micros {
  const micros = parseIso(iso)
  if (micros === undefined) throw new Error('timestamp was not validated before folding')
  return micros
}
