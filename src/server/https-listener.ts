/**
 * The HTTPS side of `serve --tls` and of the CONNECT proxy: the same app behind TLS, HTTP/2 with
 * HTTP/1.1 fallback (node:http2's `allowHTTP1`, so every client negotiates what it speaks).
 * @module
 */
import { createAdaptorServer } from '@hono/node-server'
import { createSecureServer, type Http2SecureServer } from 'node:http2'
import type { Socket } from 'node:net'
import type { Logger } from 'pino'
import type { ServerTlsMaterial } from '../tls/local-ca.js'
import { attachClientErrors } from './client-errors.js'

type Fetch = (request: Request) => Response | Promise<Response>

/** A TLS server for the app; listens only when `listen` is called (the proxy never does). */
export interface TlsServer {
  server: Http2SecureServer
  /** Hands an accepted (still encrypted) socket to the TLS server, as if it had connected. */
  accept(socket: Socket): void
  listen(host: string, port: number): Promise<string>
  /** Stops listening and ends every open connection. */
  close(): Promise<void>
}

/**
 * Builds the TLS server for `fetch` with the given certificate. Requests its HTTP/1.1 parser
 * rejects get the same JSON error bodies as on the plain listener (`logger` logs them).
 */
export function createTlsServer(
  fetch: Fetch,
  material: ServerTlsMaterial,
  logger: Logger,
): TlsServer {
  const server = createAdaptorServer({
    fetch,
    createServer: createSecureServer,
    serverOptions: { key: material.keyPem, cert: material.certPem, allowHTTP1: true },
  }) as Http2SecureServer
  attachClientErrors(server, { logger, fetch })
  const sockets = new Set<Socket>()
  const track = (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  }
  server.on('connection', track)
  // A client that gives up on the handshake (an untrusted CA) is no server error: drop it quietly.
  server.on('tlsClientError', (_err: Error, socket: Socket) => socket.destroy())
  let listening = false
  return {
    server,
    accept(socket) {
      server.emit('connection', socket)
    },
    listen(host, port) {
      return new Promise((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) =>
          reject(
            err.code === 'EADDRINUSE'
              ? new Error(
                  `Port ${port} on ${host} is already in use. Stop the other server or choose another HTTPS port with --tls-port (0 picks a free one).`,
                )
              : err,
          ),
        )
        server.listen(port, host, () => {
          listening = true
          const address = server.address()
          const actual = typeof address === 'object' && address ? address.port : port
          const shown = host.includes(':') ? `[${host}]` : host
          resolve(`https://${shown === '0.0.0.0' ? '127.0.0.1' : shown}:${actual}`)
        })
      })
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      if (listening) await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
