/**
 * Deterministic, Zendesk-looking ids for items that folding creates (`R6vTSXc.agent:980824.WEuQDQ`,
 * `R3J4l7Q.department:123.JNny6n`). They are a hash of the ingest event id and the subject, never
 * random: folding the same event again yields the same id, so a retried or re-folded event replaces
 * its item instead of adding a duplicate. These are the items' own `id` attributes; where an item
 * is stored (its key and sort id) the stream derives from the item (`StreamSpec.itemIds`).
 * @module
 */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** cyrb128 (public-domain string hash by bryc): 128 well-mixed bits, no dependencies. */
function hash128(text: string): bigint {
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
  return (
    (BigInt(h1 >>> 0) << 96n) |
    (BigInt(h2 >>> 0) << 64n) |
    (BigInt(h3 >>> 0) << 32n) |
    BigInt(h4 >>> 0)
  )
}

/** 13 base62 characters (~77 bits) of the hash of `text`. */
function base62Digest(text: string): string {
  let n = hash128(text)
  let out = ''
  for (let i = 0; i < 13; i++) {
    out += BASE62[Number(n % 62n)]
    n /= 62n
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
