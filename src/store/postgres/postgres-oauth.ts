/**
 * The PostgreSQL implementation of the OAuth port (src/store/oauth-port.ts): the tables of
 * migration 4, under the same row-level security as every per-account table, so each statement
 * also names the account and the policy is the second fence. A grant's rows (the access token in
 * `tokens`, the grant, the used code or the rotated grant) commit in one transaction.
 * @module
 */
import type pg from 'pg'
import type { TokenRow } from '../rows.js'
import { toToken } from '../rows.js'
import type {
  NewOAuthClient,
  OAuthClientRecord,
  OAuthCodeRecord,
  OAuthGrantRecord,
  OAuthStore,
} from '../oauth-port.js'
import type { Scope } from '../store.js'
import { assertAccountId, isRowId, tokenPrefixTaken } from '../store-rules.js'
import type { PostgresConnection } from './postgres-connection.js'
import { isUniqueViolation } from './postgres-connection.js'

const CLIENT_COLUMNS = `id, account_id AS "accountId", identifier, name, company,
  redirect_uris AS "redirectUris", client_type AS "clientType", secret_hash AS "secretHash", role,
  scopes, created_at AS "createdAt", updated_at AS "updatedAt"`
const CODE_COLUMNS = `id, account_id AS "accountId", client_id AS "clientId", prefix, hash,
  redirect_uri AS "redirectUri", scope, role, created_at AS "createdAt",
  expires_at AS "expiresAt", used_at AS "usedAt"`
// The grant is revoked when it was, or when its access token was (`tokens revoke`).
const GRANT_COLUMNS = `g.id, g.account_id AS "accountId", g.client_id AS "clientId",
  g.access_token_id AS "accessTokenId", g.refresh_prefix AS "refreshPrefix",
  g.refresh_hash AS "refreshHash", g.scope, g.created_at AS "createdAt", t.role,
  t.expires_at AS "expiresAt", coalesce(g.revoked_at, t.revoked_at) AS "revokedAt"`
const GRANTS =
  'oauth_grants g JOIN tokens t ON t.id = g.access_token_id AND t.account_id = g.account_id'

const SQL = {
  insertClient: {
    name: 'ce_oauth_insert_client',
    text: `INSERT INTO oauth_clients (account_id, identifier, name, company, redirect_uris,
             client_type, secret_hash, role, scopes, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ${CLIENT_COLUMNS}`,
  },
  client: {
    name: 'ce_oauth_client',
    text: `SELECT ${CLIENT_COLUMNS} FROM oauth_clients WHERE account_id = $1 AND id = $2`,
  },
  clientByIdentifier: {
    name: 'ce_oauth_client_by_identifier',
    text: `SELECT ${CLIENT_COLUMNS} FROM oauth_clients WHERE account_id = $1 AND identifier = $2`,
  },
  clients: {
    name: 'ce_oauth_clients',
    text: `SELECT ${CLIENT_COLUMNS} FROM oauth_clients WHERE account_id = $1 ORDER BY id`,
  },
  updateClient: {
    name: 'ce_oauth_update_client',
    text: `UPDATE oauth_clients SET name = $3, company = $4, redirect_uris = $5, client_type = $6,
             scopes = $7, updated_at = $8 WHERE account_id = $1 AND id = $2
           RETURNING ${CLIENT_COLUMNS}`,
  },
  deleteClient: {
    name: 'ce_oauth_delete_client',
    text: 'DELETE FROM oauth_clients WHERE account_id = $1 AND id = $2',
  },
  deleteCodesOfClient: {
    name: 'ce_oauth_delete_codes_of_client',
    text: 'DELETE FROM oauth_codes WHERE account_id = $1 AND client_id = $2',
  },
  revokeTokensOfClient: {
    name: 'ce_oauth_revoke_tokens_of_client',
    text: `UPDATE tokens SET revoked_at = coalesce(revoked_at, $3) WHERE account_id = $1 AND id IN
             (SELECT access_token_id FROM oauth_grants WHERE account_id = $1 AND client_id = $2)`,
  },
  revokeGrantsOfClient: {
    name: 'ce_oauth_revoke_grants_of_client',
    text: `UPDATE oauth_grants SET revoked_at = coalesce(revoked_at, $3)
           WHERE account_id = $1 AND client_id = $2`,
  },
  insertCode: {
    name: 'ce_oauth_insert_code',
    text: `INSERT INTO oauth_codes (account_id, client_id, prefix, hash, redirect_uri, scope, role,
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           RETURNING ${CODE_COLUMNS}`,
  },
  codeByPrefix: {
    name: 'ce_oauth_code_by_prefix',
    text: `SELECT ${CODE_COLUMNS} FROM oauth_codes WHERE account_id = $1 AND prefix = $2`,
  },
  useCode: {
    name: 'ce_oauth_use_code',
    text: `UPDATE oauth_codes SET used_at = $3
           WHERE account_id = $1 AND id = $2 AND used_at IS NULL RETURNING id`,
  },
  insertToken: {
    name: 'ce_oauth_insert_token',
    text: `INSERT INTO tokens (account_id, prefix, hash, role, scopes, label, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           RETURNING id, account_id, prefix, hash, role, scopes, label, created_at, expires_at, revoked_at`,
  },
  insertGrant: {
    name: 'ce_oauth_insert_grant',
    text: `INSERT INTO oauth_grants (account_id, client_id, access_token_id, refresh_prefix,
             refresh_hash, scope, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
  },
  grant: {
    name: 'ce_oauth_grant',
    text: `SELECT ${GRANT_COLUMNS} FROM ${GRANTS} WHERE g.account_id = $1 AND g.id = $2`,
  },
  grantByRefresh: {
    name: 'ce_oauth_grant_by_refresh',
    text: `SELECT ${GRANT_COLUMNS} FROM ${GRANTS} WHERE g.account_id = $1 AND g.refresh_prefix = $2`,
  },
  activeGrants: {
    name: 'ce_oauth_active_grants',
    text: `SELECT ${GRANT_COLUMNS} FROM ${GRANTS} WHERE g.account_id = $1
             AND g.revoked_at IS NULL AND t.revoked_at IS NULL
             AND (t.expires_at IS NULL OR t.expires_at > $2) ORDER BY g.id`,
  },
  // Only a live grant (neither it nor its access token revoked) is revoked: the caller learns
  // whether it won a race (two refreshes of one refresh token).
  revokeGrant: {
    name: 'ce_oauth_revoke_grant',
    text: `UPDATE oauth_grants g SET revoked_at = $3
           FROM tokens t
           WHERE g.account_id = $1 AND g.id = $2 AND g.revoked_at IS NULL
             AND t.account_id = $1 AND t.id = g.access_token_id AND t.revoked_at IS NULL
           RETURNING g.access_token_id AS "accessTokenId"`,
  },
  revokeToken: {
    name: 'ce_oauth_revoke_token',
    text: 'UPDATE tokens SET revoked_at = coalesce(revoked_at, $3) WHERE account_id = $1 AND id = $2',
  },
} as const

type ClientRow = Omit<OAuthClientRecord, 'redirectUris' | 'scopes'> & {
  redirectUris: string
  scopes: string
}

function toClient(row: ClientRow): OAuthClientRecord {
  return { ...row, redirectUris: words(row.redirectUris), scopes: words(row.scopes) as Scope[] }
}

function words(text: string): string[] {
  return text.split(' ').filter((w) => w !== '')
}

async function rows<R extends pg.QueryResultRow>(
  client: pg.PoolClient,
  statement: { name: string; text: string },
  values: unknown[],
): Promise<R[]> {
  return (await client.query<R>({ ...statement, values })).rows
}

/** Revokes a live grant and its access token; false when it was not live. */
async function revoke(
  client: pg.PoolClient,
  accountId: number,
  id: number,
  at: number,
): Promise<boolean> {
  const revoked = await rows<{ accessTokenId: number }>(client, SQL.revokeGrant, [
    accountId,
    id,
    at,
  ])
  const tokenId = revoked[0]?.accessTokenId
  if (tokenId === undefined) return false
  await client.query({ ...SQL.revokeToken, values: [accountId, tokenId, at] })
  return true
}

/** The OAuth tables of a PostgreSQL store. */
export function postgresOAuth(db: PostgresConnection): OAuthStore {
  const read = <T>(accountId: number, fn: (client: pg.PoolClient) => Promise<T>) =>
    db.inAccount(accountId, 'read', fn)
  const write = async <T>(accountId: number, fn: (client: pg.PoolClient) => Promise<T>) => {
    try {
      return await db.inAccount(accountId, 'write', fn)
    } catch (error) {
      if (isUniqueViolation(error)) throw tokenPrefixTaken(error)
      throw error
    } finally {
      // Revocations (a grant, a deleted client's tokens) count for this process at once.
      db.tokens.invalidate()
    }
  }
  return {
    createClient: (c: NewOAuthClient) =>
      write(c.accountId, async (client) => {
        const [row] = await rows<ClientRow>(client, SQL.insertClient, [
          c.accountId,
          c.identifier,
          c.name,
          c.company,
          c.redirectUris.join(' '),
          c.clientType,
          c.secretHash,
          c.role,
          c.scopes.join(' '),
          c.createdAt,
          c.updatedAt,
        ])
        if (row === undefined) throw new Error('INSERT ... RETURNING returned no client row')
        return toClient(row)
      }),
    getClient: async (accountId, id) => {
      if (!isRowId(id)) return undefined
      const [row] = await read(accountId, (c) => rows<ClientRow>(c, SQL.client, [accountId, id]))
      return row && toClient(row)
    },
    getClientByIdentifier: async (accountId, identifier) => {
      const [row] = await read(accountId, (c) =>
        rows<ClientRow>(c, SQL.clientByIdentifier, [accountId, identifier]),
      )
      return row && toClient(row)
    },
    listClients: async (accountId) =>
      (await read(accountId, (c) => rows<ClientRow>(c, SQL.clients, [accountId]))).map(toClient),
    updateClient: (accountId, id, changes, at) =>
      write(accountId, async (client) => {
        if (!isRowId(id)) return undefined
        const [current] = await rows<ClientRow>(client, SQL.client, [accountId, id])
        if (current === undefined) return undefined
        const next = { ...toClient(current), ...changes }
        const [row] = await rows<ClientRow>(client, SQL.updateClient, [
          accountId,
          id,
          next.name,
          next.company,
          next.redirectUris.join(' '),
          next.clientType,
          next.scopes.join(' '),
          at,
        ])
        return row && toClient(row)
      }),
    deleteClient: (accountId, id, at) =>
      write(accountId, async (client) => {
        if (!isRowId(id)) return false
        await client.query({ ...SQL.revokeTokensOfClient, values: [accountId, id, at] })
        await client.query({ ...SQL.revokeGrantsOfClient, values: [accountId, id, at] })
        await client.query({ ...SQL.deleteCodesOfClient, values: [accountId, id] })
        const result = await client.query({ ...SQL.deleteClient, values: [accountId, id] })
        return (result.rowCount ?? 0) > 0
      }),
    insertCode: (code) =>
      write(code.accountId, async (client) => {
        const [row] = await rows<OAuthCodeRecord>(client, SQL.insertCode, [
          code.accountId,
          code.clientId,
          code.prefix,
          code.hash,
          code.redirectUri,
          code.scope,
          code.role,
          code.createdAt,
          code.expiresAt,
        ])
        if (row === undefined) throw new Error('INSERT ... RETURNING returned no code row')
        return row
      }),
    getCodeByPrefix: async (accountId, prefix) =>
      (
        await read(accountId, (c) =>
          rows<OAuthCodeRecord>(c, SQL.codeByPrefix, [accountId, prefix]),
        )
      )[0],
    issueGrant: (accountId, issue, at) => {
      assertAccountId(accountId)
      return write(accountId, async (client) => {
        if (issue.consumesCodeId !== undefined) {
          const used = await rows(client, SQL.useCode, [accountId, issue.consumesCodeId, at])
          if (used.length === 0) return undefined
        }
        if (issue.replacesGrantId !== undefined) {
          if (!(await revoke(client, accountId, issue.replacesGrantId, at))) return undefined
        }
        const a = issue.access
        const [tokenRow] = await rows<TokenRow>(client, SQL.insertToken, [
          accountId,
          a.prefix,
          a.hash,
          a.role,
          a.scopes,
          a.label,
          a.createdAt,
          a.expiresAt,
        ])
        if (tokenRow === undefined) throw new Error('INSERT ... RETURNING returned no token row')
        const [inserted] = await rows<{ id: number }>(client, SQL.insertGrant, [
          accountId,
          issue.clientId,
          tokenRow.id,
          issue.refreshPrefix,
          issue.refreshHash,
          issue.scope,
          at,
        ])
        const [grant] = inserted
          ? await rows<OAuthGrantRecord>(client, SQL.grant, [accountId, inserted.id])
          : []
        if (grant === undefined) throw new Error('INSERT ... RETURNING returned no grant row')
        return { grant, token: toToken(tokenRow) }
      })
    },
    getGrant: async (accountId, id) => {
      if (!isRowId(id)) return undefined
      return (
        await read(accountId, (c) => rows<OAuthGrantRecord>(c, SQL.grant, [accountId, id]))
      )[0]
    },
    getGrantByRefreshPrefix: async (accountId, prefix) =>
      (
        await read(accountId, (c) =>
          rows<OAuthGrantRecord>(c, SQL.grantByRefresh, [accountId, prefix]),
        )
      )[0],
    listActiveGrants: (accountId, now) =>
      read(accountId, (c) => rows<OAuthGrantRecord>(c, SQL.activeGrants, [accountId, now])),
    revokeGrant: (accountId, id, at) =>
      isRowId(id)
        ? write(accountId, (client) => revoke(client, accountId, id, at))
        : Promise.resolve(false),
  }
}
