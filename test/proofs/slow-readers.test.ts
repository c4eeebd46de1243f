/**
 * A small run of `npm run check:slow-readers` (20 readers, 2 of them never reading, 3 writers,
 * 4 s, SQLite) with a low bytes-in-flight bound and a short send timeout: the bound is reached
 * (503 OVERLOADED with Retry-After, which the readers honour), the readers that never read are
 * dropped, resident memory stays under a bound, and the writers are acknowledged throughout with
 * nothing acknowledged lost. Needs `npm run build` (the server runs as a child of dist/cli).
 */
import { describe, expect, it } from 'vitest'
import { slowReadersFailures, slowReadersTable } from '../../src/proofs/slow-readers-report.js'
import { runSlowReaders } from '../../src/proofs/slow-readers.js'

describe('slow-readers proof', () => {
  it('bounds memory with 503s and the send timeout while writes go on', async () => {
    const report = await runSlowReaders({
      readers: 20,
      stalled: 2,
      writers: 3,
      writeIntervalMs: 200,
      seconds: 4,
      rate: 64 * 1024,
      chats: 1000,
      chatKb: 8,
      seed: 5,
      store: 'sqlite',
      sendTimeoutSeconds: 1,
      // Two pages of about 8 MB: the other readers must wait for room.
      maxBytesInFlight: 16 * 1024 * 1024,
      log: () => {},
    })
    const table = slowReadersTable(report)
    // The server idles at some 150 MB here; 16 MiB in flight must not take it near 400 MB.
    expect(slowReadersFailures(report, 350), table).toEqual([])
    expect(report.pageBytes, table).toBeGreaterThan(7_000_000)
    expect(report.overloaded503, table).toBeGreaterThan(0)
    expect(report.droppedStalled, table).toBe(2)
    expect(report.writerBatchesAcked, table).toBeGreaterThan(10)
  })
})
