/**
 * The settings of `mirror`: each declared once (flag, variable, default shown in --help, parser),
 * resolved flag > environment > default and handed on parsed. The stream, interval and client
 * settings share their parsers with `sync` (sync-config.ts), since the mirror runs the sync engine.
 * @module
 */
import type { ExportStream } from '../client/index.js'
import type { Environment } from './environment.js'
import type { FlagValues, Setting } from './settings.js'
import { booleanValue, nonEmpty, SettingsReader } from './settings.js'
import { STORE } from './store-config.js'
import { SYNC_SETTINGS } from './sync-config.js'

/** `mirror`'s settings, in --help order. */
export const MIRROR_SETTINGS = {
  from: {
    flag: '--from <url>',
    help: 'the Zendesk Chat account (https://acme.zendesk.com) or another chat-export server',
    parse: nonEmpty,
  },
  token: {
    flag: '--token <token>',
    help: "the source's API token (prefer the variable, flags show in ps)",
    env: ['CHAT_EXPORT_MIRROR_TOKEN'],
    parse: nonEmpty,
    secret: true,
  },
  account: {
    flag: '--account <name>',
    help: 'the local account to mirror into (created when missing; used only by the mirror)',
    parse: nonEmpty,
  },
  store: STORE,
  streams: SYNC_SETTINGS.streams,
  follow: {
    flag: '--follow',
    help: 'keep mirroring after catching up, until interrupted (a stop exits 0)',
    parse: booleanValue,
  },
  interval: SYNC_SETTINGS.interval,
  limit: SYNC_SETTINGS.limit,
  maxRetries: SYNC_SETTINGS.maxRetries,
  progress: SYNC_SETTINGS.progress,
  quiet: SYNC_SETTINGS.quiet,
} as const satisfies Record<string, Setting<unknown>>

/** What `mirror` runs with, parsed. */
export interface MirrorConfig {
  from: string
  token: string
  account: string
  store: string
  streams: ExportStream[]
  follow: boolean
  intervalMs: number
  limit: number
  maxRetries: number
  progress: 'bar' | 'lines' | 'auto'
  quiet: boolean
}

/** Resolves `mirror`'s settings; throws one ConfigError naming each bad flag or variable. */
export function loadMirrorConfig(flags: FlagValues, env: Environment): MirrorConfig {
  const s = MIRROR_SETTINGS
  const read = new SettingsReader(flags, env)
  const config = {
    from: read.required(s.from),
    token: read.required(s.token),
    account: read.required(s.account),
    store: read.value(s.store),
    streams: read.value(s.streams),
    follow: read.isSet(s.follow),
    intervalMs: read.value(s.interval),
    limit: read.value(s.limit),
    maxRetries: read.value(s.maxRetries),
    progress: read.value(s.progress),
    quiet: read.isSet(s.quiet),
  }
  read.finish()
  return config as MirrorConfig
}
