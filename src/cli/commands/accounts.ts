/** `chat-export accounts create NAME` and `accounts list`. @module */
import type { Command } from 'commander'
import { CliError, UsageError } from '../exit-codes.js'
import { action, withStore, withStoreOption } from '../shared-options.js'

/** Registers the accounts commands. */
export function registerAccounts(program: Command): void {
  const accounts = program.command('accounts').description('manage accounts')
  withStoreOption(
    accounts
      .command('create')
      .argument('<name>', 'account name (letters, digits, - and _)')
      .description('create an account'),
  ).action(
    action(async (name: string, opts: { store?: string }) => {
      if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/.test(name)) {
        throw new UsageError(
          `Invalid account name "${name}": use 1-63 letters, digits, "-" or "_", starting with a letter or digit.`,
        )
      }
      await withStore(opts.store, async (store) => {
        if (await store.getAccountByName(name)) {
          throw new CliError(`An account named "${name}" already exists.`)
        }
        const account = await store.createAccount(name)
        process.stdout.write(`${account.name}\n`)
        process.stderr.write(`created account ${account.name} (id ${account.id})\n`)
      })
    }),
  )
  withStoreOption(accounts.command('list').description('list accounts')).action(
    action(async (opts: { store?: string }) => {
      await withStore(opts.store, async (store) => {
        for (const a of await store.listAccounts()) process.stdout.write(`${a.id}\t${a.name}\n`)
      })
    }),
  )
}
