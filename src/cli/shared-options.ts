/**
 * Pieces every command shares: the store option, opening the store, and turning errors into a
 * clear message and exit code instead of a stack trace.
 * @module
 */
import type { Command } from 'commander'
import { ConfigError, processEnvironment, resolveStoreUrl } from '../config/config.js'
import { systemClock } from '../domain/clock.js'
import { AppError } from '../domain/errors.js'
import { openStore } from '../store/open-store.js'
import type { Account, Store } from '../store/store.js'

/** Adds `--store URL` to a command. */
export function withStoreOption(command: Command): Command {
  return command.option(
    '--store <url>',
    'sqlite:PATH or postgres://... (default: $CHAT_EXPORT_STORE or sqlite:./data/chat-export.db)',
  )
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

/** An error meant for the terminal: printed without a stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError'
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message)
  }
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

/** Prints an error for a person and returns the exit code. */
export function reportError(err: unknown): number {
  if (err instanceof CliError) {
    process.stderr.write(`error: ${err.message}\n`)
    return err.exitCode
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`error: ${err.message}\n`)
    return 2
  }
  if (err instanceof AppError) {
    process.stderr.write(`error: ${err.description}\n`)
    const details = err.details
    if (Array.isArray(details)) {
      for (const d of details.slice(0, 20) as Array<{ line?: number; message?: string }>) {
        process.stderr.write(`  line ${d.line ?? '?'}: ${d.message ?? ''}\n`)
      }
    }
    return 1
  }
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`)
  return 1
}
