/**
 * TLS and HTTPS-proxy settings of `serve` (and the CA folder of `tls ca`): flags > environment >
 * defaults, validated with zod like the rest of the configuration. Kept apart from config.ts so
 * that it can be merged into the one configuration layer without conflicts.
 * @module
 */
import { dirname, join, resolve } from 'node:path'
import { z } from 'zod'
import { ConfigError } from './settings.js'

/** The default port of the HTTPS listener. */
export const DEFAULT_TLS_PORT = 8443

/** Environment variables for TLS (documented in README and docs/connectors.md). */
export interface TlsEnvironment {
  /** "1"/"true" turns on the HTTPS listener, like --tls. */
  CHAT_EXPORT_TLS?: string | undefined
  CHAT_EXPORT_TLS_PORT?: string | undefined
  CHAT_EXPORT_TLS_DIR?: string | undefined
  /** Extra certificate names, comma-separated, like repeated --tls-name. */
  CHAT_EXPORT_TLS_NAMES?: string | undefined
  CHAT_EXPORT_TLS_CERT?: string | undefined
  CHAT_EXPORT_TLS_KEY?: string | undefined
  /** "1"/"true" turns on the CONNECT proxy, like --proxy. */
  CHAT_EXPORT_PROXY?: string | undefined
}

/** Flags given to `serve` / `tls ca` (undefined when not given). */
export interface TlsFlags {
  tls?: boolean | undefined
  tlsPort?: string | undefined
  tlsDir?: string | undefined
  tlsName?: string[] | undefined
  tlsCert?: string | undefined
  tlsKey?: string | undefined
  proxy?: boolean | undefined
}

const booleanText = z
  .string()
  .transform((s) => s.trim().toLowerCase())
  .refine((s) => ['1', 'true', 'yes', 'on', '0', 'false', 'no', 'off', ''].includes(s), {
    message: 'expected true or false (1 or 0)',
  })
  .transform((s) => ['1', 'true', 'yes', 'on'].includes(s))

const tlsConfigSchema = z.object({
  /** The HTTPS listener (`--tls`). */
  https: z.boolean(),
  /** CONNECT on the plain port (`--proxy`). */
  proxy: z.boolean(),
  port: z.coerce.number().int().min(0).max(65535),
  /** Where the local CA lives (absolute). */
  dir: z.string().min(1),
  /** Names added to the leaf certificate beside the Zendesk ones. */
  names: z.array(
    z
      .string()
      .min(1)
      .regex(/^[A-Za-z0-9*.:[\]-]+$/, { message: 'expected a host name or IP address' }),
  ),
  certFile: z.string().min(1).optional(),
  keyFile: z.string().min(1).optional(),
})

export type TlsConfig = z.infer<typeof tlsConfigSchema>

/**
 * The CA folder when none is given: a `tls` folder beside the SQLite file, or ./data/tls for
 * PostgreSQL and in-memory stores (they have no folder of their own).
 */
export function defaultTlsDir(storeUrl: string): string {
  const path = storeUrl.startsWith('sqlite:') ? storeUrl.slice('sqlite:'.length) : ''
  if (path === '' || path === ':memory:' || path.startsWith('file:')) return resolve('data', 'tls')
  return join(dirname(resolve(path)), 'tls')
}

/** Builds the validated TLS configuration; throws a ConfigError naming the flag at fault. */
export function loadTlsConfig(flags: TlsFlags, env: TlsEnvironment, storeUrl: string): TlsConfig {
  const problems: string[] = []
  const flagOrEnv = (flag: boolean | undefined, value: string | undefined, name: string) => {
    if (flag !== undefined) return flag
    if (value === undefined) return false
    const parsed = booleanText.safeParse(value)
    if (parsed.success) return parsed.data
    problems.push(`${name}: "${value}" ${parsed.error.issues[0]?.message ?? 'is invalid'}`)
    return false
  }
  const https = flagOrEnv(flags.tls, env.CHAT_EXPORT_TLS, 'CHAT_EXPORT_TLS')
  const proxy = flagOrEnv(flags.proxy, env.CHAT_EXPORT_PROXY, 'CHAT_EXPORT_PROXY')
  const dir = flags.tlsDir ?? env.CHAT_EXPORT_TLS_DIR
  const raw = {
    https,
    proxy,
    port: flags.tlsPort ?? env.CHAT_EXPORT_TLS_PORT ?? String(DEFAULT_TLS_PORT),
    dir: dir === undefined ? defaultTlsDir(storeUrl) : resolve(dir),
    names:
      flags.tlsName ??
      (env.CHAT_EXPORT_TLS_NAMES ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    certFile: flags.tlsCert ?? env.CHAT_EXPORT_TLS_CERT,
    keyFile: flags.tlsKey ?? env.CHAT_EXPORT_TLS_KEY,
  }
  const flagName: Record<string, string> = {
    port: '--tls-port',
    dir: '--tls-dir',
    names: '--tls-name',
    certFile: '--tls-cert',
    keyFile: '--tls-key',
  }
  const parsed = tlsConfigSchema.safeParse(raw)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '')
      problems.push(`${flagName[key] ?? key}: ${issue.message}`)
    }
  }
  if ((raw.certFile === undefined) !== (raw.keyFile === undefined)) {
    problems.push(
      '--tls-cert and --tls-key: give both (a certificate and its private key) or neither',
    )
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems)
  return parsed.data
}
