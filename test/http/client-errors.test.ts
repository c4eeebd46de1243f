/**
 * Requests Node's HTTP parser (or the adapter) rejects before the app sees them still get the
 * documented `{"error", "description"}` body (issue 13, finding 3), over raw sockets; and a client
 * that aborts an upload is logged as a short info line, not as an error with a stack. The HTTPS
 * listener (`serve --tls`) answers its HTTP/1.1 parser errors the same way.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect as connectTls } from 'node:tls'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadTlsConfig } from '../../src/config/tls-config.js'
import { systemClock } from '../../src/domain/clock.js'
import { issueToken } from '../../src/auth/tokens.js'
import { startServer, type RunningServer } from '../../src/server/start-server.js'
import { storeBackends, type StoreHandle } from '../support/stores.js'

/** Sends raw bytes and collects everything the server answers until it closes the connection. */
function rawExchange(url: string, bytes: Buffer | string): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', reject)
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')))
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')))
    socket.write(bytes)
  })
}

/** The same over TLS (HTTP/1.1, as a client that offers no ALPN or only http/1.1 speaks it). */
function rawTlsExchange(url: string, bytes: Buffer | string): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    // The local CA's leaf: this test checks the answer, not the certificate.
    const socket = connectTls({
      host: hostname,
      port: Number(port),
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
    })
    const chunks: Buffer[] = []
    socket.on('data', (c: Buffer) => chunks.push(c))
    socket.on('error', reject)
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')))
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')))
    socket.once('secureConnect', () => socket.write(bytes))
  })
}

function parseRaw(raw: string): { status: number; headers: string; body: string } {
  const split = raw.indexOf('\r\n\r\n')
  const head = raw.slice(0, split)
  return {
    status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]),
    headers: head,
    body: raw.slice(split + 4),
  }
}

function expectJsonError(raw: string, status: number, reason: string) {
  const res = parseRaw(raw)
  expect(res.status, raw).toBe(status)
  expect(res.headers).toMatch(/content-type: application\/json/i)
  const body = JSON.parse(res.body)
  expect(Object.keys(body).sort()).toEqual(['description', 'error'])
  expect(body.error).toBe(reason)
  expect(body.description.length).toBeGreaterThan(10)
}

describe('parser errors and aborted uploads', () => {
  const lines: Array<Record<string, unknown>> = []
  let server: RunningServer
  let handle: StoreHandle
  let token: string
  const tlsDir = mkdtempSync(join(tmpdir(), 'chat-export-client-errors-'))

  beforeAll(async () => {
    const clock = systemClock()
    handle = await storeBackends()[0]!.create(clock)
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) {
          if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>)
        }
        done()
      },
    })
    server = await startServer(
      {
        store: 'sqlite:unused',
        host: '127.0.0.1',
        port: 0,
        publicUrl: undefined,
        minStartAgeSeconds: 0,
        rateLimitPerMinute: 0,
        demo: false,
        demoSeed: 42,
        demoSpeed: 1,
        logLevel: 'debug',
        tls: loadTlsConfig({ tls: true, tlsPort: '0', tlsDir }, {}, 'sqlite:unused'),
      },
      { clock, logger: pino({ level: 'debug' }, sink), store: handle.store },
    )
    const account = await handle.store.createAccount('raw')
    token = (
      await issueToken(handle.store, {
        accountId: account.id,
        role: 'owner',
        scopes: ['read', 'write'],
        now: clock.now(),
      })
    ).token
  })
  afterAll(async () => {
    await server.close()
    await handle.cleanup()
    rmSync(tlsDir, { recursive: true, force: true })
  })

  it('answers invalid bytes in the request line with a JSON 400', async () => {
    const raw = await rawExchange(
      server.url,
      Buffer.from('GET /hea\u0001lthz HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'),
    )
    expectJsonError(raw, 400, 'Bad Request')
  })

  it('answers a garbage request line with a JSON 400', async () => {
    expectJsonError(await rawExchange(server.url, 'HELLO\r\n\r\n'), 400, 'Bad Request')
  })

  it('answers invalid bytes in a header with a JSON 400', async () => {
    const raw = await rawExchange(
      server.url,
      Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0000b\r\n\r\n', 'latin1'),
    )
    expectJsonError(raw, 400, 'Bad Request')
  })

  it('answers headers over the limit with a JSON 431', async () => {
    const raw = await rawExchange(
      server.url,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    )
    expectJsonError(raw, 431, 'Request Header Fields Too Large')
  })

  it('answers a HEAD request with a URL over the limit with headers only', async () => {
    // Node's client refuses a body after a HEAD answer ("Data after `Connection: close`").
    const head = await new Promise<{ status: number; length: string | undefined }>(
      (resolve, reject) => {
        const { hostname, port } = new URL(server.url)
        const req = httpRequest(
          { host: hostname, port, method: 'HEAD', path: `/api/v2/chats?ids=${'x1,'.repeat(8000)}` },
          (res) => {
            res.resume()
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, length: res.headers['content-length'] }),
            )
          },
        )
        req.on('error', reject)
        req.end()
      },
    )
    expect(head.status).toBe(431)
    const raw = await rawExchange(
      server.url,
      `HEAD /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    )
    expect(parseRaw(raw).status).toBe(431)
    expect(parseRaw(raw).body).toBe('')
  })

  it('answers a request the adapter refuses (backslash in the path) with a JSON 400', async () => {
    const raw = await rawExchange(server.url, 'GET /healthz\\x HTTP/1.1\r\nHost: x\r\n\r\n')
    expectJsonError(raw, 400, 'Bad Request')
  })

  it('answers invalid bytes in the request line over HTTPS with a JSON 400', async () => {
    const raw = await rawTlsExchange(
      server.tls!.url!,
      Buffer.from('GET /hea\u0001lthz HTTP/1.1\r\nHost: x\r\n\r\n', 'latin1'),
    )
    expectJsonError(raw, 400, 'Bad Request')
  })

  it('answers headers over the limit over HTTPS with a JSON 431', async () => {
    const raw = await rawTlsExchange(
      server.tls!.url!,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    )
    expectJsonError(raw, 431, 'Request Header Fields Too Large')
  })

  it('still serves well-formed requests over HTTPS', async () => {
    const raw = await rawTlsExchange(
      server.tls!.url!,
      'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    )
    expect(parseRaw(raw).status, raw).toBe(200)
  })

  it('still serves well-formed requests on the same server', async () => {
    const res = await fetch(`${server.url}/healthz`)
    expect(res.status).toBe(200)
  })

  it('logs an aborted upload at info without a stack', async () => {
    const before = lines.length
    const { hostname, port } = new URL(server.url)
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write(
          `POST /api/chat-export/v1/events HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
            `Authorization: Bearer ${token}\r\nContent-Type: application/json\r\n` +
            'Content-Length: 100000\r\n\r\n[{"id":',
        )
        setTimeout(() => socket.destroy(), 100)
      })
      socket.on('close', () => resolve())
    })
    await new Promise((r) => setTimeout(r, 300))
    const logged = lines.slice(before)
    expect(
      logged.some((l) => /abort/i.test(String(l.msg))),
      JSON.stringify(logged),
    ).toBe(true)
    for (const line of logged) {
      expect(line.level as number, JSON.stringify(line)).toBeLessThan(40)
      expect(JSON.stringify(line)).not.toMatch(/stack|\bat .+\.(ts|js):\d+/)
    }
  })
})
