/** `chat-export serve`: the server, optionally with the live demo. @module */
import type { Command } from 'commander'
import { redactUrl } from '../../domain/redact-url.js'
import {
  loadServeConfig,
  processEnvironment,
  SERVE_SETTINGS,
  type ServeFlags,
} from '../../config/config.js'
import { ManualClock, systemClock } from '../../domain/clock.js'
import { createLogger } from '../../observability/logger.js'
import { startServer, type RunningServer } from '../../server/start-server.js'
import { loadTlsConfig, type TlsFlags } from '../../config/tls-config.js'
import { loadPerfConfig, PERF_SETTINGS, type PerfFlags } from '../../config/perf-config.js'
import { action, withSettings } from '../shared-options.js'

/** Registers the serve command. */
export function registerServe(program: Command): void {
  withSettings(program.command('serve').description('serve the export API (and the ingest API)'), {
    ...SERVE_SETTINGS,
    ...PERF_SETTINGS,
  })
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
    .option('--no-admin', 'serve neither the admin API nor the console')
    .action(
      action(async (flags: ServeFlags & TlsFlags & PerfFlags) => {
        const env = processEnvironment()
        const base = loadServeConfig(flags, env)
        const config = {
          ...base,
          ...loadPerfConfig(flags, env),
          tls: loadTlsConfig(flags, env, base.store),
        }
        const logger = createLogger(config.logLevel)
        const clock =
          config.admin?.clock === 'manual' ? new ManualClock(systemClock().now()) : systemClock()
        const server = await startServer(config, { clock, logger })
        process.stdout.write(
          `chat-export listening on ${server.url} (store ${redactUrl(config.store)})\n`,
        )
        if (server.tls) process.stdout.write(tlsBanner(server.url, server.tls))
        if (server.adminToken) {
          process.stdout.write(
            `Admin token (this run only; admin API and ${server.url}/console): ${server.adminToken}\n`,
          )
        }
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
