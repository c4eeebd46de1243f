/**
 * The SQLite read connection maps the file into memory, and still reads every commit the writer
 * makes after it was opened (the map and the WAL together give the newest committed snapshot).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import {
  openReadConnection,
  openWriteConnection,
  READ_MMAP_BYTES,
} from '../../src/store/sqlite/sqlite-connection.js'

describe('SQLite read connection', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it('is memory-mapped and sees later commits, large rows included', () => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-export-mmap-'))
    dirs.push(dir)
    const path = join(dir, 'db.sqlite')
    const writer = openWriteConnection(path)
    writer.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)')
    const reader = openReadConnection(path)
    try {
      expect(reader.pragma('mmap_size', { simple: true })).toBe(READ_MMAP_BYTES)
      expect(writer.pragma('mmap_size', { simple: true })).toBe(0)
      const count = reader.prepare('SELECT count(*) FROM t').pluck()
      const body = reader.prepare('SELECT body FROM t WHERE id = ?').pluck()
      expect(count.get()).toBe(0)
      const big = Buffer.alloc(200_000, 7)
      writer.prepare('INSERT INTO t (id, body) VALUES (?, ?)').run(1, big)
      // Checkpointed into the main file (read through the map) and then changed again in the WAL.
      writer.pragma('wal_checkpoint(TRUNCATE)')
      writer.prepare('UPDATE t SET body = ? WHERE id = 1').run(Buffer.alloc(200_000, 9))
      expect(count.get()).toBe(1)
      expect((body.get(1) as Buffer).equals(Buffer.alloc(200_000, 9))).toBe(true)
    } finally {
      reader.close()
      writer.close()
    }
  })
})
