import { CommanderError } from 'commander'
import { describe, expect, it } from 'vitest'
import {
  CliError,
  EXIT_CODES,
  exitCodeFor,
  reportError,
  UsageError,
} from '../../src/cli/exit-codes.js'
import {
  ExportHttpError,
  ExportNetworkError,
  ExportProtocolError,
  InvalidClientOptionsError,
  InvalidCursorError,
} from '../../src/client/errors.js'
import { ConfigError } from '../../src/config/config.js'
import { AppError } from '../../src/domain/errors.js'
import { DestinationError, SyncSourceMismatchError } from '../../src/sync/index.js'

const http = (status: number) =>
  new ExportHttpError({ status, error: undefined, description: 'x', url: 'http://h/' })

describe('the exit-code table', () => {
  it.each([
    ['a bad setting', new ConfigError(['--port: expected an integer']), EXIT_CODES.USAGE],
    ['a usage error found by a command', new UsageError('Invalid --role'), EXIT_CODES.USAGE],
    ['an unknown flag', new CommanderError(1, 'commander.unknownOption', 'x'), EXIT_CODES.USAGE],
    ['--help', new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'), EXIT_CODES.OK],
    ['bad client options', new InvalidClientOptionsError('limit'), EXIT_CODES.USAGE],
    ['a cursor of another stream', new InvalidCursorError('cursor'), EXIT_CODES.USAGE],
    ['a cursor of another server', new SyncSourceMismatchError('other'), EXIT_CODES.USAGE],
    ['a refused request (401)', http(401), EXIT_CODES.REFUSED],
    ['a refused request (404)', http(404), EXIT_CODES.REFUSED],
    ['a rate limit that outlasted the retries', http(429), EXIT_CODES.UNAVAILABLE],
    ['a server error that outlasted the retries', http(503), EXIT_CODES.UNAVAILABLE],
    [
      'a network failure',
      new ExportNetworkError('refused', 'http://h/', 3),
      EXIT_CODES.UNAVAILABLE,
    ],
    ['an incompatible server', new ExportProtocolError('no count', 'http://h/'), EXIT_CODES.FAILED],
    ['a destination failure', new DestinationError('disk full'), EXIT_CODES.FAILED],
    ['a refused import', new AppError('INVALID_IMPORT', 'line 2'), EXIT_CODES.FAILED],
    ['a terminal message', new CliError('No account named "x"'), EXIT_CODES.FAILED],
    ['an interruption', new DOMException('Interrupted by SIGINT', 'AbortError'), 130],
    ['anything else', new TypeError('boom'), EXIT_CODES.FAILED],
  ])('%s exits %#', (_what, error, code) => {
    expect(exitCodeFor(error)).toBe(code)
  })

  it('maps by type, not by message text', () => {
    // The same words that once picked the usage code by a regular expression do nothing now.
    expect(exitCodeFor(new DestinationError('Unsupported destination "x"'))).toBe(1)
    expect(exitCodeFor(new Error('Invalid configuration'))).toBe(1)
  })

  it('prints one line (and import details), no stack trace', () => {
    let text = ''
    const out = { write: (s: string) => (text += s) }
    const code = reportError(
      new AppError('INVALID_IMPORT', 'Nothing was imported.', {
        details: [{ line: 2, message: 'id is missing' }],
      }),
      out,
    )
    expect(code).toBe(1)
    expect(text).toBe('error: Nothing was imported.\n  line 2: id is missing\n')
    text = ''
    reportError(
      new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'"),
      out,
    )
    expect(text).toBe('') // commander printed it already
  })
})
