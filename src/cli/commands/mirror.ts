/**
 * `chat-export mirror`: a thin shell over runMirror (src/mirror). Settings come from
 * src/config/mirror-config.ts; exit codes from the one table in ../exit-codes.ts, as for `sync`
 * (0 done, 1 failure, 2 usage, 3 refused, 4 unavailable, 130 interrupted before catching up; a stop
 * of `--follow` is a clean 0).
 * @module
 */
import type { Command } from 'commander'
import type { FlagValues, MirrorConfig } from '../../config/config.js'
import {
  DEFAULT_STORE_URL,
  loadMirrorConfig,
  MIRROR_SETTINGS,
  processEnvironment,
} from '../../config/config.js'
import { systemClock } from '../../domain/clock.js'
import type { MirrorResult } from '../../mirror/run-mirror.js'
import { runMirror } from '../../mirror/run-mirror.js'
import { openStore } from '../../store/open-store.js'
import type { ProgressMode } from '../../sync/progress-reporter.js'
import { createProgressReporter } from '../../sync/progress-reporter.js'
import type { TextOutput } from '../exit-codes.js'
import { EXIT_CODES, isInterruption, reportError } from '../exit-codes.js'
import { withSettings } from '../shared-options.js'
import type { SyncCommandDeps } from './sync.js'
import { linkSignals } from './sync.js'

/** What `mirror` can be given in tests (the same as `sync`). */
export type MirrorCommandDeps = SyncCommandDeps

/** Registers `mirror` on the program. */
export function registerMirror(program: Command, deps: MirrorCommandDeps = {}): Command {
  const stderr = deps.stderr ?? process.stderr
  const setExitCode =
    deps.setExitCode ??
    ((code: number) => {
      process.exitCode = code
    })
  return withSettings(
    program
      .command('mirror')
      .description(
        'copy a live Zendesk Chat account into a local account and keep it up to date; resumable',
      ),
    MIRROR_SETTINGS,
  ).action(async (_opts: unknown, command: Command) => {
    try {
      const config = loadMirrorConfig(
        command.opts<FlagValues>(),
        deps.environment ?? processEnvironment(),
      )
      await mirror(config, deps, stderr)
      setExitCode(EXIT_CODES.OK)
    } catch (error) {
      setExitCode(reportError(error, stderr))
    }
  })
}

async function mirror(config: MirrorConfig, deps: MirrorCommandDeps, stderr: TextOutput) {
  const mode = progressMode(config, stderr)
  const verbose = mode !== 'quiet'
  const store = await openStore(config.store ?? DEFAULT_STORE_URL, { clock: systemClock() })
  const reporter = createProgressReporter({
    mode,
    output: stderr as NodeJS.WritableStream,
    streams: config.streams,
  })
  const controller = new AbortController()
  const release = linkSignals(controller, deps, stderr, verbose)
  let result: MirrorResult
  try {
    result = await runMirror({
      from: config.from,
      token: config.token,
      store,
      account: config.account,
      streams: config.streams,
      follow: config.follow,
      intervalMs: config.intervalMs,
      onProgress: (event) => reporter.onEvent(event),
      signal: controller.signal,
      ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
      client: { limit: config.limit, maxRetries: config.maxRetries },
    })
  } catch (error) {
    // --follow only ends when asked to: that stop is the normal end of the run.
    if (!(config.follow && isInterruption(error))) throw error
    if (verbose) stderr.write('mirror stopped; the next run resumes from the last committed page\n')
    return
  } finally {
    reporter.stop()
    release()
    await store.close()
  }
  if (verbose) {
    const total = result.streams.reduce((n, s) => n + s.items, 0)
    const perStream = result.streams.map((s) => `${s.stream} ${s.items}`).join(', ')
    const created = result.created ? ' (account created)' : ''
    stderr.write(
      `mirror caught up: ${total} items into account ${result.account.name}${created} (${perStream})\n`,
    )
  }
}

function progressMode(config: MirrorConfig, stderr: TextOutput): ProgressMode {
  if (config.quiet) return 'quiet'
  if (config.progress !== 'auto') return config.progress
  return stderr.isTTY === true ? 'bar' : 'lines'
}
