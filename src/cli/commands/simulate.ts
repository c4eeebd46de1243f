/**
 * `chat-export simulate --url URL [--token TOKEN] [--seed N] [--speed 60|max] [--from ISO] [--hours N]`:
 * posts a realistic, deterministic day of support chat activity to a server's ingest endpoint.
 * @module
 */
import type { Command } from 'commander'
import { processEnvironment } from '../../config/config.js'
import { systemClock, type Clock } from '../../domain/clock.js'
import { formatIso, parseIso, type Micros } from '../../domain/time.js'
import {
  defaultAccountNumber,
  runSimulation,
  simulationPeriod,
  type SimulationProgress,
  type Speed,
} from '../../simulate/driver.js'
import { ingestUrl, type RetryInfo, type Sleep } from '../../simulate/ingest-sink.js'
import { action, CliError } from '../shared-options.js'

const HOUR: Micros = 3_600_000_000

/** What the command needs from its surroundings; everything defaults to the real thing. */
export interface SimulateCommandDeps {
  fetch?: typeof fetch
  clock?: Clock
  sleep?: Sleep
  /** Stops the run; without it, Ctrl-C (SIGINT) stops it after the batch in flight. */
  signal?: AbortSignal
  /** Writes one line for the user; default stdout. */
  print?: (line: string) => void
  /** The token when --token is absent; default CHAT_EXPORT_TOKEN from the configuration. */
  configToken?: () => string | undefined
}

interface SimulateFlags {
  url: string
  token?: string
  seed: string
  speed: string
  from?: string
  hours: string
  agents?: string
  arrivalsPerHour?: string
  account?: string
  utcOffset?: string
  batchSize?: string
}

function positiveNumber(name: string, text: string, integer: boolean): number {
  const value = Number(text)
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new CliError(`Invalid ${name} "${text}": use a positive number.`)
  }
  if (integer && !Number.isInteger(value)) {
    throw new CliError(`Invalid ${name} "${text}": use a positive whole number.`)
  }
  return value
}

function parseSpeed(text: string): Speed {
  if (text === 'max') return 'max'
  const value = Number(text)
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new CliError(
      `Invalid --speed "${text}": use max, or a factor such as 1 (real time) or 60 (a minute per second).`,
    )
  }
  return value
}

/** The URL without any user:password part, for printing. */
function redact(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//')
}

function summary(p: SimulationProgress): string {
  return (
    `${p.events} events in ${p.batches} batches ` +
    `(${p.accepted} new, ${p.duplicates} duplicates, ${p.retries} retries)`
  )
}

/**
 * Registers `simulate`. The handler only turns flags into options for
 * {@link runSimulation}, which does the work, and prints progress lines.
 */
export function registerSimulate(program: Command, deps: SimulateCommandDeps = {}): void {
  const print = deps.print ?? ((line: string) => void process.stdout.write(`${line}\n`))
  program
    .command('simulate')
    .description(
      "post a realistic, deterministic simulation of a support team's chats to a server's ingest API",
    )
    .requiredOption('--url <url>', 'server base URL, e.g. http://127.0.0.1:8080')
    .option('--token <token>', 'token with write scope (default: $CHAT_EXPORT_TOKEN)')
    .option('--seed <n>', 'seed: the same seed and --from give the same events', '1')
    .option(
      '--speed <speed>',
      'max (as fast as possible), 1 (real time), 60 (a minute per second)',
      'max',
    )
    .option(
      '--from <iso>',
      'first simulated instant, e.g. 2024-05-06T00:00:00Z (default: see docs)',
    )
    .option('--hours <n>', 'simulated hours', '24')
    .option('--agents <n>', 'agents in the team (default 8)')
    .option('--arrivals-per-hour <n>', 'average weekday chats per hour (default 20)')
    .option('--account <n>', 'account number inside chat ids (default: from the seed)')
    .option('--utc-offset <minutes>', "the business's local time, minutes east of UTC (default 0)")
    .option('--batch-size <n>', 'most events per request (default 500)')
    .action(
      action(async (flags: SimulateFlags) => {
        const token = flags.token ?? (deps.configToken ?? defaultConfigToken)()
        if (token === undefined || token === '') {
          throw new CliError(
            'No token: pass --token or set CHAT_EXPORT_TOKEN. Create one with: ' +
              'chat-export tokens create --account NAME --role owner --scopes "read write"',
          )
        }
        let baseUrl: URL
        try {
          baseUrl = new URL(flags.url)
        } catch {
          throw new CliError(`Invalid --url "${flags.url}": use e.g. http://127.0.0.1:8080`)
        }
        const seed = Number(flags.seed)
        if (!Number.isSafeInteger(seed)) {
          throw new CliError(`Invalid --seed "${flags.seed}": use a whole number.`)
        }
        const speed = parseSpeed(flags.speed)
        const hours = positiveNumber('--hours', flags.hours, false)
        let start: Micros | undefined
        if (flags.from !== undefined) {
          start = parseIso(flags.from)
          if (start === undefined) {
            throw new CliError(
              `Invalid --from "${flags.from}": use an ISO-8601 UTC time such as 2024-05-06T00:00:00Z.`,
            )
          }
        }
        const utcOffset = flags.utcOffset === undefined ? undefined : Number(flags.utcOffset)
        if (utcOffset !== undefined && !Number.isInteger(utcOffset)) {
          throw new CliError(
            `Invalid --utc-offset "${flags.utcOffset}": use whole minutes, e.g. -300.`,
          )
        }
        const accountNumber =
          flags.account === undefined
            ? defaultAccountNumber(seed)
            : positiveNumber('--account', flags.account, true)
        const clock = deps.clock ?? systemClock()
        const options = {
          baseUrl: baseUrl.toString(),
          token,
          seed,
          speed,
          start,
          hours,
          accountNumber,
          agents:
            flags.agents === undefined ? undefined : positiveNumber('--agents', flags.agents, true),
          arrivalsPerHour:
            flags.arrivalsPerHour === undefined
              ? undefined
              : positiveNumber('--arrivals-per-hour', flags.arrivalsPerHour, false),
          utcOffsetMinutes: utcOffset,
          batchSize:
            flags.batchSize === undefined
              ? undefined
              : positiveNumber('--batch-size', flags.batchSize, true),
          fetch: deps.fetch,
          clock,
          sleep: deps.sleep,
        }

        const controller = new AbortController()
        const onSigint = () => controller.abort()
        if (deps.signal === undefined) process.once('SIGINT', onSigint)
        const signal = deps.signal ?? controller.signal

        const period = simulationPeriod({ speed, start, hours }, clock.now())
        print(
          `simulating ${formatIso(period.start)} to ${formatIso(period.end)} ` +
            `(seed ${seed}, account ${accountNumber}, speed ${speed}) into ${redact(ingestUrl(baseUrl.toString()))}`,
        )
        let lastHour = Math.floor(period.start / HOUR)
        try {
          const result = await runSimulation({
            ...options,
            start: period.start,
            signal,
            onProgress: (p) => {
              const hour = Math.floor(p.simulatedTime / HOUR)
              if (hour === lastHour) return
              lastHour = hour
              print(`${formatIso(hour * HOUR)}  ${summary(p)}`)
            },
            onRetry: (r: RetryInfo) => {
              const why =
                r.status === null ? 'no answer from the server' : `server answered ${r.status}`
              print(`${why}; retry ${r.attempt} in ${(r.waitMs / 1000).toFixed(1)} s`)
            },
          })
          if (result.aborted) {
            print(
              `stopped at ${formatIso(result.simulatedTime)}: ${summary(result)}. ` +
                `Rerun with --seed ${seed} --from ${formatIso(period.start)} to resume (sent events count as duplicates).`,
            )
          } else {
            print(`done: ${summary(result)}; simulated up to ${formatIso(result.simulatedTime)}`)
          }
        } finally {
          process.removeListener('SIGINT', onSigint)
        }
      }),
    )
}

function defaultConfigToken(): string | undefined {
  return processEnvironment().CHAT_EXPORT_TOKEN
}
