/**
 * Two `chat-export serve` processes on one PostgreSQL database: events are posted to both in turn
 * while one client follows next_page, hopping between the servers on every page. Every chat's
 * latest version arrives, no version arrives twice, and both servers agree.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { IngestEvent } from '../../src/domain/events.js'
import { parseIso } from '../../src/domain/time.js'
import { createDirectory } from '../../src/simulate/directory.js'
import { simulate } from '../../src/simulate/simulate-day.js'
import type { LongRunning } from '../support/cli.js'
import { runCli, startCli } from '../support/cli.js'
import { freshPostgresUrl, postgresTestServerAvailable } from '../support/postgres.js'

describe.skipIf(!postgresTestServerAvailable())('several servers on one PostgreSQL', () => {
  const servers: LongRunning[] = []
  const urls: string[] = []
  let token = ''

  beforeAll(async () => {
    const store = await freshPostgresUrl()
    expect((await runCli(['accounts', 'create', 'shared', '--store', store])).code).toBe(0)
    const created = await runCli([
      'tokens',
      'create',
      '--account',
      'shared',
      '--role',
      'owner',
      '--scopes',
      'read write',
      '--store',
      store,
    ])
    token = created.stdout.trim()
    for (let i = 0; i < 2; i++) {
      const server = startCli(['serve', '--store', store, '--port', '0', '--log-level', 'warn'])
      servers.push(server)
      urls.push((await server.waitFor(/listening on (http:\/\/\S+)/))[1]!)
    }
  }, 60_000)

  afterAll(async () => {
    for (const s of servers) await s.stop()
  })

  it('loses and repeats nothing while writes and reads hop between servers', async () => {
    const auth = { authorization: `Bearer ${token}` }
    const directory = createDirectory({ seed: 5, accountNumber: 9339545, agents: 4 })
    const start = parseIso('2026-11-24T08:00:00Z')!
    const events: IngestEvent[] = [
      ...simulate({ seed: 5, directory, start, end: start + 3 * 3_600_000_000, drain: true }),
    ]
    const seen = new Set<string>()
    const latestSeen = new Map<string, string>()
    let next = `${urls[0]}/api/v2/chat/incremental/chats?fields=chats(id,update_timestamp)&limit=50`
    let hop = 0
    const readPage = async () => {
      // Follow next_page on the other server each time: the cursor is the database's, not a process's.
      const url = new URL(next)
      const base = new URL(urls[hop++ % 2]!)
      url.host = base.host
      const page = await (await fetch(url, { headers: auth })).json()
      for (const chat of page.chats as Array<{ id: string; update_timestamp: string }>) {
        const version = `${chat.id}@${chat.update_timestamp}`
        expect(seen.has(version), `seen twice: ${version}`).toBe(false)
        seen.add(version)
        latestSeen.set(chat.id, chat.update_timestamp)
      }
      next = page.next_page
      return page.count as number
    }
    for (let i = 0; i < events.length; i += 40) {
      const res = await fetch(`${urls[(i / 40) % 2]}/api/chat-export/v1/events`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify(events.slice(i, i + 40)),
      })
      expect(res.status, await res.clone().text()).toBe(200)
      await readPage()
    }
    while ((await readPage()) === 50);

    // The complete state, read from each server, equals the latest versions the client saw.
    for (const base of urls) {
      const all = new Map<string, string>()
      let url = `${base}/api/v2/chat/incremental/chats?fields=chats(id,update_timestamp)`
      for (;;) {
        const page = await (await fetch(url, { headers: auth })).json()
        for (const chat of page.chats) all.set(chat.id, chat.update_timestamp)
        url = page.next_page
        if (page.count < 1000) break
      }
      expect(all.size).toBeGreaterThan(10)
      expect(new Map([...latestSeen].sort())).toEqual(new Map([...all].sort()))
    }
  }, 120_000)
})
