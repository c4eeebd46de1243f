/**
 * Wires `--tls` and `--proxy` beside the plain listener: one certificate (the local CA's leaf or
 * the user's own), one TLS server for the app, listening on `--tls-port` and/or fed by CONNECT.
 * @module
 */
import type { ServerType } from '@hono/node-server'
import type { Server } from 'node:http'
import type { Logger } from 'pino'
import type { TlsConfig } from '../config/tls-config.js'
import type { Clock } from '../domain/clock.js'
import { serverTlsMaterial } from '../tls/local-ca.js'
import { attachConnectProxy } from './connect-proxy.js'
import { createTlsServer } from './https-listener.js'

type Fetch = (request: Request) => Response | Promise<Response>

export interface RunningTls {
  /** The HTTPS listener's URL (with --tls). */
  url?: string | undefined
  /** The CA certificate clients must trust (undefined with --tls-cert). */
  caPath?: string | undefined
  /** True when the plain port answers CONNECT. */
  proxy: boolean
  close(): Promise<void>
}

/** Starts what `config.tls` asks for; undefined when it asks for neither HTTPS nor the proxy. */
export async function startTls(
  config: { host: string; tls?: TlsConfig | undefined },
  plain: ServerType,
  fetch: Fetch,
  clock: Clock,
  logger: Logger,
): Promise<RunningTls | undefined> {
  const tls = config.tls
  if (!tls || (!tls.https && !tls.proxy)) return undefined
  const material = serverTlsMaterial(tls, new Date(clock.now() / 1000))
  const server = createTlsServer(fetch, material, logger)
  const url = tls.https ? await server.listen(config.host, tls.port) : undefined
  const detach = tls.proxy // serve() without a createServer option gives a node:http server: the one with 'connect'.
    ? attachConnectProxy(plain as Server, server)
    : () => {}
  return {
    url,
    caPath: material.caPath,
    proxy: tls.proxy,
    async close() {
      detach()
      await server.close()
    },
  }
}
