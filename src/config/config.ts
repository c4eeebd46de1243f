/**
 * Configuration: parsed once at the edge (flags > environment > defaults), validated with zod, then
 * passed down. No other module reads `process.env`.
 * @module
 */
import { z } from 'zod'
import { parseFaultPlan } from '../domain/fault-plan.js'
import { parseAdminConfig, type AdminConfig, type AdminFlags } from './admin-config.js'

export const DEFAULT_STORE_URL = 'sqlite:./data/chat-export.db'

const storeUrl = z
  .string()
  .refine((s) => s.startsWith('sqlite:') || /^postgres(ql)?:\/\//.test(s), {
    message: 'expected sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE',
  })

const serveConfigSchema = z.object({
  store: storeUrl,
  host: z.string().min(1),
  port: z.coerce.number().int().min(0).max(65535),
  publicUrl: z
    .url({ message: 'expected an absolute URL such as https://chat.example.com' })
    .optional(),
  minStartAgeSeconds: z.coerce.number().int().min(0).max(86_400),
  rateLimitPerMinute: z.coerce.number().int().min(0),
  demo: z.boolean(),
  demoSeed: z.coerce.number().int(),
  demoSpeed: z.coerce.number().positive(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  faults: z.string().optional(),
})

/** `admin` absent (configs built in code): the defaults of admin-config.ts. */
export type ServeConfig = z.infer<typeof serveConfigSchema> & { admin?: AdminConfig | undefined }

/** The environment variables the CLI understands (documented in README). */
export interface Environment {
  CHAT_EXPORT_STORE?: string | undefined
  CHAT_EXPORT_HOST?: string | undefined
  CHAT_EXPORT_PORT?: string | undefined
  CHAT_EXPORT_PUBLIC_URL?: string | undefined
  CHAT_EXPORT_MIN_START_AGE?: string | undefined
  CHAT_EXPORT_RATE_LIMIT?: string | undefined
  CHAT_EXPORT_LOG_LEVEL?: string | undefined
  CHAT_EXPORT_TOKEN?: string | undefined
  CHAT_EXPORT_FAULTS?: string | undefined
  CHAT_EXPORT_CLOCK?: string | undefined
  CHAT_EXPORT_JOURNAL_SIZE?: string | undefined
  /** PostgreSQL server for benchmarks and tests (tests start an embedded one when unset). */
  DATABASE_URL?: string | undefined
  PORT?: string | undefined
}

/** Reads the process environment; the single place that touches process.env. */
export function processEnvironment(): Environment {
  return process.env
}

/** Flags given to `serve` (already parsed by commander; undefined when not given). */
export interface ServeFlags extends AdminFlags {
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
}

/**
 * Builds the validated server configuration. Throws a ConfigError naming every bad setting and
 * where it came from.
 */
export function loadServeConfig(flags: ServeFlags, env: Environment): ServeConfig {
  // The zendesk profile restores the reference's behaviour: five-minute rule and 200 requests/min.
  const zendesk = flags.profile === 'zendesk'
  if (flags.profile !== undefined && flags.profile !== 'zendesk' && flags.profile !== 'default') {
    throw new ConfigError([`--profile: unknown profile "${flags.profile}"; use default or zendesk`])
  }
  const raw = {
    store: flags.store ?? env.CHAT_EXPORT_STORE ?? DEFAULT_STORE_URL,
    host: flags.host ?? env.CHAT_EXPORT_HOST ?? '127.0.0.1',
    port: flags.port ?? env.CHAT_EXPORT_PORT ?? env.PORT ?? '8080',
    publicUrl: flags.publicUrl ?? env.CHAT_EXPORT_PUBLIC_URL,
    minStartAgeSeconds: flags.minStartAge ?? env.CHAT_EXPORT_MIN_START_AGE ?? (zendesk ? 300 : 0),
    rateLimitPerMinute: flags.rateLimit ?? env.CHAT_EXPORT_RATE_LIMIT ?? (zendesk ? 200 : 0),
    demo: flags.demo ?? false,
    demoSeed: flags.seed ?? '42',
    demoSpeed: flags.speed ?? '1',
    logLevel: flags.logLevel ?? env.CHAT_EXPORT_LOG_LEVEL ?? 'info',
    faults: flags.faults ?? env.CHAT_EXPORT_FAULTS,
  }
  const parsed = serveConfigSchema.safeParse(raw)
  const admin = parseAdminConfig(flags, env)
  if (!parsed.success || !admin.ok) {
    throw new ConfigError([
      ...(parsed.error?.issues ?? []).map((issue) => `${issue.path.join('.')}: ${issue.message}`),
      ...(admin.ok ? [] : admin.problems),
    ])
  }
  if (parsed.data.faults !== undefined) {
    try {
      parseFaultPlan(parsed.data.faults)
    } catch (err) {
      throw new ConfigError([(err as Error).message])
    }
  }
  return { ...parsed.data, admin: admin.config }
}

/** Resolves the store URL for the admin commands (accounts, tokens, import). */
export function resolveStoreUrl(flag: string | undefined, env: Environment): string {
  const value = flag ?? env.CHAT_EXPORT_STORE ?? DEFAULT_STORE_URL
  const parsed = storeUrl.safeParse(value)
  if (!parsed.success) {
    throw new ConfigError([
      `--store: "${value}" ${parsed.error.issues[0]?.message ?? 'is invalid'}`,
    ])
  }
  return parsed.data
}

/** A configuration problem, with one line per bad setting. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  ${problems.join('\n  ')}`)
  }
}
