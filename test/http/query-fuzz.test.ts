/**
 * Fuzzing the export parameters (reliability-notes §7.5): whatever a client sends, the answer is a
 * 200 page or a 400 with the error shape; never a 5xx, a stack trace or SQL; and a 200's next_page
 * round-trips to a valid request.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Harness, TestAccount } from '../support/harness.js'
import { exampleItems, startHarness } from '../support/harness.js'

const nasty = fc.oneof(
  fc.string(),
  fc.constantFrom(
    "' OR 1=1--",
    '%',
    '_',
    '\u0000',
    '9'.repeat(40),
    '-0',
    '1e3',
    '0x10',
    'NaN',
    'Infinity',
    '1608615725.',
    '.5',
    'chats(',
    'chats()',
    'chats(*,id)',
    'chats(id)(rating)',
    'chats(engagements(id,rating))',
    'chats(a.b.c.d.e.f.g)',
    'x'.repeat(3000),
    '__proto__',
    'chats(__proto__)',
    'chats(constructor)',
  ),
  fc.integer().map(String),
  fc.double().map(String),
)

describe('query fuzzing', () => {
  let h: Harness
  let a: TestAccount
  beforeAll(async () => {
    h = await startHarness()
    a = await h.account('fuzz')
    await h.importLines(a.readWrite, 'chats', exampleItems('chats'), true)
    await h.importLines(a.readWrite, 'agent_timeline', exampleItems('agent_timeline'), true)
  })
  afterAll(() => h.close())

  it('answers every parameter combination with 200 or a clean 400', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          'chats',
          'agent_timeline',
          'conversions',
          'department_events',
          'agent_events',
        ),
        fc.dictionary(
          fc.constantFrom('start_time', 'start_id', 'limit', 'fields', 'other'),
          nasty,
          {
            maxKeys: 4,
          },
        ),
        async (stream, params) => {
          const query = new URLSearchParams(params).toString()
          const res = await h.get(`/api/v2/chat/incremental/${stream}?${query}`, a.owner)
          const text = await res.text()
          expect([200, 400], text).toContain(res.status)
          const body = JSON.parse(text)
          expect(text).not.toMatch(/\bat .+\.(ts|js):\d+|SELECT |sqlite|node_modules/i)
          if (res.status === 400) {
            expect(body.error).toBe('Bad Request')
            expect(typeof body.description).toBe('string')
          } else {
            expect(body.count).toBe(body[stream].length)
            const next = await h.get(
              new URL(body.next_page).pathname + new URL(body.next_page).search,
              a.owner,
            )
            expect(next.status).toBe(200)
          }
        },
      ),
      { numRuns: 300 },
    )
  })
})
