/**
 * The account and token rows both stores read, and their mapping to the port's records (the
 * columns are the same in SQLite and PostgreSQL; only how scopes are stored differs).
 * @module
 */
import type { Account, Role, Scope, TokenRecord } from './store.js'

export interface AccountRow {
  id: number
  name: string
  created_at: number
}

export interface TokenRow {
  id: number
  account_id: number
  prefix: string
  hash: Buffer
  role: Role
  /** SQLite keeps a space-separated string; PostgreSQL a text[]. */
  scopes: string | Scope[]
  label: string | null
  created_at: number
  expires_at: number | null
  revoked_at: number | null
}

/** An account row as the port's Account. */
export function toAccount(row: AccountRow): Account {
  return { id: row.id, name: row.name, createdAt: row.created_at }
}

/** A token row as the port's TokenRecord. */
export function toToken(row: TokenRow): TokenRecord {
  return {
    id: row.id,
    accountId: row.account_id,
    prefix: row.prefix,
    hash: row.hash,
    role: row.role,
    scopes:
      typeof row.scopes === 'string'
        ? (row.scopes.split(' ').filter((s) => s !== '') as Scope[])
        : row.scopes,
    label: row.label,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
  }
}
