import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ExportClient } from '../../src/client/index.js'
import { readJsonlStream, runSync, showSyncState } from '../../src/sync/index.js'
import { exampleItems, startHarness } from '../support/harness.js'

const STREAMS = ['chats', 'conversions', 'department_events', 'agent_timeline'] as const

// Page size per stream. agent_timeline is read in one page: spans of one agent imported in one
// transaction share (position, agent_id), so the server cannot page between them (reported).
const LIMIT: Record<(typeof STREAMS)[number], number> = {
  chats: 1,
  conversions: 1,
  department_events: 1,
  agent_timeline: 1000,
}

describe('client and sync against the real chat-export server', () => {
  it('pages every example stream and syncs it into JSONL', async () => {
    const h = await startHarness()
    const dir = mkdtempSync(join(tmpdir(), 'chat-export-real-'))
    try {
      const account = await h.account('acme')
      for (const stream of STREAMS) {
        const res = await h.importLines(account.readWrite, stream, exampleItems(stream))
        expect(res.status, stream).toBeLessThan(300)
      }
      for (const stream of STREAMS) {
        const client = new ExportClient({
          baseUrl: h.url,
          token: account.owner,
          limit: LIMIT[stream],
        })
        const pages = []
        for await (const page of client.pages(stream)) pages.push(page)
        const ids = pages.flatMap((p) =>
          p.items.map((i) => i.id ?? `${String(i.agent_id)}@${String(i.start_time)}`),
        )
        expect(new Set(ids).size, stream).toBe(exampleItems(stream).length)
        expect(ids.length, stream).toBe(exampleItems(stream).length)
        expect(pages.at(-1)!.caughtUp).toBe(true)
      }
      for (const stream of STREAMS) {
        await runSync({
          from: h.url,
          token: account.owner,
          to: `jsonl:${dir}`,
          streams: [stream],
          client: { limit: LIMIT[stream] },
        })
        expect(readJsonlStream(dir, stream).size, stream).toBe(exampleItems(stream).length)
      }
      const states = await showSyncState(`jsonl:${dir}`)
      expect(states.every((s) => s.cursor?.nextPage.startsWith(h.url))).toBe(true)
    } finally {
      await h.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
