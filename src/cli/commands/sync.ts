/**
 * `chat-export sync` and `chat-export sync state show|reset`: a thin shell over runSync and the
 * state operations of src/sync.
 *
 * Exit codes (SYNC_EXIT_CODES): 0 done, 1 unexpected failure (destination, protocol), 2 usage or
 * configuration, 3 refused by the server (400/401/403/404…), 4 server or network unavailable after
 * the retries, 130 interrupted by SIGINT/SIGTERM (after the page being committed).
 * @module
 */
import type { Command } from 'commander'
import type { FetchLike } from '../../client/index.js'
import {
  ExportHttpError,
  ExportNetworkError,
  InvalidClientOptionsError,
  InvalidCursorError,
} from '../../client/index.js'
import { processEnvironment } from '../../config/config.js'
import { formatIso } from '../../domain/time.js'
import { DestinationError } from '../../sync/destination.js'
import type { ProgressMode } from '../../sync/progress-reporter.js'
import { createProgressReporter } from '../../sync/progress-reporter.js'
import type { SyncResult } from '../../sync/run-sync.js'
import { SyncSourceMismatchError, runSync } from '../../sync/run-sync.js'
import {
  SyncFlagError,
  parseDeletedMode,
  parseDuration,
  parseIntegerFlag,
  parseStartTime,
  parseStreams,
} from '../../sync/sync-flags.js'
import { resetSyncState, showSyncState } from '../../sync/state-operations.js'

/** The exit codes of `sync` (see the module comment and docs/sync.md). */
export const SYNC_EXIT_CODES = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  REFUSED: 3,
  UNAVAILABLE: 4,
  INTERRUPTED: 130,
} as const

/** A writable the command prints to (process.stdout / process.stderr by default). */
export interface TextOutput {
  write(chunk: string): unknown
  isTTY?: boolean
}

export interface SyncCommandDeps {
  /**
   * The environment as parsed by the config layer; only CHAT_EXPORT_TOKEN is used (the token when
   * --token is not given). Default: processEnvironment() from src/config.
   */
  environment?: { CHAT_EXPORT_TOKEN?: string | undefined }
  stdout?: TextOutput
  stderr?: TextOutput
  fetch?: FetchLike
  /** Stops the sync (in addition to SIGINT/SIGTERM when handleSignals is on). */
  signal?: AbortSignal
  /** Install SIGINT/SIGTERM handlers while a sync runs (default true). */
  handleSignals?: boolean
  /** Receives the exit code (default: sets process.exitCode). */
  setExitCode?: (code: number) => void
}

interface SyncFlags {
  from?: string
  token?: string
  to?: string
  streams?: string
  startTime?: string
  follow?: boolean
  interval?: string
  deleted?: string
  limit?: string
  maxRetries?: string
  quiet?: boolean
  progress?: string
}

interface StateFlags {
  to?: string
  stream?: string
  all?: boolean
  json?: boolean
}

/** Registers `sync` (and `sync state show|reset`) on the program. */
export function registerSync(program: Command, deps: SyncCommandDeps = {}): Command {
  const stdout = deps.stdout ?? process.stdout
  const stderr = deps.stderr ?? process.stderr
  const setExitCode =
    deps.setExitCode ??
    ((code: number) => {
      process.exitCode = code
    })
  const run =
    (fn: (command: Command) => Promise<void>) => async (_opts: unknown, command: Command) => {
      try {
        await fn(command)
        setExitCode(SYNC_EXIT_CODES.OK)
      } catch (error) {
        const { code, message } = describeFailure(error)
        stderr.write(`error: ${message}\n`)
        setExitCode(code)
      }
    }

  const sync = program
    .command('sync')
    .description(
      'copy export streams into SQLite, JSONL files or PostgreSQL; resumable and crash-safe',
    )
    .option(
      '--from <url>',
      'API base URL, e.g. https://acme.zendesk.com/api/v2/chat or http://127.0.0.1:8080',
    )
    .option(
      '--token <token>',
      'API token (default: $CHAT_EXPORT_TOKEN; prefer the variable, flags show in ps)',
    )
    .option('--to <dest>', 'sqlite:PATH, jsonl:DIR or postgres://USER:PASSWORD@HOST:PORT/DATABASE')
    .option('--streams <list>', 'comma-separated streams (default: all five)')
    .option(
      '--start-time <time>',
      'where streams without a saved cursor start: ISO-8601 UTC or epoch seconds',
    )
    .option('--follow', 'keep polling after catching up, until interrupted')
    .option('--interval <duration>', 'poll interval with --follow (e.g. 30s, 5m)', '30s')
    .option('--deleted <mode>', 'deleted chats: flag (keep, marked deleted) or remove', 'flag')
    .option('--limit <n>', 'items per page, 1..1000', '1000')
    .option('--max-retries <n>', 'retries per request on 429/5xx/network errors', '10')
    .option('--progress <mode>', 'bar, lines or auto (bar on a terminal)', 'auto')
    .option('-q, --quiet', 'print nothing but errors')
    .action(
      run(async (command) => {
        const flags = command.opts<SyncFlags>()
        const environment = deps.environment ?? processEnvironment()
        const from = required(flags.from, '--from')
        const to = required(flags.to, '--to')
        const token = flags.token ?? environment.CHAT_EXPORT_TOKEN
        if (token === undefined || token === '') {
          throw new SyncFlagError('No token: pass --token or set CHAT_EXPORT_TOKEN.')
        }
        const streams = parseStreams(flags.streams)
        const follow = flags.follow === true
        const mode = progressMode(flags, stderr)
        const reporter = createProgressReporter({
          mode,
          output: stderr as NodeJS.WritableStream,
          streams,
        })
        const controller = new AbortController()
        const release = linkSignals(controller, deps, stderr, mode !== 'quiet')
        let result: SyncResult
        try {
          result = await runSync({
            from,
            token,
            to,
            streams,
            ...(flags.startTime === undefined
              ? {}
              : { startTime: parseStartTime(flags.startTime) }),
            follow,
            intervalMs: parseDuration(flags.interval ?? '30s'),
            deletedMode: parseDeletedMode(flags.deleted),
            onProgress: (event) => reporter.onEvent(event),
            signal: controller.signal,
            ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
            client: {
              limit: parseIntegerFlag(flags.limit ?? '1000', '--limit', 1, 1000),
              maxRetries: parseIntegerFlag(flags.maxRetries ?? '10', '--max-retries', 0, 1000),
            },
          })
        } finally {
          reporter.stop()
          release()
        }
        if (mode !== 'quiet') {
          const total = result.streams.reduce((n, s) => n + s.items, 0)
          const perStream = result.streams.map((s) => `${s.stream} ${s.items}`).join(', ')
          stderr.write(`sync complete: ${total} items (${perStream})\n`)
        }
      }),
    )

  const state = sync
    .command('state')
    .description("show or reset a destination's per-stream sync state")
  state
    .command('show')
    .description('print the saved cursor of each stream')
    .option('--to <dest>', 'the destination, as for sync')
    .option('--stream <list>', 'only these streams (comma-separated)')
    .option('--json', 'print JSON')
    .action(
      run(async (command) => {
        // optsWithGlobals: `--to` may have been taken by `sync` itself (commander parses parent
        // options anywhere on the line unless the program enables positional options).
        const flags = command.optsWithGlobals<StateFlags>()
        const to = required(flags.to, '--to')
        const streams = flags.stream === undefined ? undefined : parseStreams(flags.stream)
        const states = await showSyncState(to, streams)
        if (flags.json === true) {
          stdout.write(`${JSON.stringify(states, null, 2)}\n`)
          return
        }
        if (states.length === 0) {
          stdout.write('no sync state\n')
          return
        }
        for (const s of states) {
          stdout.write(
            [
              s.stream,
              `items=${s.items}`,
              `pages=${s.pages}`,
              `cursor_time=${s.endTime === null ? '-' : formatIso(s.endTime)}`,
              `updated=${s.updatedAt}`,
              `next_page=${s.cursor?.nextPage ?? '-'}`,
            ].join('\t') + '\n',
          )
        }
      }),
    )
  state
    .command('reset')
    .description(
      'forget the cursor of the given streams (their data stays); the next sync re-reads them',
    )
    .option('--to <dest>', 'the destination, as for sync')
    .option('--stream <list>', 'the streams to reset (comma-separated)')
    .option('--all', 'reset every stream')
    .action(
      run(async (command) => {
        const flags = command.optsWithGlobals<StateFlags>()
        const to = required(flags.to, '--to')
        if (flags.stream === undefined && flags.all !== true) {
          throw new SyncFlagError('Name the streams to reset with --stream S[,S…], or pass --all.')
        }
        const streams = parseStreams(flags.all === true ? 'all' : flags.stream)
        for (const { stream, reset } of await resetSyncState(to, streams)) {
          stdout.write(reset ? `reset ${stream}\n` : `${stream}: no state to reset\n`)
        }
      }),
    )
  return sync
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new SyncFlagError(`Missing ${flag}.`)
  return value
}

function progressMode(flags: SyncFlags, stderr: TextOutput): ProgressMode {
  if (flags.quiet === true) return 'quiet'
  const choice = flags.progress ?? 'auto'
  if (choice === 'bar' || choice === 'lines') return choice
  if (choice !== 'auto')
    throw new SyncFlagError(`Invalid --progress "${choice}": use bar, lines or auto.`)
  return stderr.isTTY === true ? 'bar' : 'lines'
}

/**
 * Ties SIGINT/SIGTERM (and deps.signal) to the sync's controller. The first signal stops after
 * the page being committed; a second one exits at once, which is safe too (every commit is atomic).
 */
function linkSignals(
  controller: AbortController,
  deps: SyncCommandDeps,
  stderr: TextOutput,
  verbose: boolean,
): () => void {
  const onExternal = () => controller.abort(deps.signal?.reason)
  deps.signal?.addEventListener('abort', onExternal, { once: true })
  if (deps.signal?.aborted) controller.abort(deps.signal.reason)
  if (deps.handleSignals === false)
    return () => deps.signal?.removeEventListener('abort', onExternal)
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(SYNC_EXIT_CODES.INTERRUPTED)
    if (verbose) stderr.write(`${name}: stopping after the current page (again to stop at once)\n`)
    controller.abort(new DOMException(`Interrupted by ${name}`, 'AbortError'))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return () => {
    deps.signal?.removeEventListener('abort', onExternal)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
  }
}

/** The exit code and a one-line message for a failure (never a stack trace, never the token). */
export function describeFailure(error: unknown): { code: number; message: string } {
  const message = error instanceof Error ? error.message : String(error)
  if (error instanceof Error && error.name === 'AbortError') {
    return {
      code: SYNC_EXIT_CODES.INTERRUPTED,
      message: 'interrupted; the next sync resumes from the last committed page',
    }
  }
  if (
    error instanceof SyncFlagError ||
    error instanceof InvalidClientOptionsError ||
    error instanceof InvalidCursorError ||
    error instanceof SyncSourceMismatchError
  ) {
    return { code: SYNC_EXIT_CODES.USAGE, message }
  }
  if (error instanceof DestinationError) {
    return {
      code: /^Unsupported destination/.test(message)
        ? SYNC_EXIT_CODES.USAGE
        : SYNC_EXIT_CODES.FAILED,
      message,
    }
  }
  if (error instanceof ExportHttpError) {
    return {
      code: error.retryable ? SYNC_EXIT_CODES.UNAVAILABLE : SYNC_EXIT_CODES.REFUSED,
      message,
    }
  }
  if (error instanceof ExportNetworkError) return { code: SYNC_EXIT_CODES.UNAVAILABLE, message }
  return { code: SYNC_EXIT_CODES.FAILED, message }
}
