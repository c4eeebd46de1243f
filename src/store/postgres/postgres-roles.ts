/**
 * Roles for the PostgreSQL store. The store is opened with one URL; its user (the "login") runs the
 * migrations and therefore owns the tables. All data access then happens as a second role, the
 * application role (default `chat_export_app`): NOLOGIN, not a superuser, no BYPASSRLS, owns
 * nothing. Each pooled connection switches to it with `SET ROLE` before its first query, so
 * row-level security applies to every query the store runs, even when the login is a superuser.
 * See docs/scaling.md ("Tenant isolation").
 * @module
 */
import type pg from 'pg'

export const DEFAULT_APP_ROLE = 'chat_export_app'

/** Role names are interpolated into DDL (identifiers cannot be bound), so only plain ones pass. */
export function assertRoleName(name: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
    throw new Error(
      `Invalid PostgreSQL role name "${name}": use lower-case letters, digits and underscores.`,
    )
  }
}

/** SQLSTATE of an error thrown by node-postgres, if any. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = error.code
    return typeof code === 'string' ? code : undefined
  }
  return undefined
}

/**
 * Makes sure the application role exists, is safe (no superuser, no BYPASSRLS, not the login
 * itself) and that the login may `SET ROLE` to it. Creating it needs CREATEROLE (or a superuser);
 * a DBA can instead create it once and grant it to the login (see docs/scaling.md).
 */
export async function ensureAppRole(client: pg.ClientBase, appRole: string): Promise<void> {
  assertRoleName(appRole)
  const me = await client.query<{ login: string; version: string }>(
    "SELECT current_user AS login, current_setting('server_version_num') AS version",
  )
  const login = me.rows[0]?.login
  if (login === appRole) {
    throw new Error(
      `The store URL logs in as "${appRole}", the application role itself; log in as the role that owns the tables instead (see docs/scaling.md).`,
    )
  }

  const existing = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [appRole])
  if (existing.rowCount === 0) {
    try {
      await client.query(`CREATE ROLE ${appRole} NOLOGIN NOSUPERUSER NOBYPASSRLS`)
    } catch (error) {
      // Roles are cluster-wide: a migration of another database may have created it just now.
      const state = sqlState(error)
      if (state !== '42710' && state !== '23505') {
        throw new Error(
          `Could not create the application role "${appRole}" (the store URL's user needs CREATEROLE, or a DBA runs: CREATE ROLE ${appRole} NOLOGIN; GRANT ${appRole} TO ${login ?? 'the_login'};).`,
          { cause: error },
        )
      }
    }
  }

  const attributes = await client.query<{ rolsuper: boolean; rolbypassrls: boolean }>(
    'SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1',
    [appRole],
  )
  const role = attributes.rows[0]
  if (role === undefined || role.rolsuper || role.rolbypassrls) {
    throw new Error(
      `The application role "${appRole}" is a superuser or has BYPASSRLS, so row-level security would not apply to it; remove those attributes.`,
    )
  }

  // PostgreSQL 16 split membership into ADMIN / INHERIT / SET options; SET ROLE needs SET.
  const privilege = Number(me.rows[0]?.version ?? 0) >= 160000 ? 'SET' : 'MEMBER'
  const member = await client.query<{ ok: boolean }>(
    'SELECT pg_has_role(current_user, $1, $2) AS ok',
    [appRole, privilege],
  )
  if (member.rows[0]?.ok === true) return
  try {
    await client.query(`GRANT ${appRole} TO CURRENT_USER`)
  } catch (error) {
    throw new Error(
      `The store URL's user may not switch to the application role "${appRole}"; a DBA runs: GRANT ${appRole} TO ${login ?? 'the_login'};`,
      { cause: error },
    )
  }
}

/**
 * The statement every pooled connection runs before its first query: pin the schema the login
 * sees (so `"$user"` in search_path cannot resolve differently after the switch), then become the
 * application role.
 */
export function connectionSetupSql(appRole: string): string {
  assertRoleName(appRole)
  return `SELECT set_config('search_path', coalesce(quote_ident(current_schema()), 'public'), false); SET ROLE ${appRole}`
}
