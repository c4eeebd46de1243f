/** `chat-export serve`: the server, optionally with the live demo. @module */
import type { Command } from 'commander'
import { loadServeConfig, processEnvironment, type ServeFlags } from '../../config/config.js'
import { ManualClock, systemClock } from '../../domain/clock.js'
import { createLogger } from '../../observability/logger.js'
import { startServer } from '../../server/start-server.js'
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
    .option('--clock <mode>', 'system (default) or manual: time moves only by POST /admin/clock')
    .option('--journal-size <n>', 'requests kept per account in the request journal (default 500)')
    .option('--no-admin', 'serve neither the admin API nor the console')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
    .action(
      action(async (flags: ServeFlags) => {
        const config = loadServeConfig(flags, processEnvironment())
        const logger = createLogger(config.logLevel)
        const clock =
          config.admin?.clock === 'manual' ? new ManualClock(systemClock().now()) : systemClock()
        const server = await startServer(config, { clock, logger })
        process.stdout.write(
          `chat-export listening on ${server.url} (store ${redactStoreUrl(config.store)})\n`,
        )
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

/** Hides a PostgreSQL password when printing the store URL. */
function redactStoreUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@')
}
