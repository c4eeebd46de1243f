/**
 * What sync and the client ask the server for: compressed pages from another host, `identity`
 * over loopback (where compressing only costs CPU on both sides), and `identity` whenever
 * compression is off (Node's fetch would otherwise offer gzip by itself).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ExportClient } from '../../src/client/index.js'
import { isLoopbackUrl, runSync } from '../../src/sync/run-sync.js'

let server: Server
let base = ''
const seen: (string | undefined)[] = []

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push(request.headers['accept-encoding'])
    const next = `${base}/api/v2/chat/incremental/chats?fields=chats%28%2A%29&limit=1000&start_time=1`
    response.setHeader('content-type', 'application/json')
    response.end(
      JSON.stringify({ chats: [], count: 0, end_id: null, end_time: 1, next_page: next }),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

async function firstPageHeader(client: ExportClient): Promise<string | undefined> {
  seen.length = 0
  for await (const page of client.pages('chats')) expect(page.count).toBe(0)
  return seen[0]
}

describe('Accept-Encoding', () => {
  it('the client asks for brotli or gzip by default, and for identity with compression off', async () => {
    expect(await firstPageHeader(new ExportClient({ baseUrl: base, token: 't' }))).toBe('br, gzip')
    expect(
      await firstPageHeader(new ExportClient({ baseUrl: base, token: 't', compression: false })),
    ).toBe('identity')
  })

  it('sync from this machine asks for identity unless told otherwise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sync-compression-'))
    try {
      seen.length = 0
      await runSync({ from: base, token: 't', to: `jsonl:${join(dir, 'a')}`, streams: ['chats'] })
      expect(seen).toEqual(['identity'])
      seen.length = 0
      await runSync({
        from: base,
        token: 't',
        to: `jsonl:${join(dir, 'b')}`,
        streams: ['chats'],
        client: { compression: true },
      })
      expect(seen).toEqual(['br, gzip'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('knows which URLs are this machine', () => {
    for (const url of [
      'http://localhost:8080',
      'http://127.0.0.1:1/api',
      'http://127.1.2.3',
      'http://[::1]:80',
      'http://a.localhost',
    ])
      expect(isLoopbackUrl(url), url).toBe(true)
    for (const url of [
      'https://acme.zendesk.com/api/v2/chat',
      'http://10.0.0.1',
      'http://127.example.com',
      'not a url',
    ])
      expect(isLoopbackUrl(url), url).toBe(false)
  })
})
