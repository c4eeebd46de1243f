/**
 * The quick start: `serve --demo` prints a token and a curl line; the line works, the data looks
 * like the reference's, new activity arrives within seconds at any hour, no item is ever stamped
 * ahead of the wall clock at any speed, and restarts keep one live demo token.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import pino from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { loadServeConfig } from '../../src/config/config.js'
import { systemClock, type Clock } from '../../src/domain/clock.js'
import { parseIso } from '../../src/domain/time.js'
import { startDemo } from '../../src/server/demo.js'
import { startServer } from '../../src/server/start-server.js'
import { runCli, startCli } from '../support/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'chat-export-demo-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const HOUR = 3_600_000_000

/** The system clock moved to 03:00 UTC today (night for the UTC business of old demos). */
function nightClock(): Clock {
  const wall = systemClock()
  const now = wall.now()
  const night = now - (now % (24 * HOUR)) + 3 * HOUR
  return { now: () => wall.now() - now + night }
}

/** Pages a stream from the start to its end; returns every item and the next_page to poll. */
async function catchUp(origin: string, auth: Record<string, string>, stream = 'chats') {
  const items: Record<string, unknown>[] = []
  let next = `${origin}/api/v2/chat/incremental/${stream}?limit=1000`
  for (let i = 0; i < 200; i++) {
    const p = (await (await fetch(next, { headers: auth })).json()) as {
      count: number
      next_page: string
      [stream: string]: unknown
    }
    items.push(...(p[stream] as Record<string, unknown>[]))
    next = p.next_page
    if (p.count < 1000) break
  }
  return { items, next }
}

describe('serve --demo', () => {
  it('at a night hour: new and changed chats within 10 s of start', async () => {
    const clock = nightClock()
    const logger = pino({ level: 'silent' })
    const config = loadServeConfig(
      { demo: true, store: `sqlite:${join(dir, 'night.db')}`, port: '0', logLevel: 'silent' },
      {},
    )
    const server = await startServer(config, { clock, logger })
    const out = new PassThrough()
    const demo = await startDemo(server, config, { clock, logger, out })
    const started = Date.now()
    try {
      const auth = { authorization: `Bearer ${demo.token}` }
      let { next } = await catchUp(server.url, auth)
      let fresh = 0
      while (fresh === 0 && Date.now() - started < 10_000) {
        await new Promise((r) => setTimeout(r, 500))
        const p = (await (await fetch(next, { headers: auth })).json()) as {
          count: number
          next_page: string
        }
        fresh = p.count
        next = p.next_page
      }
      expect(fresh, 'chats changed within 10 s at 03:00 UTC').toBeGreaterThan(0)
    } finally {
      demo.stop()
      await server.close()
    }
  }, 60_000)

  it('prints a working curl line, stays live, never stamps the future at --speed 60', async () => {
    const store = `sqlite:${join(dir, 'demo.db')}`
    const args = ['serve', '--demo', '--store', store, '--port', '0', '--log-level', 'warn']
    const server = startCli([...args, '--speed', '60'])
    try {
      const [, token, url] = await server.waitFor(
        /curl -H "Authorization: Bearer (cxp_[^"]+)" "([^"]+)"/,
        60_000,
      )
      const auth = { authorization: `Bearer ${token}` }
      const res = await fetch(url!, { headers: auth })
      expect(res.status).toBe(200)
      const page = await res.json()
      expect(page.count).toBe(2)
      for (const chat of page.chats) {
        expect(chat.id).toMatch(/^\d{4}\.9339545\.[0-9A-Za-z]{13}$/)
        expect(chat.update_timestamp).toMatch(/Z$/)
        expect(['chat', 'offline_msg']).toContain(chat.type)
      }
      const origin = new URL(url!).origin
      let { next } = await catchUp(origin, auth)
      let fresh = 0
      for (let i = 0; i < 40 && fresh === 0; i++) {
        await new Promise((r) => setTimeout(r, 500))
        const p = await (await fetch(next, { headers: auth })).json()
        fresh = p.count
        next = p.next_page
      }
      expect(fresh).toBeGreaterThan(0)
      // Let the sped-up demo run a while, then check every stamp against the wall clock.
      await new Promise((r) => setTimeout(r, 3000))
      const asOf = Date.now() * 1000
      const { items } = await catchUp(origin, auth)
      expect(items.length).toBeGreaterThan(100)
      for (const chat of items) {
        for (const key of ['timestamp', 'update_timestamp', 'end_timestamp']) {
          const value = chat[key]
          if (typeof value === 'string') {
            expect(parseIso(value) ?? 0, `${String(chat.id)} ${key} ${value}`).toBeLessThanOrEqual(
              asOf,
            )
          }
        }
      }
      for (const stream of ['agent_timeline', 'agent_events', 'department_events', 'conversions']) {
        const p = await (
          await fetch(`${origin}/api/v2/chat/incremental/${stream}`, { headers: auth })
        ).json()
        expect(p.count, stream).toBeGreaterThan(0)
      }
    } finally {
      expect(await server.stop()).toBe(0)
    }
    // A restart revokes the previous demo token: `tokens list` shows one active demo token.
    const again = startCli(args)
    try {
      await again.waitFor(/curl -H "Authorization: Bearer (cxp_[^"]+)"/, 60_000)
    } finally {
      expect(await again.stop()).toBe(0)
    }
    const list = await runCli(['tokens', 'list', '--account', 'demo', '--store', store])
    const demoRows = list.stdout.split('\n').filter((line) => line.endsWith('\tdemo'))
    expect(demoRows).toHaveLength(2)
    expect(demoRows.filter((line) => line.includes('\tactive\t'))).toHaveLength(1)
    expect(demoRows.filter((line) => line.includes('\trevoked\t'))).toHaveLength(1)
  }, 120_000)
})
