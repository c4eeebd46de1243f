/**
 * Settings of the admin API, the request journal, the console and the clock mode, declared as
 * `serve` settings (flag > environment > default, like the others).
 * @module
 */
import type { Setting, SettingsReader } from './settings.js'
import { integer, oneOf } from './settings.js'

export interface AdminConfig {
  /** `system`: the wall clock; `manual`: starts at the wall time, moves only by POST /admin/clock. */
  clock: 'system' | 'manual'
  /** Requests kept per account in the request journal. */
  journalSize: number
  /** Serve the admin API and the console (`--no-admin` turns both off). */
  admin: boolean
}

export const DEFAULT_ADMIN: AdminConfig = { clock: 'system', journalSize: 500, admin: true }

/** `serve`'s admin settings. */
export const ADMIN_SETTINGS = {
  clock: {
    flag: '--clock <mode>',
    help: 'system, or manual: time moves only by POST /api/chat-export/v1/admin/clock (tests)',
    env: ['CHAT_EXPORT_CLOCK'],
    default: DEFAULT_ADMIN.clock,
    parse: oneOf('system', 'manual'),
  },
  journalSize: {
    flag: '--journal-size <n>',
    help: 'requests kept per account in the request journal',
    env: ['CHAT_EXPORT_JOURNAL_SIZE'],
    default: String(DEFAULT_ADMIN.journalSize),
    parse: integer(1, 100_000),
  },
} as const satisfies Record<string, Setting<unknown>>

/**
 * The admin settings, read with the command's reader. `admin` comes from commander's
 * `--no-admin` switch (a negated boolean has no value to parse).
 */
export function readAdmin(read: SettingsReader, adminFlag: boolean | undefined): AdminConfig {
  return {
    clock: read.value(ADMIN_SETTINGS.clock) ?? DEFAULT_ADMIN.clock,
    journalSize: read.value(ADMIN_SETTINGS.journalSize) ?? DEFAULT_ADMIN.journalSize,
    admin: adminFlag ?? true,
  }
}
