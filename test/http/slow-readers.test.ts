/**
 * Slow readers cannot grow memory without bound (issue 13, finding 5): a reader that stops reading
 * is dropped after the send timeout, and while a big page waits for a reader, another big page is
 * refused with 503 OVERLOADED and Retry-After instead of being built alongside it.
 */
import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Harness, TestAccount } from '../support/harness.js'
import { exampleItems, startHarness } from '../support/harness.js'

const PAGE = '/api/v2/chat/incremental/chats?fields=chats(*)&limit=1000'

/** Opens a raw GET that never reads its response (the socket stays paused). */
function stalledReader(url: string, token: string): Promise<Socket> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => {
      socket.pause()
      socket.write(
        `GET ${PAGE} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${token}\r\n\r\n`,
      )
      resolve(socket)
    })
  })
}

describe('slow readers', () => {
  let h: Harness
  let a: TestAccount
  let pageBytes = 0
  beforeAll(async () => {
    h = await startHarness({
      config: {
        limits: { sendTimeoutSeconds: 1, maxBytesInFlight: 1024, overloadRetryAfterSeconds: 2 },
      },
    })
    a = await h.account('slow')
    const template = exampleItems('chats')[0]!
    // ~24 MB of chats: more than loopback socket buffers can swallow, so the page stays in flight.
    const items = Array.from({ length: 240 }, (_, i) => ({
      ...template,
      id: `2611.9339545.SLOW${String(i).padStart(8, '0')}`,
      comment: 'x'.repeat(100_000),
    }))
    const res = await h.importLines(a.readWrite, 'chats', items)
    expect(res.status, await res.clone().text()).toBe(200)
    const page = await h.get(PAGE, a.owner)
    pageBytes = (await page.arrayBuffer()).byteLength
    expect(pageBytes).toBeGreaterThan(20_000_000)
  })
  afterAll(() => h.close())

  it('refuses a second big page with 503 and Retry-After while the first is unsent', async () => {
    const stalled = await stalledReader(h.url, a.owner)
    try {
      await new Promise((r) => setTimeout(r, 300))
      const res = await h.get(PAGE, a.owner)
      const text = await res.text()
      expect(res.status, text).toBe(503)
      expect(res.headers.get('retry-after')).toBe('2')
      expect(JSON.parse(text)).toMatchObject({ error: 'Service Unavailable' })
      // Small answers that hold no page are not affected.
      expect((await h.get('/healthz')).status).toBe(200)
    } finally {
      stalled.destroy()
    }
  })

  it('drops a reader that does not read for the send timeout, and frees its bytes', async () => {
    const stalled = await stalledReader(h.url, a.owner)
    const closed = new Promise<number>((resolve) => {
      const started = Date.now()
      stalled.on('close', () => resolve(Date.now() - started))
      stalled.on('error', () => {})
    })
    await new Promise((r) => setTimeout(r, 2500))
    // Read what the kernel buffered: the server's side is gone, so the stream ends short.
    let received = 0
    stalled.on('data', (c: Buffer) => (received += c.length))
    stalled.resume()
    const ms = await closed
    expect(ms).toBeLessThan(10_000)
    expect(received).toBeLessThan(pageBytes)
    // The dropped page no longer counts: the next big page is served in full.
    const res = await h.get(PAGE, a.owner)
    expect(res.status).toBe(200)
    expect((await res.arrayBuffer()).byteLength).toBe(pageBytes)
  })

  it('keeps a reader that is slow but steady', async () => {
    const { hostname, port } = new URL(h.url)
    const socket = connect(Number(port), hostname)
    let received = 0
    const done = new Promise<void>((resolve) => socket.on('close', () => resolve()))
    socket.on('connect', () => {
      socket.write(
        `GET ${PAGE} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${a.owner}\r\nConnection: close\r\n\r\n`,
      )
    })
    // Pause for 0.4 s after every 4 MB read: never idle for the 1 s timeout, still slower than loopback.
    let sincePause = 0
    socket.on('data', (c: Buffer) => {
      received += c.length
      sincePause += c.length
      if (sincePause > 4_000_000) {
        sincePause = 0
        socket.pause()
        setTimeout(() => socket.resume(), 400)
      }
    })
    await done
    expect(received).toBeGreaterThan(pageBytes)
  })
})
