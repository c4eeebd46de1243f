/**
 * The host names real connectors build (spec §5): `{subdomain}.zendesk.com`, `www.zopim.com` and
 * `rtm.zopim.com`. A request for a subdomain is served from the account of that name, so a
 * connector that only lets its user choose a subdomain still reads the right account; every other
 * host (localhost, an IP, a public URL) is served as before, from the token's account.
 * @module
 */

/** What the Host of a request asks for. */
export type HostTarget =
  { kind: 'subdomain'; account: string } | { kind: 'zopim' } | { kind: 'other' }

// One DNS label: what Zendesk allows in a subdomain (letters, digits, inner hyphens).
const SUBDOMAIN = /^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)\.zendesk\.com$/
const ZOPIM_HOSTS = new Set(['www.zopim.com', 'rtm.zopim.com'])

/** The host name of a Host header or URL authority, lower-cased, without port or trailing dot. */
export function hostName(authority: string): string {
  const host = authority.trim().toLowerCase()
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]
  return (name ?? '').replace(/\.$/, '')
}

/** Classifies a Host header (with or without port). */
export function hostTarget(authority: string | undefined): HostTarget {
  if (authority === undefined) return { kind: 'other' }
  const name = hostName(authority)
  const match = SUBDOMAIN.exec(name)
  if (match?.[1]) return { kind: 'subdomain', account: match[1] }
  if (ZOPIM_HOSTS.has(name)) return { kind: 'zopim' }
  return { kind: 'other' }
}

/** True for a host a Zendesk connector may call: the ones this server answers as Zendesk. */
export function isZendeskHost(authority: string | undefined): boolean {
  return hostTarget(authority).kind !== 'other'
}
