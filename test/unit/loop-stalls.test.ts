import { describe, expect, it } from 'vitest'
import pino from 'pino'
import { Writable } from 'node:stream'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createInFlightRequests,
  watchLoopStalls,
  type LoopStall,
} from '../../src/observability/loop-stalls.js'
import { createApp } from '../../src/http/app.js'
import { openStore } from '../../src/store/open-store.js'
import { systemClock } from '../../src/domain/clock.js'

/** Holds the event loop for `ms`, as a synchronous transaction or a big parse would. */
function holdLoop(ms: number): void {
  const until = performance.now() + ms
  while (performance.now() < until) {
    // busy
  }
}

const nextTick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('event-loop stall reports', () => {
  it('names the requests in flight and those that finished during the stall', async () => {
    const inFlight = createInFlightRequests()
    const stalls: LoopStall[] = []
    const stop = watchLoopStalls({
      thresholdMs: 80,
      intervalMs: 10,
      inFlight,
      onStall: (s) => stalls.push(s),
    })
    try {
      const waiting = inFlight.begin('GET', '/api/v2/chat/agents', undefined)
      await nextTick(30)
      const guilty = inFlight.begin('POST', '/api/chat-export/v1/import/chats', 5_000_000)
      holdLoop(150)
      guilty()
      await nextTick(40)
      waiting()
      expect(stalls).toHaveLength(1)
      const [stall] = stalls
      expect(stall?.blockedMs).toBeGreaterThanOrEqual(80)
      // A busy loop: the process spent CPU for much of the stall (not starved, not waiting).
      expect(stall?.cpuMs).toBeGreaterThan(40)
      expect(stall?.gcMs).toBeGreaterThanOrEqual(0)
      expect(stall?.inFlight).toEqual([
        expect.stringMatching(/^GET \/api\/v2\/chat\/agents \(\d+ ms\)$/),
        expect.stringMatching(
          /^POST \/api\/chat-export\/v1\/import\/chats \(5000000 B, \d+ ms, finished\)$/,
        ),
      ])
      // Finished requests are forgotten after the tick that could name them.
      await nextTick(40)
      expect(inFlight.describe(performance.now(), 0)).toEqual([])
    } finally {
      stop()
    }
  })

  it('reports nothing while the loop keeps up', async () => {
    const stalls: LoopStall[] = []
    const stop = watchLoopStalls({
      thresholdMs: 200,
      intervalMs: 10,
      inFlight: createInFlightRequests(),
      onStall: (s) => stalls.push(s),
    })
    await nextTick(100)
    stop()
    expect(stalls).toEqual([])
  })

  it('the app registers each request (method and path, never the query) while it runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stalls-'))
    const store = await openStore(`sqlite:${join(dir, 'a.db')}`, { clock: systemClock() })
    const inFlight = createInFlightRequests()
    const seen: string[][] = []
    const app = createApp({
      store,
      clock: systemClock(),
      logger: pino({ level: 'silent' }, new Writable({ write: (_c, _e, cb) => cb() })),
      inFlight,
    })
    app.get('/probe', (c) => {
      seen.push(inFlight.describe(performance.now(), 0))
      return c.text('ok')
    })
    await app.request('/probe?email=visitor@example.com', { headers: { 'content-length': '0' } })
    await store.close()
    rmSync(dir, { recursive: true, force: true })
    expect(seen).toEqual([[expect.stringMatching(/^GET \/probe \(0 B, \d+ ms\)$/)]])
    expect(JSON.stringify(seen)).not.toContain('visitor@example.com')
  })
})
