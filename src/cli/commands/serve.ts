/** `chat-export serve`: the server, optionally with the live demo. @module */
import type { Command } from 'commander'
import {
  loadServeConfig,
  processEnvironment,
  SERVE_SETTINGS,
  type ServeFlags,
} from '../../config/config.js'
import { systemClock } from '../../domain/clock.js'
import { createLogger } from '../../observability/logger.js'
import { startServer } from '../../server/start-server.js'
import { action, withSettings } from '../shared-options.js'

/** Registers the serve command. */
export function registerServe(program: Command): void {
  withSettings(
    program.command('serve').description('serve the export API (and the ingest API)'),
    SERVE_SETTINGS,
  ).action(
    action(async (flags: ServeFlags) => {
      const config = loadServeConfig(flags, processEnvironment())
      const logger = createLogger(config.logLevel)
      const clock = systemClock()
      const server = await startServer(config, { clock, logger })
      process.stdout.write(
        `chat-export listening on ${server.url} (store ${redactStoreUrl(config.store)})\n`,
      )
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
