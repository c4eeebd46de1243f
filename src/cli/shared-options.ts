/**
 * Pieces every command shares: declaring options from the config layer's settings, the store
 * option, opening the store, and turning errors into one clear message and exit code.
 * @module
 */
import type { Command } from 'commander'
import type { Setting } from '../config/config.js'
import { helpText, processEnvironment, resolveStoreUrl, STORE } from '../config/config.js'
import { systemClock } from '../domain/clock.js'
import { openStore } from '../store/open-store.js'
import type { Account, Store } from '../store/store.js'
import { CliError, reportError } from './exit-codes.js'

/**
 * Declares one option per setting. Defaults are not given to commander (that would hide whether
 * a flag was typed, and environment variables come between the two): --help shows them from the
 * settings instead.
 */
export function withSettings(
  command: Command,
  settings: Readonly<Record<string, Setting<unknown>>>,
): Command {
  for (const setting of Object.values(settings)) command.option(setting.flag, helpText(setting))
  return command
}

/** Adds `--store URL` to a command. */
export function withStoreOption(command: Command): Command {
  return withSettings(command, { store: STORE })
}

/** Opens the store named by --store / CHAT_EXPORT_STORE, runs `fn`, and closes it. */
export async function withStore<T>(
  storeFlag: string | undefined,
  fn: (store: Store) => Promise<T>,
): Promise<T> {
  const url = resolveStoreUrl(storeFlag, processEnvironment())
  const store = await openStore(url, { clock: systemClock() })
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}

/** Finds an account by name or fails with a message that says how to create it. */
export async function requireAccount(store: Store, name: string): Promise<Account> {
  const account = await store.getAccountByName(name)
  if (!account) {
    throw new CliError(
      `No account named "${name}". Create it with: chat-export accounts create ${name}`,
    )
  }
  return account
}

/** Wraps a command action so expected failures print one clear message and set the exit code. */
export function action<A extends unknown[]>(
  fn: (...args: A) => Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args)
    } catch (err) {
      process.exitCode = reportError(err)
    }
  }
}
