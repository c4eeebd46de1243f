/**
 * Property: for any interleaving of writes (new items, updates, many items per transaction) and
 * reads that follow next_page with any limits, a client sees every item's latest version, never
 * the same version twice, and the cursor only moves forward. Runs the real export page builder
 * over a real SQLite store.
 */
import fc from 'fast-check'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/domain/clock.js'
import { parseExportQuery } from '../../src/domain/export-query.js'
import { streamSpec } from '../../src/domain/streams.js'
import { buildExportPage } from '../../src/export/export-page.js'
import { importItems, prepareLines } from '../../src/ingest/import-items.js'
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { exampleItems } from '../support/harness.js'

const BASE_CHAT = exampleItems('chats')[0]!

type Op = { kind: 'write'; keys: number[]; clockStep: number } | { kind: 'read'; limit: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('write' as const),
    keys: fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 6 }),
    // 0: the clock did not move (ties resolved by last + 1); negative: it stepped back.
    clockStep: fc.integer({ min: -2_000_000, max: 2_000_000 }),
  }),
  fc.record({ kind: fc.constant('read' as const), limit: fc.integer({ min: 1, max: 7 }) }),
)

describe('cursor property', () => {
  it('following next_page is complete, duplicate-free and monotonic', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cursor-prop-'))
    let run = 0
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
          const clock = new ManualClock(1_700_000_000_000_000)
          const store = await openSqliteStore({ path: join(dir, `p${run++}.db`), clock })
          await store.migrate()
          try {
            const account = await store.createAccount('prop')
            const spec = streamSpec('chats')
            const latest = new Map<string, string>() // key → version tag last written
            const seen = new Set<string>() // key@version seen by the client
            const seenLatest = new Map<string, string>()
            let url = new URL(
              'http://x/api/v2/chat/incremental/chats?fields=chats(id,tags)&limit=1',
            )
            let lastCursor: [number, string] = [-1, '']
            let version = 0

            const read = async (limit: number) => {
              url.searchParams.set('limit', String(limit))
              const query = parseExportQuery(spec, url.searchParams, {
                now: clock.now(),
                lastPosition: await store.lastPosition(account.id),
                minStartAgeMicros: 0,
              })
              const page = await buildExportPage({
                store,
                accountId: account.id,
                spec,
                query,
                requestUrl: url,
              })
              const body = JSON.parse(page.body.toString('utf8'))
              for (const chat of body.chats as Array<{ id: string; tags: string[] }>) {
                const tag = `${chat.id}@${chat.tags[0]}`
                expect(seen.has(tag), `version seen twice: ${tag}`).toBe(false)
                seen.add(tag)
                seenLatest.set(chat.id, chat.tags[0]!)
              }
              const position = Math.round(Number(body.end_time) * 1e6)
              const cursor: [number, string] = [position, body.end_id]
              const forward =
                cursor[0] > lastCursor[0] ||
                (cursor[0] === lastCursor[0] && cursor[1] >= lastCursor[1])
              expect(forward, 'cursor moved backwards').toBe(true)
              lastCursor = cursor
              url = new URL(body.next_page)
              return body.count as number
            }

            for (const o of ops) {
              if (o.kind === 'write') {
                clock.advance(o.clockStep)
                const lines = o.keys.map((k) => {
                  const tag = `v${version++}`
                  latest.set(`2611.1.k${k}`, tag)
                  // A whole chat (import validates every attribute), told apart by its tag.
                  return JSON.stringify({ ...BASE_CHAT, id: `2611.1.k${k}`, tags: [tag] })
                })
                // Within one transaction a key written twice keeps its last version.
                await importItems(store, account.id, 'chats', prepareLines('chats', lines), {
                  preserveTimestamps: false,
                  now: clock.now(),
                })
              } else {
                await read(o.limit)
              }
            }
            // Catch up.
            for (let i = 0; i < 200 && (await read(7)) === 7; i++);
            for (const [key, tag] of latest) expect(seenLatest.get(key), key).toBe(tag)
          } finally {
            await store.close()
          }
        }),
        { numRuns: 60 },
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
