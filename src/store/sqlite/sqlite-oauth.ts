/**
 * The SQLite implementation of the OAuth port (src/store/oauth-port.ts): the `oauth_clients`,
 * `oauth_codes` and `oauth_grants` tables of migration 4. Reads run on the reader connection;
 * writes on the writer, a grant's several rows in one transaction.
 * @module
 */
import type Database from 'better-sqlite3'
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
import type { SqliteConnection } from './sqlite-connection.js'
import { isUniqueViolation } from './sqlite-connection.js'
import { lazyStatement } from './sqlite-statements.js'

const CLIENT_COLUMNS = `id, account_id AS accountId, identifier, name, company,
  redirect_uris AS redirectUris, client_type AS clientType, secret_hash AS secretHash, role, scopes,
  created_at AS createdAt, updated_at AS updatedAt`
const CODE_COLUMNS = `id, account_id AS accountId, client_id AS clientId, prefix, hash,
  redirect_uri AS redirectUri, scope, role, created_at AS createdAt, expires_at AS expiresAt,
  used_at AS usedAt`
// The grant is revoked when it was, or when its access token was (`tokens revoke`).
const GRANT_COLUMNS = `g.id, g.account_id AS accountId, g.client_id AS clientId,
  g.access_token_id AS accessTokenId, g.refresh_prefix AS refreshPrefix,
  g.refresh_hash AS refreshHash, g.scope, g.created_at AS createdAt, t.role, t.expires_at AS expiresAt,
  coalesce(g.revoked_at, t.revoked_at) AS revokedAt`
const GRANTS = 'oauth_grants g JOIN tokens t ON t.id = g.access_token_id'
const TOKEN_COLUMNS =
  'id, account_id, prefix, hash, role, scopes, label, created_at, expires_at, revoked_at'

/** A client row as stored: lists as space-separated text. */
type ClientRow = Omit<OAuthClientRecord, 'redirectUris' | 'scopes'> & {
  redirectUris: string
  scopes: string
}

function toClient(row: ClientRow): OAuthClientRecord {
  return {
    ...row,
    redirectUris: words(row.redirectUris),
    scopes: words(row.scopes) as Scope[],
  }
}

function words(text: string): string[] {
  return text.split(' ').filter((w) => w !== '')
}

function statements(reader: Database.Database, writer: Database.Database) {
  return {
    insertClient: lazyStatement<unknown[], ClientRow>(
      writer,
      `INSERT INTO oauth_clients (account_id, identifier, name, company, redirect_uris, client_type,
         secret_hash, role, scopes, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${CLIENT_COLUMNS}`,
    ),
    client: lazyStatement<[number, number], ClientRow>(
      reader,
      `SELECT ${CLIENT_COLUMNS} FROM oauth_clients WHERE account_id = ? AND id = ?`,
    ),
    clientOnWriter: lazyStatement<[number, number], ClientRow>(
      writer,
      `SELECT ${CLIENT_COLUMNS} FROM oauth_clients WHERE account_id = ? AND id = ?`,
    ),
    clientByIdentifier: lazyStatement<[number, string], ClientRow>(
      reader,
      `SELECT ${CLIENT_COLUMNS} FROM oauth_clients WHERE account_id = ? AND identifier = ?`,
    ),
    clients: lazyStatement<[number], ClientRow>(
      reader,
      `SELECT ${CLIENT_COLUMNS} FROM oauth_clients WHERE account_id = ? ORDER BY id`,
    ),
    updateClient: lazyStatement<unknown[]>(
      writer,
      `UPDATE oauth_clients SET name = ?, company = ?, redirect_uris = ?, client_type = ?,
         scopes = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
    ),
    deleteClient: lazyStatement<[number, number]>(
      writer,
      'DELETE FROM oauth_clients WHERE account_id = ? AND id = ?',
    ),
    deleteCodesOfClient: lazyStatement<[number, number]>(
      writer,
      'DELETE FROM oauth_codes WHERE account_id = ? AND client_id = ?',
    ),
    revokeGrantsOfClient: lazyStatement<[number, number, number]>(
      writer,
      `UPDATE oauth_grants SET revoked_at = coalesce(revoked_at, ?)
         WHERE account_id = ? AND client_id = ?`,
    ),
    revokeTokensOfClient: lazyStatement<[number, number, number, number]>(
      writer,
      `UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE account_id = ? AND id IN
         (SELECT access_token_id FROM oauth_grants WHERE account_id = ? AND client_id = ?)`,
    ),
    insertCode: lazyStatement<unknown[], OAuthCodeRecord>(
      writer,
      `INSERT INTO oauth_codes (account_id, client_id, prefix, hash, redirect_uri, scope, role,
         created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${CODE_COLUMNS}`,
    ),
    codeByPrefix: lazyStatement<[number, string], OAuthCodeRecord>(
      reader,
      `SELECT ${CODE_COLUMNS} FROM oauth_codes WHERE account_id = ? AND prefix = ?`,
    ),
    useCode: lazyStatement<[number, number, number]>(
      writer,
      'UPDATE oauth_codes SET used_at = ? WHERE account_id = ? AND id = ? AND used_at IS NULL',
    ),
    insertToken: lazyStatement<unknown[], TokenRow>(
      writer,
      `INSERT INTO tokens (account_id, prefix, hash, role, scopes, label, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${TOKEN_COLUMNS}`,
    ),
    insertGrant: lazyStatement<unknown[], { id: number }>(
      writer,
      `INSERT INTO oauth_grants (account_id, client_id, access_token_id, refresh_prefix,
         refresh_hash, scope, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    ),
    grant: lazyStatement<[number, number], OAuthGrantRecord>(
      reader,
      `SELECT ${GRANT_COLUMNS} FROM ${GRANTS} WHERE g.account_id = ? AND g.id = ?`,
    ),
    grantOnWriter: lazyStatement<[number, number], OAuthGrantRecord>(
      writer,
      `SELECT ${GRANT_COLUMNS} FROM ${GRANTS} WHERE g.account_id = ? AND g.id = ?`,
    ),
    grantByRefresh: lazyStatement<[number, string], OAuthGrantRecord>(
      reader,
      `SELECT ${GRANT_COLUMNS} FROM ${GRANTS} WHERE g.account_id = ? AND g.refresh_prefix = ?`,
    ),
    activeGrants: lazyStatement<[number, number], OAuthGrantRecord>(
      reader,
      `SELECT ${GRANT_COLUMNS} FROM ${GRANTS} WHERE g.account_id = ?
         AND g.revoked_at IS NULL AND t.revoked_at IS NULL
         AND (t.expires_at IS NULL OR t.expires_at > ?) ORDER BY g.id`,
    ),
    revokeGrant: lazyStatement<[number, number, number]>(
      writer,
      `UPDATE oauth_grants SET revoked_at = ? WHERE account_id = ? AND id = ?
         AND revoked_at IS NULL
         AND (SELECT revoked_at FROM tokens WHERE id = access_token_id) IS NULL`,
    ),
    revokeAccessOfGrant: lazyStatement<[number, number, number]>(
      writer,
      `UPDATE tokens SET revoked_at = coalesce(revoked_at, ?) WHERE account_id = ? AND id =
         (SELECT access_token_id FROM oauth_grants WHERE account_id = tokens.account_id AND id = ?)`,
    ),
  }
}

/** The OAuth tables of a SQLite store. */
export function sqliteOAuth(db: SqliteConnection): OAuthStore {
  const sql = statements(db.reader, db.writer)
  const client = (row: ClientRow | undefined) => (row === undefined ? undefined : toClient(row))
  return {
    createClient(c: NewOAuthClient) {
      return db.write(() => {
        assertAccountId(c.accountId)
        try {
          const row = sql
            .insertClient()
            .get(
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
            )
          if (row === undefined) throw new Error('INSERT ... RETURNING returned no client row.')
          return toClient(row)
        } catch (error) {
          if (isUniqueViolation(error)) throw tokenPrefixTaken(error)
          throw error
        }
      })
    },
    getClient(accountId, id) {
      return db.read(() => (isRowId(id) ? client(sql.client().get(accountId, id)) : undefined))
    },
    getClientByIdentifier(accountId, identifier) {
      return db.read(() => client(sql.clientByIdentifier().get(accountId, identifier)))
    },
    listClients(accountId) {
      return db.read(() => sql.clients().all(accountId).map(toClient))
    },
    updateClient(accountId, id, changes, at) {
      return db.write(() => {
        if (!isRowId(id)) return undefined
        const current = client(sql.clientOnWriter().get(accountId, id))
        if (current === undefined) return undefined
        const next = { ...current, ...changes, updatedAt: at }
        sql
          .updateClient()
          .run(
            next.name,
            next.company,
            next.redirectUris.join(' '),
            next.clientType,
            next.scopes.join(' '),
            at,
            accountId,
            id,
          )
        return next
      })
    },
    deleteClient(accountId, id, at) {
      return db.write(() => {
        if (!isRowId(id)) return false
        sql.revokeTokensOfClient().run(at, accountId, accountId, id)
        sql.revokeGrantsOfClient().run(at, accountId, id)
        sql.deleteCodesOfClient().run(accountId, id)
        return sql.deleteClient().run(accountId, id).changes > 0
      })
    },
    insertCode(code) {
      return db.write(() => {
        assertAccountId(code.accountId)
        try {
          const row = sql
            .insertCode()
            .get(
              code.accountId,
              code.clientId,
              code.prefix,
              code.hash,
              code.redirectUri,
              code.scope,
              code.role,
              code.createdAt,
              code.expiresAt,
            )
          if (row === undefined) throw new Error('INSERT ... RETURNING returned no code row.')
          return row
        } catch (error) {
          if (isUniqueViolation(error)) throw tokenPrefixTaken(error)
          throw error
        }
      })
    },
    getCodeByPrefix(accountId, prefix) {
      return db.read(() => sql.codeByPrefix().get(accountId, prefix))
    },
    issueGrant(accountId, issue, at) {
      return db.write(() => {
        assertAccountId(accountId)
        // The write lock is held: the checks and the inserts below are one atomic step.
        if (issue.consumesCodeId !== undefined) {
          if (sql.useCode().run(at, accountId, issue.consumesCodeId).changes === 0) return undefined
        }
        if (issue.replacesGrantId !== undefined) {
          if (sql.revokeGrant().run(at, accountId, issue.replacesGrantId).changes === 0) {
            return undefined
          }
          sql.revokeAccessOfGrant().run(at, accountId, issue.replacesGrantId)
        }
        const a = issue.access
        let tokenRow: TokenRow | undefined
        let grantRow: { id: number } | undefined
        try {
          tokenRow = sql
            .insertToken()
            .get(
              accountId,
              a.prefix,
              a.hash,
              a.role,
              a.scopes.join(' '),
              a.label,
              a.createdAt,
              a.expiresAt,
            )
          if (tokenRow === undefined) throw new Error('INSERT ... RETURNING returned no token row.')
          grantRow = sql
            .insertGrant()
            .get(
              accountId,
              issue.clientId,
              tokenRow.id,
              issue.refreshPrefix,
              issue.refreshHash,
              issue.scope,
              at,
            )
        } catch (error) {
          if (isUniqueViolation(error)) throw tokenPrefixTaken(error)
          throw error
        }
        const grant = grantRow && sql.grantOnWriter().get(accountId, grantRow.id)
        if (grant === undefined) throw new Error('INSERT ... RETURNING returned no grant row.')
        return { grant, token: toToken(tokenRow) }
      })
    },
    getGrant(accountId, id) {
      return db.read(() => (isRowId(id) ? sql.grant().get(accountId, id) : undefined))
    },
    getGrantByRefreshPrefix(accountId, prefix) {
      return db.read(() => sql.grantByRefresh().get(accountId, prefix))
    },
    listActiveGrants(accountId, now) {
      return db.read(() => sql.activeGrants().all(accountId, now))
    },
    revokeGrant(accountId, id, at) {
      return db.write(() => {
        if (!isRowId(id)) return false
        if (sql.revokeGrant().run(at, accountId, id).changes === 0) return false
        sql.revokeAccessOfGrant().run(at, accountId, id)
        return true
      })
    },
  }
}
