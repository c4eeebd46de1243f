/**
 * `chat-export sync` and `chat-export sync state show|reset`: a thin shell over runSync and the
 * state operations of src/sync. Settings come from src/config/sync-config.ts; exit codes from
 * the one table in ../exit-codes.ts (0 done, 1 failure, 2 usage, 3 refused, 4 unavailable,
 * 130 interrupted before catching up; a stop of `--follow` is a clean 0).
 * @module
 */
import type { Command } from 'commander'
import type { FetchLike } from '../../client/index.js'
import type { Environment, FlagValues, SyncConfig } from '../../config/config.js'
import {
  loadSyncConfig,
  loadSyncDiscoverConfig,
  loadSyncStateConfig,
  processEnvironment,
  SYNC_SETTINGS,
  SYNC_STATE_SETTINGS,
} from '../../config/config.js'
import { formatIso } from '../../domain/time.js'
import type { ProgressMode } from '../../sync/progress-reporter.js'
import { createProgressReporter } from '../../sync/progress-reporter.js'
import type { SyncResult } from '../../sync/run-sync.js'
import { runSync } from '../../sync/run-sync.js'
import { syncCatalog } from '../../sync/catalog.js'
import { resetSyncState, showSyncState } from '../../sync/state-operations.js'
import type { TextOutput } from '../exit-codes.js'
import { EXIT_CODES, isInterruption, reportError } from '../exit-codes.js'
import { withSettings } from '../shared-options.js'

export type { TextOutput } from '../exit-codes.js'

export interface SyncCommandDeps {
  /** The environment the config layer reads (CHAT_EXPORT_TOKEN). Default: processEnvironment(). */
  environment?: Environment
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
        setExitCode(EXIT_CODES.OK)
      } catch (error) {
        setExitCode(reportError(error, stderr))
      }
    }

  const environment = () => deps.environment ?? processEnvironment()
  const sync = withSettings(
    program
      .command('sync')
      .description(
        'copy export streams into SQLite, JSONL files or PostgreSQL; resumable and crash-safe',
      ),
    SYNC_SETTINGS,
  ).action(
    run(async (command) => {
      const config = loadSyncConfig(command.opts<FlagValues>(), environment())
      const mode = progressMode(config, stderr)
      const reporter = createProgressReporter({
        mode,
        output: stderr as NodeJS.WritableStream,
        streams: config.streams,
      })
      const controller = new AbortController()
      const release = linkSignals(controller, deps, (line) => reporter.log(line))
      let result: SyncResult
      try {
        result = await runSync({
          from: config.from,
          token: config.token,
          to: config.to,
          streams: config.streams,
          ...(config.startTime === undefined ? {} : { startTime: config.startTime }),
          follow: config.follow,
          intervalMs: config.intervalMs,
          deletedMode: config.deletedMode,
          typedTables: config.typedTables,
          postgresData: config.postgresData,
          onProgress: (event) => reporter.onEvent(event),
          signal: controller.signal,
          ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
          client: { limit: config.limit, maxRetries: config.maxRetries },
        })
      } catch (error) {
        // --follow only ends when asked to: that stop is the normal end of the run.
        if (!(config.follow && isInterruption(error))) throw error
        if (mode !== 'quiet')
          stderr.write('stopped; the next sync resumes from the last committed page\n')
        return
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

  withSettings(
    sync
      .command('discover')
      .description('print the catalog: each stream with its key and JSON Schema (as Singer does)'),
    { streams: SYNC_SETTINGS.streams },
  ).action(
    run(async (command) => {
      const streams = loadSyncDiscoverConfig(command.optsWithGlobals<FlagValues>(), environment())
      stdout.write(`${JSON.stringify(syncCatalog(streams), null, 2)}\n`)
      return Promise.resolve()
    }),
  )

  const state = sync
    .command('state')
    .description("show or reset a destination's per-stream sync state")
  withSettings(state.command('show').description('print the saved cursor of each stream'), {
    to: SYNC_STATE_SETTINGS.to,
    streams: { ...SYNC_STATE_SETTINGS.streams, help: 'only these streams (comma-separated)' },
    stream: SYNC_STATE_SETTINGS.stream,
    json: SYNC_STATE_SETTINGS.json,
  }).action(
    run(async (command) => {
      // optsWithGlobals: `--to` may have been taken by `sync` itself (commander parses parent
      // options anywhere on the line unless the program enables positional options).
      const config = loadSyncStateConfig(command.optsWithGlobals<FlagValues>(), environment(), {
        reset: false,
      })
      const states = await showSyncState(config.to, config.streams)
      if (config.json) {
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
  withSettings(
    state
      .command('reset')
      .description(
        'forget the cursor of the given streams (their data stays); the next sync re-reads them',
      ),
    {
      to: SYNC_STATE_SETTINGS.to,
      streams: { ...SYNC_STATE_SETTINGS.streams, help: 'the streams to reset (comma-separated)' },
      stream: SYNC_STATE_SETTINGS.stream,
      all: { ...SYNC_STATE_SETTINGS.all, help: 'reset every stream' },
    },
  ).action(
    run(async (command) => {
      const config = loadSyncStateConfig(command.optsWithGlobals<FlagValues>(), environment(), {
        reset: true,
      })
      for (const { stream, reset } of await resetSyncState(config.to, config.streams ?? [])) {
        stdout.write(reset ? `reset ${stream}\n` : `${stream}: no state to reset\n`)
      }
    }),
  )
  return sync
}

function progressMode(config: SyncConfig, stderr: TextOutput): ProgressMode {
  if (config.quiet) return 'quiet'
  if (config.progress !== 'auto') return config.progress
  return stderr.isTTY === true ? 'bar' : 'lines'
}

/**
 * Ties SIGINT/SIGTERM (and deps.signal) to the controller of a sync or a mirror.
 * The first signal stops after the page being committed; a second one exits at once, which is safe too (every commit is atomic).
 */
export function linkSignals(
  controller: AbortController,
  deps: SyncCommandDeps,
  say: (line: string) => void,
): () => void {
  const onExternal = () => controller.abort(deps.signal?.reason)
  deps.signal?.addEventListener('abort', onExternal, { once: true })
  if (deps.signal?.aborted) controller.abort(deps.signal.reason)
  if (deps.handleSignals === false)
    return () => deps.signal?.removeEventListener('abort', onExternal)
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(EXIT_CODES.INTERRUPTED)
    say(`${name}: stopping after the current page (again to stop at once)`)
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
