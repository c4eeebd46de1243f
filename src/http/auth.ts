/**
 * Bearer authentication and authorisation. Every request to a data route resolves its token to one
 * account; everything downstream is scoped to that account.
 * @module
 */
import type { MiddlewareHandler } from 'hono'
import type { Clock } from '../domain/clock.js'
import { AppError } from '../domain/errors.js'
import type { Role, Scope, Store, TokenRecord } from '../store/store.js'
import { verifyToken } from '../auth/tokens.js'
import { hostTarget } from './zendesk-hosts.js'

export interface AuthVariables {
  token: TokenRecord
  /** The fault applied to this request, set by the fault middleware (read by the journal). */
  fault?: string
  /**
   * An export page sent as it was built (uncompressed): its size and end cursor, set by the
   * export route so the journal need not copy and re-read a multi-megabyte body.
   */
  exportPage?: { bytes: number; endTime: string; endId: string }
}

/** Requires a valid bearer token; sets `c.var.token`. */
export function requireToken(
  store: Store,
  clock: Clock,
): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async function authenticate(c, next) {
    const accountOfHost = await accountForHost(store, new URL(c.req.url).host)
    const header = c.req.header('authorization')
    if (!header) {
      throw new AppError(
        'UNAUTHORIZED',
        'No token was sent. Send the header "Authorization: Bearer <token>"; create a token with `chat-export tokens create`.',
      )
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header)
    if (!match) {
      throw new AppError(
        'UNAUTHORIZED',
        'The Authorization header is not a bearer token. Send "Authorization: Bearer <token>".',
      )
    }
    const check = await verifyToken(store, match[1] ?? '', clock.now())
    if (!check.ok) {
      const why = {
        malformed: 'is not a chat-export token',
        unknown: 'is not known',
        revoked: 'has been revoked',
        expired: 'has expired',
      }[check.reason]
      throw new AppError(
        'UNAUTHORIZED',
        `The server could not verify that you are authorized to access the requested resource: the token ${why}. Create a new one with \`chat-export tokens create\`.`,
      )
    }
    if (accountOfHost && accountOfHost.id !== check.record.accountId) {
      throw new AppError(
        'UNAUTHORIZED',
        `The token does not belong to the account "${accountOfHost.name}" that ${accountOfHost.name}.zendesk.com serves. Use a token of that account (\`chat-export tokens create --account ${accountOfHost.name}\`) or the subdomain of the token's own account.`,
      )
    }
    c.set('token', check.record)
    await next()
  }
}

/**
 * The account a `{subdomain}.zendesk.com` request is served from (undefined for every other host).
 * Checked before the token so that a mistyped subdomain says so rather than blaming the token.
 */
async function accountForHost(
  store: Store,
  authority: string,
): Promise<{ id: number; name: string } | undefined> {
  const target = hostTarget(authority)
  if (target.kind !== 'subdomain') return undefined
  const account = await store.getAccountByName(target.account)
  if (!account) {
    throw new AppError(
      'NOT_FOUND',
      `No account named "${target.account}" on this server: ${target.account}.zendesk.com is served from the account of that name. Create it with \`chat-export accounts create ${target.account}\`, or use the subdomain of an existing account.`,
    )
  }
  return account
}

/** Checks the token's role and scope for an action. */
export function authorize(
  token: TokenRecord,
  roles: readonly Role[],
  scope: Scope,
  action: string,
): void {
  if (!roles.includes(token.role)) {
    throw new AppError(
      'FORBIDDEN_ROLE',
      `${action} is allowed for ${roles.join(' and ')} tokens; this token's role is ${token.role}. Use a token created with --role ${roles[0] ?? 'owner'}.`,
    )
  }
  if (!token.scopes.includes(scope)) {
    throw new AppError(
      'FORBIDDEN_SCOPE',
      `${action} needs the "${scope}" scope; this token has "${token.scopes.join(' ')}". Create a token with --scopes "${scope}".`,
    )
  }
}
