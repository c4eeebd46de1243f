/**
 * Structured logs (pino, JSON on stderr so stdout stays free for command output). Redaction is a
 * second line of defence: code never logs tokens, visitor emails, IPs or message text to begin with.
 * @module
 */
import { pino, type Logger } from 'pino'

/** Creates the process logger at `level`. */
export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      base: { service: 'chat-export' },
      redact: {
        paths: [
          'authorization',
          'token',
          '*.authorization',
          '*.token',
          'headers.authorization',
          'email',
          '*.email',
          'ip',
          '*.ip',
          'msg_text',
        ],
        censor: '[redacted]',
      },
    },
    pino.destination(2),
  )
}
