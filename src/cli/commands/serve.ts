/** `chat-export serve`: the server, optionally with the live demo. @module */
import type { Command } from 'commander'
import { loadServeConfig, processEnvironment, type ServeFlags } from '../../config/config.js'
import { systemClock } from '../../domain/clock.js'
import { createLogger } from '../../observability/logger.js'
import { startServer, type RunningServer } from '../../server/start-server.js'
import { loadTlsConfig, type TlsFlags } from '../../config/tls-config.js'
import { action } from '../shared-options.js'

/** Registers the serve command. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve the export API (and the ingest API)')
    .option('--store <url>', 'sqlite:PATH or postgres://... (default sqlite:./data/chat-export.db)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--port <n>', 'port to listen on (default 8080; 0 = any free port)')
    .option(
      '--public-url <url>',
      'base URL clients reach this server at (for next_page behind a proxy)',
    )
    .option(
      '--min-start-age <seconds>',
      'refuse start_time younger than this and serve only older items (Zendesk: 300)',
    )
    .option('--rate-limit <n>', 'requests per minute per account; 0 = unlimited (Zendesk: 200)')
    .option('--profile <name>', 'default, or zendesk (five-minute rule and 200 requests/minute)')
    .option('--demo', 'create a demo account with realistic data and keep it live')
    .option('--seed <n>', 'seed of the demo data (default 42)')
    .option('--speed <n>', 'demo simulation speed, 1 = real time (default 1)')
    .option(
      '--faults <plan>',
      'fault injection for connector tests: "header" and/or "429=0.1,500=0.05,slow=0.1,drop=0.02,seed=7"',
    )
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
    .option('--tls', 'also serve HTTPS (local CA; see `chat-export tls ca`)')
    .option('--tls-port <n>', 'HTTPS port (default 8443; 0 = any free port)')
    .option('--tls-dir <dir>', 'folder of the local CA (default: tls/ beside the SQLite file)')
    .option(
      '--tls-name <name>',
      'another host name or IP for the certificate (repeatable)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--tls-cert <file>', 'serve this PEM certificate (chain) instead of the local CA one')
    .option('--tls-key <file>', 'the private key of --tls-cert (PEM)')
    .option('--proxy', 'answer HTTPS CONNECT for the Zendesk hosts on the plain port')
    .action(
      action(async (flags: ServeFlags & TlsFlags) => {
        const env = processEnvironment()
        const base = loadServeConfig(flags, env)
        const config = { ...base, tls: loadTlsConfig(flags, env, base.store) }
        const logger = createLogger(config.logLevel)
        const clock = systemClock()
        const server = await startServer(config, { clock, logger })
        process.stdout.write(
          `chat-export listening on ${server.url} (store ${redactStoreUrl(config.store)})\n`,
        )
        if (server.tls) process.stdout.write(tlsBanner(server.url, server.tls))
        let stopDemo = () => {}
        if (config.demo) {
          const { startDemo } = await import('../../server/demo.js')
          const demo = await startDemo(server, config, { clock, logger, out: process.stdout })
          stopDemo = () => demo.stop()
        }
        const stop = () => {
          process.stderr.write('shutting down\n')
          stopDemo()
          server.close().then(
            () => process.exit(0),
            () => process.exit(1),
          )
        }
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
      }),
    )
}

/** What --tls / --proxy started, and how to use it. */
function tlsBanner(plainUrl: string, tls: NonNullable<RunningServer['tls']>): string {
  const lines: string[] = []
  if (tls.url) lines.push(`chat-export HTTPS on ${tls.url} (HTTP/2 and HTTP/1.1)`)
  if (tls.proxy) lines.push(`chat-export proxy on ${plainUrl} (CONNECT to the Zendesk hosts only)`)
  if (tls.caPath) lines.push(`CA certificate: ${tls.caPath} (trust it: chat-export tls ca)`)
  return lines.join('\n') + '\n'
}

/** Hides a PostgreSQL password when printing the store URL. */
function redactStoreUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')
}
