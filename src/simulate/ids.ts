/**
 * Identifiers in the formats real Zendesk Chat payloads use, so that simulated data exercises the
 * same parsing and sorting paths as production data:
 *
 * | what | format | example |
 * |---|---|---|
 * | chat / offline message | `YYMM.<account>.<13 base62>` | `2012.9339545.SJs7biGpcbveH` |
 * | visitor | `<account>.<15 base62>` | `9339545.11mjg3Gvk0uhEiK` |
 * | session | `YYMMDD.<account>.<17 base62>` | `201222.9339545.7MmWjNbx50y3nMJBz` |
 * | conversion | `YYMM.<account>.v.<goal id>.<22 base62>` | `1805.2234024.v.1863.7BjLCgLGCJp4W90JapicWu` |
 * | visitor msg_id | epoch milliseconds | `1608612869871` |
 * | agent | 12-digit or 6–7-digit integer | `383486450414`, `1730415` |
 * @module
 */
import type { Micros } from '../domain/time.js'
import { BASE62, type Rng } from './rng.js'

function utcParts(micros: Micros): { yy: string; mm: string; dd: string } {
  const date = new Date(Math.floor(micros / 1000))
  return {
    yy: String(date.getUTCFullYear() % 100).padStart(2, '0'),
    mm: String(date.getUTCMonth() + 1).padStart(2, '0'),
    dd: String(date.getUTCDate()).padStart(2, '0'),
  }
}

/** Base62 of a non-negative integer, left-padded to `width` (wrapping modulo 62^width). */
function base62Fixed(value: number, width: number): string {
  let v = Math.floor(value)
  let out = ''
  for (let i = 0; i < width; i++) {
    out = (BASE62[v % 62] ?? '0') + out
    v = Math.floor(v / 62)
  }
  return out
}

/**
 * A chat id. Real ids begin with a time-derived prefix (chats minutes apart share their first
 * characters, e.g. `SJs7…` and `SJsA…`); we imitate that with 5 characters of seconds, then 8
 * random characters, which also makes collisions practically impossible within a second.
 */
export function newChatId(rng: Rng, accountNumber: number, at: Micros): string {
  const { yy, mm } = utcParts(at)
  const seconds = Math.floor(at / 1_000_000)
  return `${yy}${mm}.${accountNumber}.${base62Fixed(seconds, 5)}${rng.base62(8)}`
}

/** A visitor id, `<account>.<key>`. */
export function newVisitorId(rng: Rng, accountNumber: number): string {
  return `${accountNumber}.${rng.base62(15)}`
}

/** A session id, `YYMMDD.<account>.<17 chars>`, dated by the session's start. */
export function newSessionId(rng: Rng, accountNumber: number, at: Micros): string {
  const { yy, mm, dd } = utcParts(at)
  return `${yy}${mm}${dd}.${accountNumber}.${rng.base62(17)}`
}

/** A conversion id, `YYMM.<account>.v.<goal>.<22 chars>`. */
export function newConversionId(
  rng: Rng,
  accountNumber: number,
  goalId: number,
  at: Micros,
): string {
  const { yy, mm } = utcParts(at)
  return `${yy}${mm}.${accountNumber}.v.${goalId}.${rng.base62(22)}`
}

/** A visitor message's `msg_id`: the send time in epoch milliseconds, as the widget writes it. */
export function msgIdAt(at: Micros): string {
  return String(Math.floor(at / 1000))
}

/**
 * An agent id. Accounts created before ~2016 have 6–7-digit agent ids, newer ones 12-digit ids
 * starting with 3; a team mixes both when old agents stay on.
 */
export function newAgentId(rng: Rng): number {
  if (rng.chance(0.3)) return Number(rng.digits(rng.chance(0.5) ? 6 : 7))
  return Number(`3${rng.digits(11)}`)
}

/** Draws ids from `make` until one is not in `taken`, then records it. */
export function uniqueId<T>(taken: Set<T>, make: () => T): T {
  for (;;) {
    const id = make()
    if (!taken.has(id)) {
      taken.add(id)
      return id
    }
  }
}
