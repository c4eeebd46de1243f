/**
 * Settings of the admin API, the request journal, the console and the clock mode (`serve`):
 * schema, defaults and environment variable names, parsed at the edge like the rest of
 * src/config (flags > environment > defaults).
 * @module
 */
import { z } from 'zod'

export const adminConfigSchema = z.object({
  /** `system`: the wall clock; `manual`: starts at the wall time, moves only by POST /admin/clock. */
  clock: z.enum(['system', 'manual']),
  /** Requests kept per account in the request journal. */
  journalSize: z.coerce.number().int().min(1).max(100_000),
  /** Serve the admin API and the console (`--no-admin` turns both off). */
  admin: z.boolean(),
})

export type AdminConfig = z.infer<typeof adminConfigSchema>

/** Environment variables read for the admin settings. */
export const ADMIN_ENV = {
  clock: 'CHAT_EXPORT_CLOCK',
  journalSize: 'CHAT_EXPORT_JOURNAL_SIZE',
} as const

export interface AdminFlags {
  clock?: string | undefined
  journalSize?: string | undefined
  /** commander's `--no-admin` gives `admin: false`. */
  admin?: boolean | undefined
}

/** The admin settings from flags and environment; issues are returned as `name: message` lines. */
export function parseAdminConfig(
  flags: AdminFlags,
  env: Partial<Record<(typeof ADMIN_ENV)[keyof typeof ADMIN_ENV], string | undefined>>,
): { ok: true; config: AdminConfig } | { ok: false; problems: string[] } {
  const parsed = adminConfigSchema.safeParse({
    clock: flags.clock ?? env.CHAT_EXPORT_CLOCK ?? 'system',
    journalSize: flags.journalSize ?? env.CHAT_EXPORT_JOURNAL_SIZE ?? '500',
    admin: flags.admin ?? true,
  })
  if (parsed.success) return { ok: true, config: parsed.data }
  return {
    ok: false,
    problems: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
  }
}
