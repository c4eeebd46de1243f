/**
 * Parsing of the `sync` command's flag values into typed options, with messages that say what
 * was wrong and what to write instead.
 * @module
 */
import type { ExportStream, StartTime } from '../client/index.js'
import { EXPORT_STREAMS, isExportStream } from '../client/index.js'
import { parseDecimalSecondsToMicros, parseIso } from '../domain/time.js'
import type { DeletedMode } from './run-sync.js'

/** A flag value is invalid; the CLI exits with the usage code. */
export class SyncFlagError extends Error {
  override readonly name = 'SyncFlagError'
}

/** `chats,agent_timeline` (or `all`) → stream list, in the order given, without duplicates. */
export function parseStreams(text: string | undefined): ExportStream[] {
  if (text === undefined || text.trim() === '' || text.trim() === 'all') return [...EXPORT_STREAMS]
  const out: ExportStream[] = []
  for (const part of text.split(',').map((s) => s.trim())) {
    if (!isExportStream(part)) {
      throw new SyncFlagError(
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
    throw new SyncFlagError(
      `--start-time ${text} looks like milliseconds or microseconds; give epoch seconds (e.g. 1704067200) or an ISO time.`,
    )
  }
  const micros = parseDecimalSecondsToMicros(text)
  if (micros !== undefined) return { epochMicros: micros }
  throw new SyncFlagError(
    `Invalid --start-time "${text}". Use an ISO-8601 UTC time (2024-01-01T00:00:00Z) or epoch seconds (1704067200).`,
  )
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** `--interval`: `30s`, `5m`, `1h`, `500ms`, or a bare number of seconds → milliseconds. */
export function parseDuration(text: string, flag = '--interval'): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim())
  if (!match) throw new SyncFlagError(`Invalid ${flag} "${text}". Use e.g. 30s, 5m, 1h or 500ms.`)
  const ms = Math.round(Number(match[1]) * (UNITS[match[2] ?? 's'] ?? 1000))
  if (!Number.isSafeInteger(ms)) throw new SyncFlagError(`${flag} "${text}" is too large.`)
  return ms
}

/** `--deleted flag|remove`. */
export function parseDeletedMode(text: string | undefined): DeletedMode {
  if (text === undefined || text === 'flag') return 'flag'
  if (text === 'remove') return 'remove'
  throw new SyncFlagError(
    `Invalid --deleted "${text}". Use flag (keep deleted items, marked) or remove.`,
  )
}

/** A positive integer flag within bounds. */
export function parseIntegerFlag(text: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new SyncFlagError(`Invalid ${flag} "${text}": use an integer from ${min} to ${max}.`)
  }
  return Number(text)
}
