/** `chat-export tokens create|list|revoke`. @module */
import type { Command } from 'commander'
import { systemClock } from '../../domain/clock.js'
import { formatIso } from '../../domain/time.js'
import { isRole, issueToken, parseScopes } from '../../auth/tokens.js'
import { CliError, UsageError } from '../exit-codes.js'
import { action, requireAccount, withStore, withStoreOption } from '../shared-options.js'

interface CreateOptions {
  account: string
  role: string
  scopes: string
  label?: string
  expiresIn?: string
  store?: string
}

/** Registers the tokens commands. */
export function registerTokens(program: Command): void {
  const tokens = program.command('tokens').description('manage API tokens')
  withStoreOption(
    tokens
      .command('create')
      .description('create a token; prints the token alone on stdout (it is shown only once)')
      .requiredOption('--account <name>', 'account the token belongs to')
      .requiredOption('--role <role>', 'owner, administrator or agent')
      .option('--scopes <scopes>', 'space-separated scopes: read, write', 'read')
      .option('--label <text>', 'a note to recognise the token by')
      .option('--expires-in <seconds>', 'lifetime in seconds (default: no expiry)'),
  ).action(
    action(async (opts: CreateOptions) => {
      if (!isRole(opts.role)) {
        throw new UsageError(`Invalid --role "${opts.role}": use owner, administrator or agent.`)
      }
      const role = opts.role
      let scopes
      try {
        scopes = parseScopes(opts.scopes)
      } catch (err) {
        throw new UsageError((err as Error).message)
      }
      let ttl: number | undefined
      if (opts.expiresIn !== undefined) {
        const seconds = Number(opts.expiresIn)
        if (!Number.isInteger(seconds) || seconds <= 0) {
          throw new UsageError(
            `Invalid --expires-in "${opts.expiresIn}": use a positive number of seconds.`,
          )
        }
        ttl = seconds * 1_000_000
      }
      await withStore(opts.store, async (store) => {
        const account = await requireAccount(store, opts.account)
        const { token, record } = await issueToken(store, {
          accountId: account.id,
          role,
          scopes,
          label: opts.label ?? null,
          now: systemClock().now(),
          ttl,
        })
        process.stdout.write(`${token}\n`)
        process.stderr.write(
          `created token ${record.id} for ${account.name} (role ${role}, scopes "${scopes.join(' ')}"); store it now, it cannot be shown again\n`,
        )
      })
    }),
  )
  withStoreOption(
    tokens
      .command('list')
      .description('list tokens (never their secrets)')
      .requiredOption('--account <name>'),
  ).action(
    action(async (opts: { account: string; store?: string }) => {
      await withStore(opts.store, async (store) => {
        const account = await requireAccount(store, opts.account)
        process.stdout.write('id\trole\tscopes\tcreated\tstatus\texpires\tlabel\n')
        for (const t of await store.listTokens(account.id)) {
          const status = t.revokedAt
            ? 'revoked'
            : t.expiresAt !== null && t.expiresAt <= systemClock().now()
              ? 'expired'
              : 'active'
          process.stdout.write(
            `${t.id}\t${t.role}\t${t.scopes.join(' ')}\t${formatIso(t.createdAt)}\t${status}\t${t.expiresAt === null ? 'never' : formatIso(t.expiresAt)}\t${t.label ?? ''}\n`,
          )
        }
      })
    }),
  )
  withStoreOption(
    tokens
      .command('revoke')
      .description('revoke a token by id (see tokens list)')
      .argument('<id>')
      .requiredOption('--account <name>'),
  ).action(
    action(async (id: string, opts: { account: string; store?: string }) => {
      await withStore(opts.store, async (store) => {
        const account = await requireAccount(store, opts.account)
        const ok = await store.revokeToken(account.id, Number(id), systemClock().now())
        if (!ok) throw new CliError(`No token ${id} in account ${account.name}.`)
        process.stderr.write(`revoked token ${id}\n`)
      })
    }),
  )
}
