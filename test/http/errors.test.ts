/**
 * Every error row of semantics.md §6, over real HTTP: status, Werkzeug-shaped body, headers, and a
 * description that says what was wrong. Never a stack trace or SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/domain/clock.js'
import { parseIso } from '../../src/domain/time.js'
import type { Harness, TestAccount } from '../support/harness.js'
import { exampleItems, startHarness } from '../support/harness.js'

const NOW = parseIso('2026-11-27T12:00:00Z')!

async function expectError(res: Response, status: number, reason: string, mentions?: RegExp) {
  const text = await res.text()
  expect(res.status, text).toBe(status)
  expect(res.headers.get('content-type')).toMatch(/application\/json/)
  const body = JSON.parse(text)
  expect(Object.keys(body).sort()).toEqual(
    body.details === undefined ? ['description', 'error'] : ['description', 'details', 'error'],
  )
  expect(body.error).toBe(reason)
  expect(typeof body.description).toBe('string')
  expect(body.description.length).toBeGreaterThan(10)
  expect(text).not.toMatch(/\bat .+\.(ts|js):\d+|SELECT |INSERT |sqlite|node_modules/i)
  if (mentions) expect(body.description).toMatch(mentions)
  return body
}

describe('errors over HTTP', () => {
  let h: Harness
  let a: TestAccount
  const clock = new ManualClock(NOW)

  beforeAll(async () => {
    h = await startHarness({ clock, config: { rateLimitPerMinute: 0 } })
    a = await h.account('errors')
    expect((await h.importLines(a.readWrite, 'chats', exampleItems('chats'), true)).status).toBe(
      200,
    )
  })
  afterAll(() => h.close())

  const chats = '/api/v2/chat/incremental/chats'
  const timeline = '/api/v2/chat/incremental/agent_timeline'

  describe('400', () => {
    it.each([
      ['abc', /start_time/],
      ['-5', /start_time/],
      ['1e9', /start_time/],
      ['12.3.4', /start_time/],
      ['1608615725.1234567', /start_time/],
    ])('malformed start_time %s', async (value, mentions) => {
      await expectError(
        await h.get(`${chats}?start_time=${value}`, a.owner),
        400,
        'Bad Request',
        mentions,
      )
    })

    it('microseconds on a seconds stream names the unit', async () => {
      await expectError(
        await h.get(`${chats}?start_time=1608615725000000`, a.owner),
        400,
        'Bad Request',
        /seconds/,
      )
    })

    it('milliseconds on a seconds stream names the unit', async () => {
      await expectError(
        await h.get(`${chats}?start_time=1608615725000`, a.owner),
        400,
        'Bad Request',
        /seconds/,
      )
    })

    it('seconds on agent_timeline names the unit', async () => {
      await expectError(
        await h.get(`${timeline}?start_time=1546326000`, a.owner),
        400,
        'Bad Request',
        /microseconds/,
      )
    })

    it('a fraction on agent_timeline', async () => {
      await expectError(
        await h.get(`${timeline}?start_time=1546326000000000.5`, a.owner),
        400,
        'Bad Request',
      )
    })

    it('start_time in the future', async () => {
      await expectError(
        await h.get(`${chats}?start_time=${NOW / 1e6 + 3600}`, a.owner),
        400,
        'Bad Request',
        /future/,
      )
    })

    it('a non-numeric start_id on agent_timeline', async () => {
      await expectError(
        await h.get(`${timeline}?start_time=1525010407403712&start_id=abc`, a.owner),
        400,
        'Bad Request',
        /start_id/,
      )
    })

    it.each(['0', '-1', '1.5', 'ten'])('limit=%s', async (value) => {
      await expectError(
        await h.get(`${chats}?limit=${value}`, a.owner),
        400,
        'Bad Request',
        /limit/,
      )
    })

    it('fields naming another resource', async () => {
      await expectError(
        await h.get(`${chats}?fields=conversions(*)`, a.owner),
        400,
        'Bad Request',
        /chats/,
      )
    })

    it('fields naming unknown attributes names them', async () => {
      await expectError(
        await h.get(`${chats}?fields=chats(id,ratting,response_time.maximum)`, a.owner),
        400,
        'Bad Request',
        /ratting/,
      )
    })

    it('fields with unbalanced parentheses', async () => {
      await expectError(
        await h.get(`${chats}?fields=chats(id`, a.owner),
        400,
        'Bad Request',
        /fields/,
      )
    })
  })

  describe('400 too recent with --min-start-age', () => {
    it('refuses a client-chosen start_time younger than the minimum age', async () => {
      const h2 = await startHarness({ clock, config: { minStartAgeSeconds: 300 } })
      try {
        const b = await h2.account('recent')
        await expectError(
          await h2.get(`${chats}?start_time=${NOW / 1e6 - 60}`, b.owner),
          400,
          'Bad Request',
          /older than 300 seconds|300/,
        )
        const ok = await h2.get(`${chats}?start_time=${NOW / 1e6 - 600}`, b.owner)
        expect(ok.status).toBe(200)
      } finally {
        await h2.close()
      }
    })
  })

  describe('401', () => {
    it('no token', async () => {
      const res = await h.get(chats)
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
      await expectError(res, 401, 'Unauthorized', /Authorization: Bearer/)
    })

    it('not a bearer header', async () => {
      await expectError(
        await h.get(chats, undefined, { authorization: 'Basic dXNlcjpwYXNz' }),
        401,
        'Unauthorized',
      )
    })

    it('unknown token', async () => {
      const fake = 'cxp_AAAAAAAAAAAA_' + 'B'.repeat(43)
      await expectError(await h.get(chats, fake), 401, 'Unauthorized', /not known/)
    })

    it('a token with a known prefix but a wrong secret', async () => {
      const forged = a.owner.slice(0, 17) + 'C'.repeat(43)
      await expectError(await h.get(chats, forged), 401, 'Unauthorized')
    })

    it('revoked token', async () => {
      const tok = await h.token(a.id, 'owner', ['read'])
      expect((await h.get(chats, tok)).status).toBe(200)
      const tokens = await h.store.listTokens(a.id)
      const record = tokens.at(-1)!
      await h.store.revokeToken(a.id, record.id, clock.now())
      await expectError(await h.get(chats, tok), 401, 'Unauthorized', /revoked/)
    })

    it('expired token', async () => {
      const tok = await h.token(a.id, 'owner', ['read'], 60_000_000)
      expect((await h.get(chats, tok)).status).toBe(200)
      clock.advance(61_000_000)
      await expectError(await h.get(chats, tok), 401, 'Unauthorized', /expired/)
    })
  })

  describe('403', () => {
    it('agent role', async () => {
      await expectError(await h.get(chats, a.agent), 403, 'Forbidden', /owner and administrator/)
    })

    it('administrator may read', async () => {
      expect((await h.get(chats, a.admin)).status).toBe(200)
    })

    it('a token without the read scope', async () => {
      await expectError(await h.get(chats, a.writeOnly), 403, 'Forbidden', /read/)
    })

    it('import needs the write scope', async () => {
      await expectError(
        await h.importLines(a.owner, 'chats', exampleItems('chats')),
        403,
        'Forbidden',
        /write/,
      )
    })
  })

  describe('404 and 405', () => {
    it('unknown path', async () => {
      await expectError(await h.get('/api/v2/chat/nothing-here', a.owner), 404, 'Not Found')
    })

    it('unknown stream names the real ones', async () => {
      await expectError(
        await h.get('/api/v2/chat/incremental/tickets', a.owner),
        404,
        'Not Found',
        /agent_timeline/,
      )
    })

    it('wrong method', async () => {
      const res = await fetch(`${h.url}${chats}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${a.owner}` },
      })
      expect(res.headers.get('allow')).toMatch(/GET/)
      await expectError(res, 405, 'Method Not Allowed')
    })
  })

  describe('429', () => {
    it('over the rate limit, with an integer Retry-After', async () => {
      const h3 = await startHarness({ clock, config: { rateLimitPerMinute: 3 } })
      try {
        const b = await h3.account('limited')
        for (let i = 0; i < 3; i++) expect((await h3.get(chats, b.owner)).status).toBe(200)
        const res = await h3.get(chats, b.owner)
        expect(res.headers.get('retry-after')).toMatch(/^\d+$/)
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
        await expectError(res, 429, 'Too Many Requests')
        // Another account has its own budget.
        const c = await h3.account('other')
        expect((await h3.get(chats, c.owner)).status).toBe(200)
      } finally {
        await h3.close()
      }
    })
  })
})
