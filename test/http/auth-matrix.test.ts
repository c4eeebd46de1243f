/**
 * The authorisation matrix (reliability-notes §7.6): every export stream, both path shapes, every
 * kind of credential; and a token of one account never reads another account's data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/domain/clock.js'
import { STREAM_NAMES } from '../../src/domain/streams.js'
import type { Harness, TestAccount } from '../support/harness.js'
import { exampleItems, startHarness } from '../support/harness.js'

describe('authorisation matrix', () => {
  const clock = new ManualClock(Date.UTC(2026, 10, 27, 12) * 1000)
  let h: Harness
  let a: TestAccount
  let b: TestAccount
  const tokens: Record<string, string> = {}

  beforeAll(async () => {
    h = await startHarness({ clock })
    a = await h.account('alpha')
    b = await h.account('beta')
    for (const stream of ['chats', 'agent_timeline', 'conversions', 'department_events'] as const) {
      expect((await h.importLines(b.readWrite, stream, exampleItems(stream), true)).status).toBe(
        200,
      )
    }
    tokens.owner = a.owner
    tokens.administrator = a.admin
    tokens.agent = a.agent
    tokens['write scope only'] = a.writeOnly
    tokens.revoked = await h.token(a.id, 'owner', ['read'])
    const revoked = (await h.store.listTokens(a.id)).at(-1)!
    await h.store.revokeToken(a.id, revoked.id, clock.now())
    tokens.expired = await h.token(a.id, 'owner', ['read'], 1)
    clock.advance(2)
    tokens.malformed = 'not-a-token'
    tokens['wrong secret'] = a.owner.slice(0, 17) + 'x'.repeat(43)
  })
  afterAll(() => h.close())

  const expected: Record<string, number> = {
    owner: 200,
    administrator: 200,
    agent: 403,
    'write scope only': 403,
    revoked: 401,
    expired: 401,
    malformed: 401,
    'wrong secret': 401,
    none: 401,
  }

  for (const prefix of ['/api/v2/chat/incremental', '/api/v2/incremental']) {
    for (const stream of STREAM_NAMES) {
      it(`${prefix}/${stream}`, async () => {
        for (const [who, status] of Object.entries(expected)) {
          const res = await h.get(`${prefix}/${stream}?fields=${stream}(*)`, tokens[who])
          expect(res.status, who).toBe(status)
          const body = await res.json()
          // Account alpha has no data at all: a 200 must never show beta's items.
          if (status === 200) expect(body.count, who).toBe(0)
        }
      })
    }
  }

  it('the other account sees its own data', async () => {
    const page = await h.getJson('/api/v2/chat/incremental/chats', b.owner)
    expect(page.count).toBe(2)
  })

  it("a cursor taken from one account's next_page reads nothing of it with another account's token", async () => {
    const page = await h.getJson('/api/v2/chat/incremental/chats?limit=1', b.owner)
    const stolen = await h.getJson(
      new URL(page.next_page).pathname + new URL(page.next_page).search,
      a.owner,
    )
    expect(stolen.count).toBe(0)
  })
})
