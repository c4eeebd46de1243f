/**
 * `simulate`'s settings: each declared once (flag, variable, default shown in --help, parser),
 * resolved flag > environment > default and handed on parsed.
 * @module
 */
import type { Micros } from '../domain/time.js'
import { parseIso } from '../domain/time.js'
import type { Environment } from './environment.js'
import type { FlagValues, Setting } from './settings.js'
import {
  absoluteUrl,
  integer,
  invalid,
  nonEmpty,
  positiveNumber,
  SettingsReader,
  wholeNumber,
} from './settings.js'

/** `max`, or a positive factor of real time. */
export type SimulateSpeed = number | 'max'

function speed(text: string): SimulateSpeed {
  if (text === 'max') return 'max'
  const value = Number(text)
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    invalid('expected max, or a factor such as 1 (real time) or 60 (a minute per second)')
  }
  return value
}

function isoTime(text: string): Micros {
  return parseIso(text) ?? invalid('expected an ISO-8601 UTC time such as 2024-05-06T00:00:00Z')
}

/** `simulate`'s settings, in --help order. */
export const SIMULATE_SETTINGS = {
  url: {
    flag: '--url <url>',
    help: 'server base URL',
    parse: absoluteUrl('http://127.0.0.1:8080'),
  },
  token: {
    flag: '--token <token>',
    help: 'token with write scope',
    env: ['CHAT_EXPORT_TOKEN'],
    parse: nonEmpty,
    secret: true,
    missingHint:
      'Create one with: chat-export tokens create --account NAME --role owner --scopes "read write"',
  },
  seed: {
    flag: '--seed <n>',
    help: 'seed: the same seed and --from give the same events',
    default: '1',
    parse: wholeNumber,
  },
  speed: {
    flag: '--speed <speed>',
    help: 'max (as fast as possible), 1 (real time), 60 (a minute per second)',
    default: 'max',
    parse: speed,
  },
  from: {
    flag: '--from <iso>',
    help: 'first simulated instant, e.g. 2024-05-06T00:00:00Z',
    defaultHelp: 'see docs/simulate.md',
    parse: isoTime,
  },
  hours: { flag: '--hours <n>', help: 'simulated hours', default: '24', parse: positiveNumber },
  agents: { flag: '--agents <n>', help: 'agents in the team', default: '8', parse: integer(1) },
  arrivalsPerHour: {
    flag: '--arrivals-per-hour <n>',
    help: 'average weekday chats per hour',
    default: '20',
    parse: positiveNumber,
  },
  account: {
    flag: '--account <n>',
    help: 'account number inside chat ids',
    defaultHelp: 'from the seed',
    parse: integer(1),
  },
  utcOffset: {
    flag: '--utc-offset <minutes>',
    help: "the business's local time, minutes east of UTC",
    default: '0',
    parse: wholeNumber,
  },
  batchSize: {
    flag: '--batch-size <n>',
    help: 'most events per request',
    default: '500',
    parse: integer(1),
  },
} as const satisfies Record<string, Setting<unknown>>

/** What `simulate` runs with, parsed. */
export interface SimulateConfig {
  url: string
  token: string
  seed: number
  speed: SimulateSpeed
  /** Undefined: the simulator picks (see docs/simulate.md). */
  start: Micros | undefined
  hours: number
  agents: number
  arrivalsPerHour: number
  /** Undefined: derived from the seed. */
  accountNumber: number | undefined
  utcOffsetMinutes: number
  batchSize: number
}

/** Resolves `simulate`'s settings; throws one ConfigError naming each bad flag or variable. */
export function loadSimulateConfig(flags: FlagValues, env: Environment): SimulateConfig {
  const s = SIMULATE_SETTINGS
  const read = new SettingsReader(flags, env)
  const config = {
    url: read.required(s.url),
    token: read.required(s.token),
    seed: read.value(s.seed),
    speed: read.value(s.speed),
    start: read.value(s.from),
    hours: read.value(s.hours),
    agents: read.value(s.agents),
    arrivalsPerHour: read.value(s.arrivalsPerHour),
    accountNumber: read.value(s.account),
    utcOffsetMinutes: read.value(s.utcOffset),
    batchSize: read.value(s.batchSize),
  }
  read.finish()
  return config as SimulateConfig
}
