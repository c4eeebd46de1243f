/**
 * The quick start: `serve --demo` prints a token and a curl line; the line works, the data looks
 * like the reference's, and new activity keeps arriving while the client polls next_page.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { startCli } from '../support/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'chat-export-demo-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('serve --demo', () => {
  it('prints a working curl line and stays live', async () => {
    const server = startCli([
      'serve',
      '--demo',
      '--store',
      `sqlite:${join(dir, 'demo.db')}`,
      '--port',
      '0',
      '--speed',
      '3600',
      '--log-level',
      'warn',
    ])
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
      // Catch up, then poll: simulated activity (an hour per second, so whatever the hour of day business hours come soon) brings new changes.
      let next = `${new URL(url!).origin}/api/v2/chat/incremental/chats?limit=1000`
      for (let i = 0; i < 100; i++) {
        const p = await (await fetch(next, { headers: auth })).json()
        next = p.next_page
        if (p.count < 1000) break
      }
      let fresh = 0
      for (let i = 0; i < 40 && fresh === 0; i++) {
        await new Promise((r) => setTimeout(r, 500))
        const p = await (await fetch(next, { headers: auth })).json()
        fresh = p.count
        next = p.next_page
      }
      expect(fresh).toBeGreaterThan(0)
      for (const stream of ['agent_timeline', 'agent_events', 'department_events', 'conversions']) {
        const p = await (
          await fetch(`${new URL(url!).origin}/api/v2/chat/incremental/${stream}`, {
            headers: auth,
          })
        ).json()
        expect(p.count, stream).toBeGreaterThan(0)
      }
    } finally {
      expect(await server.stop()).toBe(0)
    }
  }, 120_000)
})
