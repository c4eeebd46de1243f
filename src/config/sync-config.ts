/**
 * The settings of `sync` and `sync state show|reset`: each declared once (flag, variable,
 * default shown in --help, parser), resolved flag > environment > default and handed on parsed.
 * @module
 */
import type { ExportStream, StartTime } from '../client/index.js'
import { EXPORT_STREAMS, isExportStream } from '../client/index.js'
import { parseDecimalSecondsToMicros, parseIso } from '../domain/time.js'
import { parseDestinationUrl } from '../sync/open-destination.js'
import type { DataType } from '../sync/postgres-destination.js'
import type { DeletedMode } from '../sync/run-sync.js'
import type { Environment } from './environment.js'
import type { FlagValues, Setting } from './settings.js'
import { booleanValue, integer, invalid, nonEmpty, oneOf, SettingsReader } from './settings.js'

/** `chats,agent_timeline` (or `all`) → stream list, in the order given, without duplicates. */
export function parseStreams(text: string | undefined): ExportStream[] {
  if (text === undefined || text.trim() === '' || text.trim() === 'all') return [...EXPORT_STREAMS]
  const out: ExportStream[] = []
  for (const part of text.split(',').map((s) => s.trim())) {
    if (!isExportStream(part)) {
      invalid(
        `Unknown stream "${part}". Use a comma-separated list of: ${EXPORT_STREAMS.join(', ')}.`,
      )
    }
    if (!out.includes(part)) out.push(part)
  }
  return out
}

/**
 * `--start-time`: ISO-8601 UTC (`2024-01-01T00:00:00Z`) or epoch seconds (`1704067200`, fraction
 * allowed). A 13- or 16-digit number is refused: it is milliseconds or microseconds by mistake.
 */
export function parseStartTime(text: string): StartTime {
  const iso = parseIso(text)
  if (iso !== undefined) return { epochMicros: iso }
  if (/^\d{12,}(\.\d*)?$/.test(text)) {
    invalid(
      `${text} looks like milliseconds or microseconds; give epoch seconds (e.g. 1704067200) or an ISO time.`,
    )
  }
  const micros = parseDecimalSecondsToMicros(text)
  if (micros !== undefined) return { epochMicros: micros }
  return invalid(
    'expected an ISO-8601 UTC time (2024-01-01T00:00:00Z) or epoch seconds (1704067200)',
  )
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** `--interval`: `30s`, `5m`, `1h`, `500ms`, or a bare number of seconds → milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (!match) return invalid('expected a duration such as 30s, 5m, 1h or 500ms')
  const ms = Math.round(Number(match[1]) * (UNITS[match[2] ?? 's'] ?? 1000))
  if (!Number.isSafeInteger(ms)) invalid('the duration is too large')
  return ms
}

/** `--deleted flag|remove`. */
export function parseDeletedMode(text: string): DeletedMode {
  if (text === 'flag' || text === 'remove') return text
  return invalid('expected flag (keep deleted items, marked) or remove')
}

/** A `--to` value: checked (not opened) here, so a wrong one is a usage error. */
function destination(text: string): string {
  try {
    parseDestinationUrl(text)
  } catch (err) {
    invalid((err as Error).message)
  }
  return text
}

const TO: Setting<string> = {
  flag: '--to <dest>',
  help: 'sqlite:PATH, jsonl:DIR or postgres://USER:PASSWORD@HOST:PORT/DATABASE',
  parse: destination,
}

/** `sync`'s settings, in --help order. */
export const SYNC_SETTINGS = {
  from: {
    flag: '--from <url>',
    help: 'API base URL, e.g. https://acme.zendesk.com/api/v2/chat or http://127.0.0.1:8080',
    parse: nonEmpty,
  },
  token: {
    flag: '--token <token>',
    help: 'API token (prefer the variable, flags show in ps)',
    env: ['CHAT_EXPORT_TOKEN'],
    parse: nonEmpty,
    secret: true,
  },
  to: TO,
  streams: {
    flag: '--streams <list>',
    help: 'comma-separated streams, or all',
    default: 'all',
    parse: parseStreams,
  },
  startTime: {
    flag: '--start-time <time>',
    help: 'where streams without a saved cursor start: ISO-8601 UTC or epoch seconds',
    defaultHelp: 'the beginning',
    parse: parseStartTime,
  },
  follow: {
    flag: '--follow',
    help: 'keep polling after catching up, until interrupted',
    parse: booleanValue,
  },
  interval: {
    flag: '--interval <duration>',
    help: 'poll interval with --follow (e.g. 30s, 5m)',
    default: '30s',
    parse: parseDuration,
  },
  deleted: {
    flag: '--deleted <mode>',
    help: 'deleted chats: flag (keep, marked deleted) or remove',
    default: 'flag',
    parse: parseDeletedMode,
  },
  limit: { flag: '--limit <n>', help: 'items per page', default: '1000', parse: integer(1, 1000) },
  maxRetries: {
    flag: '--max-retries <n>',
    help: 'retries per request on 429/5xx/network errors',
    default: '10',
    parse: integer(0, 1000),
  },
  typedTables: {
    flag: '--typed-tables',
    help: 'sqlite/postgres: also keep typed tables (chats columns, chat_history, …); kept from then on',
    parse: booleanValue,
  },
  postgresData: {
    flag: '--postgres-data <type>',
    help: 'postgres: type of the data column in tables it creates: jsonb, or json (the text as sent, about twice as fast to sync)',
    default: 'jsonb',
    parse: oneOf<DataType>('jsonb', 'json'),
  },
  progress: {
    flag: '--progress <mode>',
    help: 'bar, lines or auto (bar on a terminal)',
    default: 'auto',
    parse: oneOf('bar', 'lines', 'auto'),
  },
  quiet: { flag: '-q, --quiet', help: 'print nothing but errors', parse: booleanValue },
} as const satisfies Record<string, Setting<unknown>>

/** What `sync` runs with, parsed. */
export interface SyncConfig {
  from: string
  token: string
  to: string
  streams: ExportStream[]
  startTime: StartTime | undefined
  follow: boolean
  intervalMs: number
  deletedMode: DeletedMode
  typedTables: boolean
  postgresData: DataType
  limit: number
  maxRetries: number
  progress: 'bar' | 'lines' | 'auto'
  quiet: boolean
}

/** Resolves `sync`'s settings; throws one ConfigError naming each bad flag or variable. */
export function loadSyncConfig(flags: FlagValues, env: Environment): SyncConfig {
  const s = SYNC_SETTINGS
  const read = new SettingsReader(flags, env)
  const config = {
    from: read.required(s.from),
    token: read.required(s.token),
    to: read.required(s.to),
    streams: read.value(s.streams),
    startTime: read.value(s.startTime),
    follow: read.isSet(s.follow),
    intervalMs: read.value(s.interval),
    deletedMode: read.value(s.deleted),
    typedTables: read.isSet(s.typedTables),
    postgresData: read.value(s.postgresData),
    limit: read.value(s.limit),
    maxRetries: read.value(s.maxRetries),
    progress: read.value(s.progress),
    quiet: read.isSet(s.quiet),
  }
  // A type for PostgreSQL's data column means nothing elsewhere: say so instead of ignoring it.
  if (read.sourceOf(s.postgresData) !== undefined && !isPostgresDestination(config.to)) {
    read.problem(
      '--postgres-data: only a postgres:// destination has a data column type; drop the flag, or sync to postgres://…',
    )
  }
  read.finish()
  return config as SyncConfig
}

/** Whether a valid `--to` names PostgreSQL (an invalid one is reported on its own). */
function isPostgresDestination(to: string | undefined): boolean {
  try {
    return to === undefined || parseDestinationUrl(to).kind === 'postgres'
  } catch {
    return true
  }
}

/** `sync state show|reset`'s settings. */
export const SYNC_STATE_SETTINGS = {
  to: { ...TO, help: 'the destination, as for sync' },
  streams: {
    flag: '--streams <list>',
    help: 'the streams (comma-separated), as for sync',
    parse: parseStreams,
  },
  /** The first spelling, kept working: `--stream chats` is `--streams chats`. */
  stream: {
    flag: '--stream <list>',
    help: 'the same as --streams',
    parse: parseStreams,
  },
  all: { flag: '--all', help: 'every stream', parse: booleanValue },
  json: { flag: '--json', help: 'print JSON', parse: booleanValue },
} as const satisfies Record<string, Setting<unknown>>

/** What `sync state show|reset` run with. */
export interface SyncStateConfig {
  to: string
  /** The named streams; undefined = every stream (show) or none named (reset refuses). */
  streams: ExportStream[] | undefined
  json: boolean
}

/**
 * Resolves `sync state show` (`reset: false`) or `sync state reset` (`reset: true`, which must
 * name its streams with --streams, its old spelling --stream, or --all).
 */
export function loadSyncStateConfig(
  flags: FlagValues,
  env: Environment,
  options: { reset: boolean },
): SyncStateConfig {
  const s = SYNC_STATE_SETTINGS
  const read = new SettingsReader(flags, env)
  const to = read.required(s.to)
  const named = read.sourceOf(s.streams) !== undefined || read.sourceOf(s.stream) !== undefined
  if (read.sourceOf(s.streams) !== undefined && read.sourceOf(s.stream) !== undefined) {
    read.problem('Give the streams once: --streams (or its old spelling --stream), not both.')
  }
  let streams = read.value(s.streams) ?? read.value(s.stream)
  if (read.isSet(s.all)) streams = [...EXPORT_STREAMS]
  else if (options.reset && !named) {
    read.problem('Name the streams to reset with --streams S[,S…], or pass --all.')
  }
  const json = read.isSet(s.json)
  read.finish()
  return { to, streams, json }
}

/** `sync discover`: the streams to describe (`--streams`, default all). */
export function loadSyncDiscoverConfig(flags: FlagValues, env: Environment): ExportStream[] {
  const read = new SettingsReader(flags, env)
  const streams = read.value(SYNC_SETTINGS.streams)
  read.finish()
  return streams ?? [...EXPORT_STREAMS]
}
