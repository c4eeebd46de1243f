/** `chat-export oauth clients create|list|delete`. @module */
import type { Command } from 'commander'
import { systemClock } from '../../domain/clock.js'
import { formatIso } from '../../domain/time.js'
import { createOAuthClient } from '../../auth/oauth.js'
import type { OAuthStore } from '../../store/oauth-port.js'
import type { Store } from '../../store/store.js'
import { CliError, UsageError } from '../exit-codes.js'
import { action, requireAccount, withStore, withStoreOption } from '../shared-options.js'

interface CreateOptions {
  account: string
  name: string
  redirectUri: string[]
  company?: string
  confidential?: boolean
  scopes: string
  store?: string
}

/** The store's OAuth tables, or a clear refusal (every shipped store has them). */
function oauthOf(store: Store): OAuthStore {
  if (!store.oauth) throw new CliError('This store does not support OAuth clients.')
  return store.oauth
}

/** Registers the oauth commands. */
export function registerOAuth(program: Command): void {
  const clients = program
    .command('oauth')
    .description('manage OAuth clients (see docs/oauth.md)')
    .command('clients')
    .description('OAuth clients of an account')
  withStoreOption(
    clients
      .command('create')
      .description(
        'create a client; prints its client_id and client_secret on stdout (the secret is shown only once)',
      )
      .requiredOption('--account <name>', 'account the client belongs to')
      .requiredOption('--name <name>', 'name shown on the consent page')
      .requiredOption(
        '--redirect-uri <url>',
        'an allowed redirect URI (repeatable)',
        (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
      )
      .option('--company <text>', 'company shown on the consent page')
      .option('--scopes <scopes>', 'scopes the client may be granted: read, write', 'read write')
      .option('--confidential', 'a confidential client (needed for client_credentials)'),
  ).action(
    action(async (opts: CreateOptions) => {
      const scopes = opts.scopes.split(/[\s,]+/).filter((s) => s !== '')
      if (scopes.length === 0 || scopes.some((s) => s !== 'read' && s !== 'write')) {
        throw new UsageError(
          `Invalid --scopes "${opts.scopes}": use "read", "write" or "read write".`,
        )
      }
      for (const uri of opts.redirectUri) {
        if (!URL.canParse(uri)) {
          throw new UsageError(`Invalid --redirect-uri "${uri}": use an absolute URL.`)
        }
      }
      await withStore(opts.store, async (store) => {
        const account = await requireAccount(store, opts.account)
        const { client, secret } = await createOAuthClient(oauthOf(store), {
          accountId: account.id,
          name: opts.name,
          company: opts.company,
          redirectUris: opts.redirectUri,
          clientType: opts.confidential ? 'confidential' : 'public',
          // Created by whoever runs the CLI against the store: the account's owner.
          role: 'owner',
          scopes: scopes as ('read' | 'write')[],
          now: systemClock().now(),
        })
        process.stdout.write(`client_id=${client.identifier}\nclient_secret=${secret}\n`)
        process.stderr.write(
          `created OAuth client ${client.id} (${client.clientType}) for ${account.name}; store the secret now, it cannot be shown again\n`,
        )
      })
    }),
  )
  withStoreOption(
    clients
      .command('list')
      .description('list clients (never their secrets)')
      .requiredOption('--account <name>'),
  ).action(
    action(async (opts: { account: string; store?: string }) => {
      await withStore(opts.store, async (store) => {
        const account = await requireAccount(store, opts.account)
        process.stdout.write('id\tclient_id\ttype\tscopes\tcreated\tname\tredirect_uris\n')
        for (const c of await oauthOf(store).listClients(account.id)) {
          process.stdout.write(
            `${c.id}\t${c.identifier}\t${c.clientType}\t${c.scopes.join(' ')}\t${formatIso(c.createdAt)}\t${c.name}\t${c.redirectUris.join(' ')}\n`,
          )
        }
      })
    }),
  )
  withStoreOption(
    clients
      .command('delete')
      .description('delete a client by id (see oauth clients list); revokes its tokens')
      .argument('<id>')
      .requiredOption('--account <name>'),
  ).action(
    action(async (id: string, opts: { account: string; store?: string }) => {
      await withStore(opts.store, async (store) => {
        const account = await requireAccount(store, opts.account)
        const ok = await oauthOf(store).deleteClient(account.id, Number(id), systemClock().now())
        if (!ok) throw new CliError(`No OAuth client ${id} in account ${account.name}.`)
        process.stderr.write(`deleted OAuth client ${id} and revoked its tokens\n`)
      })
    }),
  )
}
