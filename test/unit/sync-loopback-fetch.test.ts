/**
 * The node:http transport a sync uses over loopback: it must hand the client the same status,
 * headers and bytes the runtime's fetch would, fail a cut-off body (so the page is retried, never
 * taken short), stop on abort, and leave redirects to the runtime's fetch.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loopbackFetch } from '../../src/sync/loopback-fetch.js'

let server: Server
let base = ''
const seen: Record<string, string | undefined>[] = []
// Multi-byte UTF-8 and every byte value: the transport must not decode or re-encode anything.
const payload = Buffer.concat([
  Buffer.from('{"chats":[{"msg":"żółw 🐢 \\"}{][\\\\"}],', 'utf8'),
  Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  Buffer.alloc(300_000, 0x61),
])

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push({ ...request.headers } as Record<string, string | undefined>)
    const path = request.url ?? ''
    if (path === '/fixed') {
      response.writeHead(200, { 'content-length': payload.length, 'retry-after': '7' })
      response.end(payload)
    } else if (path === '/chunked') {
      response.writeHead(503, { 'content-type': 'application/json' })
      // Several writes without a length: sent chunked.
      for (let at = 0; at < payload.length; at += 70_000)
        response.write(payload.subarray(at, at + 70_000))
      response.end()
    } else if (path === '/cut') {
      response.writeHead(200, { 'content-length': payload.length })
      response.write(payload.subarray(0, 1000), () => response.destroy())
    } else if (path === '/slow') {
      response.writeHead(200, { 'content-length': 10 })
      response.write('12345')
    } else if (path === '/moved') {
      response.writeHead(302, { location: '/fixed' })
      response.end()
    } else {
      response.writeHead(404)
      response.end()
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

describe('loopbackFetch', () => {
  it('hands over status, headers and the exact bytes, with or without a length', async () => {
    const transport = loopbackFetch()
    try {
      const fixed = await transport.fetch(`${base}/fixed`, {
        headers: { Authorization: 'Bearer t' },
      })
      expect(fixed.status).toBe(200)
      expect(fixed.headers.get('Retry-After')).toBe('7')
      expect(fixed.headers.get('x-absent')).toBeNull()
      expect(Buffer.from(await fixed.arrayBuffer()).equals(payload)).toBe(true)
      const chunked = await transport.fetch(`${base}/chunked`, {})
      expect(chunked.status).toBe(503)
      expect(Buffer.from(await chunked.arrayBuffer()).equals(payload)).toBe(true)
      expect(seen[0]?.authorization).toBe('Bearer t')
      // It never decompresses, so it asks for no compression unless told otherwise.
      expect(seen[0]?.['accept-encoding']).toBe('identity')
    } finally {
      transport.close()
    }
  })

  it('rejects a body cut off before its length', async () => {
    const transport = loopbackFetch()
    try {
      const response = await transport.fetch(`${base}/cut`, {})
      await expect(response.arrayBuffer()).rejects.toThrow()
    } finally {
      transport.close()
    }
  })

  it('stops waiting for the body when the signal aborts', async () => {
    const transport = loopbackFetch()
    try {
      const controller = new AbortController()
      const response = await transport.fetch(`${base}/slow`, { signal: controller.signal })
      const body = response.arrayBuffer()
      controller.abort(new Error('stop'))
      await expect(body).rejects.toThrow('stop')
      const aborted = new AbortController()
      aborted.abort(new Error('before'))
      await expect(transport.fetch(`${base}/fixed`, { signal: aborted.signal })).rejects.toThrow(
        'before',
      )
    } finally {
      transport.close()
    }
  })

  it('lets the runtime fetch follow a redirect', async () => {
    const transport = loopbackFetch()
    try {
      const response = await transport.fetch(`${base}/moved`, {})
      expect(response.status).toBe(200)
      expect(Buffer.from(await response.arrayBuffer()).equals(payload)).toBe(true)
    } finally {
      transport.close()
    }
  })
})
