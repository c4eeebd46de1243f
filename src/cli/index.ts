/**
 * The `chat-export` program: one thin file per command under ./commands.
 * @module
 */
import { Command } from 'commander'
import { registerAccounts } from './commands/accounts.js'
import { registerImport } from './commands/import.js'
import { registerMirror } from './commands/mirror.js'
import { registerServe } from './commands/serve.js'
import { registerSimulate } from './commands/simulate.js'
import { registerSync } from './commands/sync.js'
import { registerTokens } from './commands/tokens.js'
import { registerOAuth } from './commands/oauth.js'
import { registerTls } from './commands/tls.js'
import { reportError } from './exit-codes.js'

/**
 * Builds the program (without parsing). Commander's own errors (unknown flag, missing argument)
 * are thrown rather than exiting, so the exit-code table turns them into 2 (usage); every
 * subcommand inherits the setting.
 */
export function buildProgram(): Command {
  const program = new Command()
    .name('chat-export')
    .description('Self-hosted, wire-compatible Zendesk Chat Incremental Export API')
    .version('0.1.0')
    .exitOverride()
  registerServe(program)
  registerAccounts(program)
  registerTokens(program)
  registerOAuth(program)
  registerImport(program)
  registerSync(program)
  registerMirror(program)
  registerSimulate(program)
  registerTls(program)
  return program
}

try {
  await buildProgram().parseAsync(process.argv)
} catch (err) {
  process.exitCode = reportError(err)
}
