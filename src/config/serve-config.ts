/**
 * `serve`'s settings: each declared once with its flag, variables and default (which --help
 * shows), resolved flag > environment > default, handed on parsed (numbers, a FaultPlan).
 * @module
 */
import type { FaultPlan } from '../domain/fault-plan.js'
import { parseFaultPlan } from '../domain/fault-plan.js'
import type { Environment } from './environment.js'
import type { CompressionSetting } from './perf-config.js'
import type { FlagValues, Setting } from './settings.js'
import {
  absoluteUrl,
  booleanValue,
  integer,
  invalid,
  nonEmpty,
  oneOf,
  positiveNumber,
  SettingsReader,
  wholeNumber,
} from './settings.js'
import { STORE } from './store-config.js'
import { LIMITS_SETTINGS, readLimits, type LimitsConfig } from './limits-config.js'
import { OAUTH_SETTINGS, readOAuth, type OAuthConfig } from './oauth-config.js'
import { ADMIN_SETTINGS, readAdmin, type AdminConfig } from './admin-config.js'

/** What a profile changes: the zendesk one restores the reference's five-minute rule and limit. */
export const PROFILES = {
  default: { minStartAgeSeconds: 0, rateLimitPerMinute: 0 },
  zendesk: { minStartAgeSeconds: 300, rateLimitPerMinute: 200 },
} as const

export type ProfileName = keyof typeof PROFILES

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** The validated server configuration. */
export interface ServeConfig {
  store: string
  host: string
  port: number
  publicUrl: string | undefined
  minStartAgeSeconds: number
  rateLimitPerMinute: number
  demo: boolean
  demoSeed: number
  demoSpeed: number
  logLevel: (typeof LOG_LEVELS)[number]
  /** Fault injection for connector tests, parsed; undefined = off. */
  faults?: FaultPlan | undefined
  /** Page compression (perf-config.ts; `serve` always sets it, default br). */
  compression?: CompressionSetting | undefined
  /** The SQLite store's page-reading worker threads (perf-config.ts); undefined = 0, none. */
  readWorkers?: number | undefined
  /** Event-loop stalls to log (perf-config.ts); undefined = 0, not watched. */
  stallWarnMs?: number | undefined
  /** Send timeout and bytes-in-flight bound; optional for hand-built configs (tests): defaults. */
  limits?: LimitsConfig | undefined
  /** OAuth lifetimes and auto-approve; optional for hand-built configs (tests): defaults. */
  oauth?: OAuthConfig | undefined
  /** Admin API, journal, console and clock mode; optional for hand-built configs: defaults. */
  admin?: AdminConfig | undefined
}

/** Flags given to `serve` (as commander hands them over; undefined when not given). */
export interface ServeFlags {
  store?: string | undefined
  host?: string | undefined
  port?: string | undefined
  publicUrl?: string | undefined
  minStartAge?: string | undefined
  rateLimit?: string | undefined
  profile?: string | undefined
  demo?: boolean | undefined
  seed?: string | undefined
  speed?: string | undefined
  logLevel?: string | undefined
  faults?: string | undefined
  sendTimeout?: string | undefined
  maxBytesInFlight?: string | undefined
  oauthAutoApprove?: boolean | undefined
  oauthTokenTtl?: string | undefined
  clock?: string | undefined
  journalSize?: string | undefined
  /** commander's `--no-admin`: false when given. */
  admin?: boolean | undefined
}

const profileDefault = (key: keyof (typeof PROFILES)['default']) =>
  `${PROFILES.default[key]}; zendesk profile: ${PROFILES.zendesk[key]}`

/** `serve`'s settings, in --help order. */
export const SERVE_SETTINGS = {
  store: STORE,
  host: {
    flag: '--host <host>',
    help: 'address to listen on',
    env: ['CHAT_EXPORT_HOST'],
    default: '127.0.0.1',
    parse: nonEmpty,
  },
  port: {
    flag: '--port <n>',
    help: 'port to listen on; 0 = any free port',
    env: ['CHAT_EXPORT_PORT', 'PORT'],
    default: '8080',
    parse: integer(0, 65535),
  },
  publicUrl: {
    flag: '--public-url <url>',
    help: 'base URL clients reach this server at (for next_page behind a proxy)',
    env: ['CHAT_EXPORT_PUBLIC_URL'],
    defaultHelp: "the request's own origin",
    parse: absoluteUrl('https://chat.example.com'),
  },
  minStartAge: {
    flag: '--min-start-age <seconds>',
    help: 'refuse start_time younger than this and serve only older items',
    env: ['CHAT_EXPORT_MIN_START_AGE'],
    defaultHelp: profileDefault('minStartAgeSeconds'),
    parse: integer(0, 86_400),
  },
  rateLimit: {
    flag: '--rate-limit <n>',
    help: 'requests per minute per account; 0 = unlimited',
    env: ['CHAT_EXPORT_RATE_LIMIT'],
    defaultHelp: profileDefault('rateLimitPerMinute'),
    parse: integer(0),
  },
  profile: {
    flag: '--profile <name>',
    help: 'default, or zendesk (five-minute rule and 200 requests/minute)',
    default: 'default',
    parse: oneOf('default', 'zendesk'),
  },
  demo: {
    flag: '--demo',
    help: 'create a demo account with realistic data and keep it live',
    parse: booleanValue,
  },
  seed: { flag: '--seed <n>', help: 'seed of the demo data', default: '42', parse: wholeNumber },
  speed: {
    flag: '--speed <n>',
    help: 'demo simulation speed, 1 = real time',
    default: '1',
    parse: positiveNumber,
  },
  faults: {
    flag: '--faults <plan>',
    help: 'fault injection for connector tests: "header" and/or "429=0.1,500=0.05,slow=0.1,drop=0.02,seed=7"',
    env: ['CHAT_EXPORT_FAULTS'],
    defaultHelp: 'off',
    parse: (text: string) => {
      try {
        return parseFaultPlan(text)
      } catch (err) {
        return invalid((err as Error).message)
      }
    },
  },
  logLevel: {
    flag: '--log-level <level>',
    help: LOG_LEVELS.join(', '),
    env: ['CHAT_EXPORT_LOG_LEVEL'],
    default: 'info',
    parse: oneOf(...LOG_LEVELS),
  },
  ...LIMITS_SETTINGS,
  ...OAUTH_SETTINGS,
  ...ADMIN_SETTINGS,
} as const satisfies Record<string, Setting<unknown>>

/**
 * Builds the validated server configuration. Throws a ConfigError naming every bad setting by
 * the flag or variable it came from.
 */
export function loadServeConfig(flags: ServeFlags, env: Environment): ServeConfig {
  const s = SERVE_SETTINGS
  const read = new SettingsReader(flags as FlagValues, env)
  const profile = PROFILES[read.value(s.profile) ?? 'default']
  const config = {
    store: read.value(s.store),
    host: read.value(s.host),
    port: read.value(s.port),
    publicUrl: read.value(s.publicUrl),
    minStartAgeSeconds: read.value(s.minStartAge, String(profile.minStartAgeSeconds)),
    rateLimitPerMinute: read.value(s.rateLimit, String(profile.rateLimitPerMinute)),
    demo: read.value(s.demo) ?? false,
    demoSeed: read.value(s.seed),
    demoSpeed: read.value(s.speed),
    logLevel: read.value(s.logLevel),
    faults: read.value(s.faults),
    limits: readLimits(read),
    oauth: readOAuth(read),
    admin: readAdmin(read, flags.admin),
  }
  read.finish()
  // Every setting without a default has been given or left undefined on purpose; the others
  // were parsed (finish() threw otherwise).
  return config as ServeConfig
}
