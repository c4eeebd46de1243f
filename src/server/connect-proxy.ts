/**
 * `serve --proxy`: the plain HTTP port also answers `CONNECT` for the Zendesk hosts on port 443,
 * so `HTTPS_PROXY=http://127.0.0.1:8080` plus the local CA points an unmodified client at this
 * server. The tunnel never leaves the process: TLS is terminated here and the decrypted requests
 * reach the same app. Every other target is refused, so this is never an open proxy.
 * @module
 */
import type { IncomingMessage, Server } from 'node:http'
import type { Socket } from 'node:net'
import { isZendeskHost } from '../http/zendesk-hosts.js'
import type { TlsServer } from './https-listener.js'

/** Whether a CONNECT target (`host:port`) is one this proxy terminates. */
export function isAllowedConnectTarget(target: string): boolean {
  const match = /^(.+):(\d+)$/.exec(target.trim())
  if (!match) return false
  return match[2] === '443' && isZendeskHost(match[1])
}

function refuse(socket: Socket, target: string): void {
  const body = `chat-export proxies only the Zendesk Chat hosts (*.zendesk.com, www.zopim.com, rtm.zopim.com) on port 443; "${target}" is refused. It is not an open proxy: exclude other hosts with NO_PROXY.\n`
  socket.end(
    `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  )
}

/** Makes `server` answer CONNECT by handing allowed tunnels to `tls`. Returns a detach function. */
export function attachConnectProxy(server: Server, tls: TlsServer): () => void {
  const tunnels = new Set<Socket>()
  const onConnect = (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const target = req.url ?? ''
    socket.on('error', () => socket.destroy())
    if (!isAllowedConnectTarget(target)) {
      refuse(socket, target)
      return
    }
    tunnels.add(socket)
    socket.once('close', () => tunnels.delete(socket))
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n', () => {
      // Bytes the client sent right after the CONNECT line belong to the TLS handshake.
      if (head.length > 0) socket.unshift(head)
      tls.accept(socket)
    })
  }
  server.on('connect', onConnect)
  return () => {
    server.off('connect', onConnect)
    for (const socket of tunnels) socket.destroy()
  }
}
