/** `chat-export tls ca`: where the local CA is, and how to make each client trust it. @module */
import type { Command } from 'commander'
import { processEnvironment, resolveStoreUrl } from '../../config/config.js'
import { defaultTlsDir } from '../../config/tls-config.js'
import { resolve } from 'node:path'
import { systemClock } from '../../domain/clock.js'
import { caPaths, ensureLocalCa } from '../../tls/local-ca.js'
import { action } from '../shared-options.js'

interface TlsCaFlags {
  tlsDir?: string | undefined
  store?: string | undefined
  path?: boolean | undefined
}

/** The trust recipes for a CA certificate at `ca` (absolute path). */
export function trustInstructions(ca: string): string {
  return [
    `CA certificate: ${ca}`,
    '',
    'Trust it system-wide (Debian/Ubuntu, as root):',
    `  cp '${ca}' /usr/local/share/ca-certificates/chat-export.crt && update-ca-certificates`,
    'Python requests (replaces the bundle: requests then trusts only this CA):',
    `  export REQUESTS_CA_BUNDLE='${ca}'`,
    'Python ssl, httpx, urllib, and OpenSSL-based tools:',
    `  export SSL_CERT_FILE='${ca}'`,
    'Node.js (adds to the built-in roots):',
    `  export NODE_EXTRA_CA_CERTS='${ca}'`,
    'Java (into the JDK trust store; default password changeit):',
    `  keytool -importcert -noprompt -alias chat-export -file '${ca}' -cacerts -storepass changeit`,
    'curl:',
    `  curl --cacert '${ca}' https://demo.zendesk.com:8443/api/v2/chat/incremental/chats --resolve demo.zendesk.com:8443:127.0.0.1 -H "Authorization: Bearer $TOKEN"`,
    '',
  ].join('\n')
}

/** Registers the tls command. */
export function registerTls(program: Command): void {
  const tls = program.command('tls').description('the local certificate authority of serve --tls')
  tls
    .command('ca')
    .description('print the CA certificate path (creating the CA once) and how to trust it')
    .option('--tls-dir <dir>', 'folder of the local CA (default: tls/ beside the SQLite file)')
    .option('--store <url>', 'the store whose folder holds the CA by default')
    .option('--path', 'print only the path of ca.pem')
    .action(
      action((flags: TlsCaFlags) => {
        const env = processEnvironment()
        const tlsDir = flags.tlsDir ?? env.CHAT_EXPORT_TLS_DIR
        const dir =
          tlsDir === undefined ? defaultTlsDir(resolveStoreUrl(flags.store, env)) : resolve(tlsDir)
        const { created } = ensureLocalCa(dir, new Date(systemClock().now() / 1000))
        const ca = caPaths(dir).cert
        if (flags.path) {
          process.stdout.write(`${ca}\n`)
          return Promise.resolve()
        }
        if (created) process.stderr.write(`created a new local CA in ${dir}\n`)
        process.stdout.write(trustInstructions(ca))
        return Promise.resolve()
      }),
    )
}
