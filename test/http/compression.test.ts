/**
 * Compressed export pages over real HTTP: a client that offers brotli or gzip gets a page that
 * decompresses to exactly the bytes an identity client gets, every response says it varies by
 * Accept-Encoding, and `--compression` limits which codings the server uses. The raw bytes are
 * read with node:http, which (unlike fetch) does not decompress them.
 */
import { request } from 'node:http'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { syntheticChats } from '../../src/bench/bench-data.js'
import { ExportClient } from '../../src/client/export-client.js'
import { negotiateEncoding } from '../../src/http/compression.js'
import type { Harness, TestAccount } from '../support/harness.js'
import { startHarness } from '../support/harness.js'
import { storeBackends } from '../support/stores.js'

const PAGE = '/api/v2/chat/incremental/chats?fields=chats(*)&limit=50'

interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

/** GET with exactly these headers; the body as it came over the wire. */
function rawGet(url: string, headers: Record<string, string>): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      )
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

for (const backend of storeBackends()) {
  describe(`compressed pages (${backend.name})`, () => {
    let h: Harness
    let a: TestAccount
    let identity: RawResponse
    const get = (acceptEncoding?: string, server: Harness = h) =>
      rawGet(`${server.url}${PAGE}`, {
        authorization: `Bearer ${a.owner}`,
        ...(acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding }),
      })

    beforeAll(async () => {
      h = await startHarness({ backend })
      a = await h.account('compression')
      const chats = syntheticChats(60, Date.UTC(2026, 10, 1) * 1000, 3)
      expect((await h.importLines(a.readWrite, 'chats', chats)).status).toBe(200)
      identity = await get()
    })
    afterAll(() => h.close())

    it('sends the page as it is to a client that offers no coding', () => {
      expect(identity.status).toBe(200)
      expect(identity.headers['content-encoding']).toBeUndefined()
      expect(identity.headers['vary']).toMatch(/accept-encoding/i)
      const page = JSON.parse(identity.body.toString('utf8'))
      expect(page.count).toBe(50)
    })

    it('declares the size of an uncompressed page, to HEAD as to GET', async () => {
      expect(identity.headers['content-length']).toBe(String(identity.body.byteLength))
      const head = await fetch(`${h.url}${PAGE}`, {
        method: 'HEAD',
        headers: { authorization: `Bearer ${a.owner}`, 'accept-encoding': 'identity' },
      })
      expect(head.status).toBe(200)
      expect(head.headers.get('content-length')).toBe(String(identity.body.byteLength))
    })

    it('brotli to a client that offers it, the same bytes once decompressed', async () => {
      const res = await get('gzip, deflate, br')
      expect(res.headers['content-encoding']).toBe('br')
      expect(res.headers['vary']).toMatch(/accept-encoding/i)
      expect(res.body.length).toBeLessThan(identity.body.length / 2)
      expect(brotliDecompressSync(res.body).equals(identity.body)).toBe(true)
    })

    it('gzip to a client that offers only gzip, the same bytes once decompressed', async () => {
      const res = await get('gzip')
      expect(res.headers['content-encoding']).toBe('gzip')
      expect(gunzipSync(res.body).equals(identity.body)).toBe(true)
    })

    it('identity when every offered coding is refused or unknown', async () => {
      for (const offer of ['br;q=0, gzip;q=0', 'deflate', 'identity', '*;q=0']) {
        const res = await get(offer)
        expect(res.headers['content-encoding'], offer).toBeUndefined()
        expect(res.body.equals(identity.body), offer).toBe(true)
      }
    })

    it('the client asks for compression and reads the same items', async () => {
      // Called through: the spy only records the headers the client sent.
      const spy = vi.spyOn(globalThis, 'fetch')
      try {
        const client = new ExportClient({ baseUrl: h.url, token: a.owner, limit: 50 })
        const pages = client.pages('chats', { fields: 'chats(*)' })
        const first = await pages.next()
        await pages.return(undefined)
        expect(first.value?.items).toEqual(JSON.parse(identity.body.toString('utf8')).chats)
        const headers = new Headers(spy.mock.calls[0]?.[1]?.headers)
        expect(headers.get('accept-encoding')).toBe('br, gzip')
      } finally {
        spy.mockRestore()
      }
    })

    it('--compression gzip never uses brotli; off never compresses', async () => {
      for (const [mode, offer, expected] of [
        ['gzip', 'br, gzip', 'gzip'],
        ['gzip', 'br', undefined],
        ['off', 'br, gzip', undefined],
      ] as const) {
        const other = await startHarness({ backend, config: { compression: mode } })
        try {
          const b = await other.account('compression-mode')
          const chats = syntheticChats(60, Date.UTC(2026, 10, 1) * 1000, 3)
          await other.importLines(b.readWrite, 'chats', chats)
          const res = await rawGet(`${other.url}${PAGE}`, {
            authorization: `Bearer ${b.owner}`,
            'accept-encoding': offer,
          })
          expect(res.headers['content-encoding'], `${mode} / ${offer}`).toBe(expected)
          expect(res.headers['vary']).toMatch(/accept-encoding/i)
        } finally {
          await other.close()
        }
      }
    })
  })
}

describe('negotiateEncoding', () => {
  it('takes the highest q among the codings the mode allows, brotli on a tie', () => {
    expect(negotiateEncoding('gzip, br', 'br')).toBe('br')
    expect(negotiateEncoding('br;q=0.5, gzip', 'br')).toBe('gzip')
    expect(negotiateEncoding('GZIP;Q=0.8', 'br')).toBe('gzip')
    expect(negotiateEncoding('*', 'br')).toBe('br')
    expect(negotiateEncoding('*;q=0.5, br;q=0', 'br')).toBe('gzip')
    expect(negotiateEncoding('br', 'gzip')).toBe('identity')
    expect(negotiateEncoding('br, gzip', 'off')).toBe('identity')
    expect(negotiateEncoding(undefined, 'br')).toBe('identity')
    expect(negotiateEncoding('gzip;q=abc', 'br')).toBe('identity')
  })
})
