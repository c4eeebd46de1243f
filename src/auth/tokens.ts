/**
 * Bearer tokens, the application service that issues and checks them (used by HTTP auth, the CLI
 * and the demo): random (256-bit secret), shown once, stored only as a SHA-256 hash, found by a
 * public prefix and compared in constant time.
 *
 * Format: `cxp_<prefix>_<secret>` where prefix is 12 base64url characters (72 random bits, public,
 * indexed) and secret is 43 base64url characters (256 random bits). SHA-256 is the right hash for
 * high-entropy machine tokens: a slow KDF would add latency to every request and no security.
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Micros } from '../domain/time.js'
import type { Role, Scope, Store, TokenRecord } from '../store/store.js'

/**
 * A bearer token: `cxp_` issued by the CLI (`tokens create`), `cxo_` an OAuth access token
 * (src/auth/oauth.ts). Both are rows of the same table, checked the same way.
 */
const TOKEN_PATTERN = /^(?:cxp|cxo)_([A-Za-z0-9_-]{12})_([A-Za-z0-9_-]{43})$/

/**
 * The kinds of secret this server hands out, by their text prefix: `cxp` CLI bearer tokens, `cxo`
 * OAuth access tokens, `cxr` OAuth refresh tokens, `cxa` OAuth authorization codes.
 */
export type SecretKind = 'cxp' | 'cxo' | 'cxr' | 'cxa'

/** A fresh secret of a kind: its text (shown once), its public prefix and its SHA-256. */
export function newSecret(kind: SecretKind): { text: string; prefix: string; hash: Buffer } {
  const prefix = randomBytes(9).toString('base64url')
  const text = `${kind}_${prefix}_${randomBytes(32).toString('base64url')}`
  return { text, prefix, hash: hashToken(text) }
}

/** The public prefix of a secret of `kind`, or undefined when `text` is not one. */
export function secretPrefix(kind: SecretKind, text: string): string | undefined {
  const match = /^(cx[pora])_([A-Za-z0-9_-]{12})_[A-Za-z0-9_-]{43}$/.exec(text)
  return match?.[1] === kind ? match[2] : undefined
}

/**
 * Whether `text` hashes to `expected`, in constant time. Hashes even when nothing is expected
 * (an unknown prefix), so a miss costs what a hit costs.
 */
export function hashMatches(expected: Buffer | undefined, text: string): boolean {
  const presented = hashToken(text)
  const against = expected ?? Buffer.alloc(presented.length)
  return (
    against.length === presented.length &&
    timingSafeEqual(against, presented) &&
    expected !== undefined
  )
}

export const ROLES: readonly Role[] = ['owner', 'administrator', 'agent']
export const SCOPES: readonly Scope[] = ['read', 'write']

/** SHA-256 of a token's full text. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest()
}

export interface IssueTokenOptions {
  accountId: number
  role: Role
  scopes: Scope[]
  label?: string | null
  now: Micros
  /** Lifetime in microseconds; undefined = no expiry. */
  ttl?: Micros | undefined
}

/** Creates a token, stores its hash, and returns the token text (the only time it exists). */
export async function issueToken(
  store: Store,
  options: IssueTokenOptions,
): Promise<{ token: string; record: TokenRecord }> {
  const { text: token, prefix, hash } = newSecret('cxp')
  const record = await store.insertToken({
    accountId: options.accountId,
    prefix,
    hash,
    role: options.role,
    scopes: [...new Set(options.scopes)],
    label: options.label ?? null,
    createdAt: options.now,
    expiresAt: options.ttl === undefined ? null : options.now + options.ttl,
  })
  return { token, record }
}

export type TokenCheck =
  | { ok: true; record: TokenRecord }
  | { ok: false; reason: 'malformed' | 'unknown' | 'revoked' | 'expired' }

/** Finds and checks a presented token. Never logs or returns the token text. */
export async function verifyToken(store: Store, token: string, now: Micros): Promise<TokenCheck> {
  const match = TOKEN_PATTERN.exec(token)
  if (!match) return { ok: false, reason: 'malformed' }
  const record = await store.getTokenByPrefix(match[1] ?? '')
  // Hash and compare even when the prefix is unknown, so both paths cost the same.
  if (!hashMatches(record?.hash, token) || !record) return { ok: false, reason: 'unknown' }
  if (record.revokedAt !== null) return { ok: false, reason: 'revoked' }
  if (record.expiresAt !== null && record.expiresAt <= now) return { ok: false, reason: 'expired' }
  return { ok: true, record }
}

/** Parses a space- or comma-separated scope list; throws on unknown scopes. */
export function parseScopes(text: string): Scope[] {
  const parts = text.split(/[\s,]+/).filter((s) => s.length > 0)
  const bad = parts.filter((s) => !(SCOPES as readonly string[]).includes(s))
  if (bad.length > 0 || parts.length === 0) {
    throw new Error(`Unknown scope(s) "${bad.join(' ')}"; use "read", "write" or "read write".`)
  }
  return parts as Scope[]
}

/** Type guard for roles coming from flags. */
export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value)
}
