/**
 * Deterministic, Zendesk-looking ids for items that folding creates (`R6vTSXc.agent:980824.WEuQDQ`,
 * `R3J4l7Q.department:123.JNny6n`). They are a hash of the ingest event id and the subject, never
 * random: folding the same event again yields the same id, so a retried or re-folded event replaces
 * its item instead of adding a duplicate. These are the items' own `id` attributes; where an item
 * is stored (its key and sort id) the stream derives from the item (`StreamSpec.itemIds`).
 * @module
 */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/**
 * cyrb128 (public-domain string hash by bryc): 128 well-mixed bits, no dependencies, as four
 * unsigned 32-bit words, most significant first.
 */
function hash128(text: string): [number, number, number, number] {
  let h1 = 1779033703
  let h2 = 3144134277
  let h3 = 1013904242
  let h4 = 2773480762
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i)
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067)
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233)
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213)
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179)
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067)
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233)
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213)
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179)
  h1 ^= h2 ^ h3 ^ h4
  h2 ^= h1
  h3 ^= h1
  h4 ^= h1
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0]
}

const WORD = 2 ** 32

/**
 * 13 base62 characters (~77 bits) of the hash of `text`: its least significant base-62 digits,
 * lowest first. The 128-bit number is divided by 62 word by word (long division on four 32-bit
 * words; every intermediate stays below 2^38, exact in a double), which gives the digits BigInt
 * arithmetic would at a fraction of its cost (several ids per event).
 */
function base62Digest(text: string): string {
  const words = hash128(text)
  let out = ''
  for (let i = 0; i < 13; i++) {
    let remainder = 0
    for (let w = 0; w < 4; w++) {
      const current = remainder * WORD + (words[w] as number)
      const quotient = Math.floor(current / 62)
      remainder = current - quotient * 62
      words[w] = quotient
    }
    out += BASE62[remainder]
  }
  return out
}

/** `<7 chars>.<entity>.<6 chars>`, the shape of Zendesk's agent and department event ids. */
function itemId(entity: string, parts: readonly (string | number | null)[]): string {
  const digest = base62Digest(parts.map((p) => String(p)).join('\u0000'))
  return `${digest.slice(0, 7)}.${entity}.${digest.slice(7)}`
}

/**
 * The id of the agent_events item that `eventId` caused for one agent and field. One ingest event
 * changes each field of each agent at most once, so the triple is unique.
 * @example agentEventId('ev-42', 980824, 'status') // 'xxxxxxx.agent:980824.yyyyyy'
 */
export function agentEventId(
  eventId: string,
  agentId: number,
  field: 'status' | 'engagements',
): string {
  return itemId(`agent:${agentId}`, ['agent', eventId, agentId, field])
}

/**
 * The id of the department_events item that `eventId` caused; the account-level queue (department
 * `null`) shows as `department:null`.
 */
export function departmentEventId(eventId: string, departmentId: number | null): string {
  return itemId(`department:${departmentId ?? 'null'}`, ['department', eventId, departmentId])
}
