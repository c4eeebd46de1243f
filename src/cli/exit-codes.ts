/**
 * The one table from errors to exit codes, by type (never by message text), and the one way an
 * error is printed for a person: one line, no stack trace, never a token.
 *
 *   0    done (also: help, version, and a requested stop of `sync --follow`)
 *   1    unexpected failure (destination, protocol, store, an import the server refused...)
 *   2    usage or configuration: unknown or missing flag, bad value, unknown destination,
 *        a saved cursor from another `--from`
 *   3    `sync`: the server refused (400, 401, 403, 404 ... not retried)
 *   4    `sync`: the server or network stayed unavailable after the retries
 *   130  interrupted (SIGINT/SIGTERM) before the work was done
 * @module
 */
import { CommanderError } from 'commander'
import {
  ExportHttpError,
  ExportNetworkError,
  InvalidClientOptionsError,
  InvalidCursorError,
} from '../client/errors.js'
import { ConfigError } from '../config/config.js'
import { AppError } from '../domain/errors.js'
import { SyncSourceMismatchError } from '../sync/run-sync.js'

export const EXIT_CODES = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  REFUSED: 3,
  UNAVAILABLE: 4,
  INTERRUPTED: 130,
} as const

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES]

/** A usage error found by a command itself (e.g. an invalid --role); exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** A failure meant for the terminal (no such account, already exists...); exits 1. */
export class CliError extends Error {
  override readonly name = 'CliError'
}

type ErrorClass = abstract new (...args: never[]) => Error

/** Error types and their exit codes; the first row that matches wins, anything else is 1. */
const EXIT_CODE_TABLE: ReadonlyArray<readonly [ErrorClass, (err: never) => ExitCode]> = [
  [
    CommanderError,
    (err: CommanderError) => (err.exitCode === 0 ? EXIT_CODES.OK : EXIT_CODES.USAGE),
  ],
  [ConfigError, () => EXIT_CODES.USAGE],
  [UsageError, () => EXIT_CODES.USAGE],
  [InvalidClientOptionsError, () => EXIT_CODES.USAGE],
  [InvalidCursorError, () => EXIT_CODES.USAGE],
  [SyncSourceMismatchError, () => EXIT_CODES.USAGE],
  [
    ExportHttpError,
    (err: ExportHttpError) => (err.retryable ? EXIT_CODES.UNAVAILABLE : EXIT_CODES.REFUSED),
  ],
  [ExportNetworkError, () => EXIT_CODES.UNAVAILABLE],
]

/** Whether the error is a requested stop (an aborted signal's reason). */
export function isInterruption(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError'
}

/** The exit code for an error, by its type. */
export function exitCodeFor(err: unknown): ExitCode {
  if (isInterruption(err)) return EXIT_CODES.INTERRUPTED
  for (const [type, code] of EXIT_CODE_TABLE) {
    if (err instanceof type) return (code as (e: unknown) => ExitCode)(err)
  }
  return EXIT_CODES.FAILED
}

/** A writable the CLI prints to (process.stderr by default). */
export interface TextOutput {
  write(chunk: string): unknown
  isTTY?: boolean
}

/** Prints an error for a person and returns its exit code. */
export function reportError(err: unknown, stderr: TextOutput = process.stderr): ExitCode {
  const code = exitCodeFor(err)
  // Commander has printed its own message (or the help) already.
  if (err instanceof CommanderError) return code
  if (isInterruption(err)) {
    stderr.write('interrupted; the next run resumes from the last committed page\n')
    return code
  }
  if (err instanceof AppError) {
    stderr.write(`error: ${err.description}\n`)
    if (Array.isArray(err.details)) {
      for (const d of err.details.slice(0, 20) as Array<{ line?: number; message?: string }>) {
        stderr.write(`  line ${d.line ?? '?'}: ${d.message ?? ''}\n`)
      }
    }
    return code
  }
  stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`)
  return code
}
