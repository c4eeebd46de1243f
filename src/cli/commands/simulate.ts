/**
 * `chat-export simulate --url URL [--token TOKEN] [--seed N] [--speed 60|max] [--from ISO] [--hours N]`:
 * posts a realistic, deterministic day of support chat activity to a server's ingest endpoint.
 * @module
 */
import type { Command } from 'commander'
import { redactUrl } from '../../domain/redact-url.js'
import type { Environment, FlagValues } from '../../config/config.js'
import { loadSimulateConfig, processEnvironment, SIMULATE_SETTINGS } from '../../config/config.js'
import { systemClock, type Clock } from '../../domain/clock.js'
import { formatIso, type Micros } from '../../domain/time.js'
import {
  defaultAccountNumber,
  runSimulation,
  simulationPeriod,
  type SimulationProgress,
} from '../../simulate/driver.js'
import { ingestUrl, type RetryInfo, type Sleep } from '../../simulate/ingest-sink.js'
import { action, withSettings } from '../shared-options.js'

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
  /** The environment as the config layer reads it (CHAT_EXPORT_TOKEN); default the process's. */
  environment?: Environment
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
  withSettings(
    program
      .command('simulate')
      .description(
        "post a realistic, deterministic simulation of a support team's chats to a server's ingest API",
      ),
    SIMULATE_SETTINGS,
  ).action(
    action(async (flags: FlagValues) => {
      const config = loadSimulateConfig(flags, deps.environment ?? processEnvironment())
      const { seed, speed, start, hours } = config
      const accountNumber = config.accountNumber ?? defaultAccountNumber(seed)
      const clock = deps.clock ?? systemClock()
      const baseUrl = new URL(config.url).toString()
      const options = {
        baseUrl,
        token: config.token,
        seed,
        speed,
        hours,
        accountNumber,
        agents: config.agents,
        arrivalsPerHour: config.arrivalsPerHour,
        utcOffsetMinutes: config.utcOffsetMinutes,
        batchSize: config.batchSize,
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
          `(seed ${seed}, account ${accountNumber}, speed ${speed}) into ${redactUrl(ingestUrl(baseUrl))}`,
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
              `Rerun with --seed ${seed} --from ${formatIso(period.start)} --hours ${hours} to resume (sent events count as duplicates).`,
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
