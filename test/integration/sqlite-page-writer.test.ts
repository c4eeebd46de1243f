/**
 * The SQLite destination's writer thread (src/sync/sqlite-page-writer.ts): batches commit in the
 * order they were sent, each as one transaction; a fault hook that throws on the main thread rolls
 * the worker's transaction back at the point it names; SQLite's errors come back with their code;
 * the main thread's event loop runs while a batch commits; a thread that dies fails what is in
 * flight and what follows, and loses nothing committed; and an idle writer does not keep the
 * process alive.
 */
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import type { WriteOp } from '../../src/sync/sqlite-page-writer.js'
import { SqlitePageWriter, SqliteWriteError } from '../../src/sync/sqlite-page-writer.js'
import { runModuleScript } from '../support/module-script.js'
import { scratch } from '../support/scratch.js'

const STATEMENTS = [
  `INSERT INTO items (id, data) VALUES (?, CAST(? AS TEXT))`,
  `INSERT INTO marks (name) VALUES (?)`,
]
const INSERT = 0
const MARK = 1

const temp = scratch('chat-export-page-writer-')

function newDatabase(): string {
  const dir = temp.dir()
  const path = join(dir, 'sync.db')
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.exec(`CREATE TABLE items (id TEXT PRIMARY KEY, data TEXT NOT NULL);
           CREATE TABLE marks (name TEXT NOT NULL)`)
  db.close()
  return path
}

async function open(path: string, hooks?: { at(point: string): void }) {
  const writer = await SqlitePageWriter.open({
    path,
    statements: STATEMENTS,
    autocheckpointPages: 1000,
    busyTimeoutMs: 1000,
    ...(hooks === undefined ? {} : { hooks }),
  })
  temp.closeAfter(() => writer.close())
  return writer
}

/** Rows of `items` as [id, data], read by a connection of the test's own. */
function rows(path: string): [string, string][] {
  const db = new Database(path, { readonly: true })
  try {
    const all = db
      .prepare(`SELECT id, data, typeof(data) AS t FROM items ORDER BY rowid`)
      .all() as {
      id: string
      data: string
      t: string
    }[]
    for (const r of all) expect(r.t).toBe('text')
    return all.map((r) => [r.id, r.data])
  } finally {
    db.close()
  }
}

/** A batch inserting `items`, their texts in one buffer referred to by [start, end]. */
function batch(items: [string, string][], extra: WriteOp[] = []): [WriteOp[], Uint8Array] {
  const encoded = items.map(([, text]) => Buffer.from(text, 'utf8'))
  const bytes = new Uint8Array(encoded.reduce((n, b) => n + b.length, 0))
  const ops: WriteOp[] = []
  let at = 0
  items.forEach(([id], i) => {
    const b = encoded[i] ?? Buffer.alloc(0)
    bytes.set(b, at)
    ops.push([INSERT, id, [at, at + b.length]])
    at += b.length
  })
  return [[...ops, ...extra], bytes]
}

describe('SqlitePageWriter', () => {
  it('commits batches in the order they were sent, bytes stored as the text they spell', async () => {
    const path = newDatabase()
    const writer = await open(path)
    const writes = [
      writer.write(
        ...batch([
          ['a', '{"x":"é"}'],
          ['b', '{"y":[1,2]}'],
        ]),
      ),
      writer.write(...batch([['c', '{}']])),
      writer.write(...batch([['d', '"☃"']])),
    ]
    await Promise.all(writes)
    expect(rows(path)).toEqual([
      ['a', '{"x":"é"}'],
      ['b', '{"y":[1,2]}'],
      ['c', '{}'],
      ['d', '"☃"'],
    ])
  })

  it('rolls the whole batch back when a hook throws at a point inside it', async () => {
    const path = newDatabase()
    const seen: string[] = []
    const crash = new Error('injected crash at second')
    const writer = await open(path, {
      at(point) {
        seen.push(point)
        if (point === 'second') throw crash
      },
    })
    await writer.write(...batch([['a', '1']], ['first']))
    const failed = writer.write(
      ...batch([['b', '2']], ['first', [MARK, 'm'], 'second', [MARK, 'n']]),
    )
    // The batch fails with the hook's own error, not a copy of it.
    await expect(failed).rejects.toBe(crash)
    // Later batches still run: the rollback left the connection usable.
    await writer.write(...batch([['c', '3']], ['first']))
    expect(seen).toEqual(['first', 'first', 'second', 'first'])
    expect(rows(path)).toEqual([
      ['a', '1'],
      ['c', '3'],
    ])
    const db = new Database(path, { readonly: true })
    expect(db.prepare(`SELECT count(*) AS n FROM marks`).get()).toEqual({ n: 0 })
    db.close()
  })

  it("reports SQLite's error with its code and keeps nothing of the batch", async () => {
    const path = newDatabase()
    const writer = await open(path)
    await writer.write(...batch([['a', '1']]))
    const failed = writer.write(
      ...batch([
        ['b', '2'],
        ['a', 'again'],
      ]),
    )
    await expect(failed).rejects.toBeInstanceOf(SqliteWriteError)
    await expect(failed).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' })
    expect(rows(path)).toEqual([['a', '1']])
  })

  it('leaves the event loop free while a batch commits', async () => {
    const path = newDatabase()
    const writer = await open(path)
    // About 40 MB of rows: long enough to commit that a blocked loop could not tick meanwhile.
    const text = 'x'.repeat(4000)
    const items: [string, string][] = Array.from({ length: 10_000 }, (_, i) => [`id${i}`, text])
    let ticks = 0
    const timer = setInterval(() => ticks++, 1)
    try {
      const started = ticks
      await writer.write(...batch(items))
      expect(ticks - started).toBeGreaterThan(3)
    } finally {
      clearInterval(timer)
    }
    expect(rows(path)).toHaveLength(10_000)
  })

  it('fails the batch in flight and every later one when its thread dies, keeping what committed', async () => {
    const path = newDatabase()
    interface Thread {
      terminate(): Promise<number>
    }
    const of: { thread?: Thread } = {}
    // The thread is stopped while it waits inside the second batch's transaction.
    const writer = await open(path, {
      at: (point) => {
        if (point === 'die') void of.thread?.terminate()
      },
    })
    of.thread = (writer as unknown as { worker: Thread }).worker
    await writer.write(...batch([['a', '1']]))
    const [ops, bytes] = batch([['b', '2']])
    await expect(writer.write([...ops, 'die', [INSERT, 'c', [0, 1]]], bytes)).rejects.toThrow(
      /writer thread stopped/,
    )
    await expect(writer.write(...batch([['d', '4']]))).rejects.toThrow(/writer thread stopped/)
    await writer.close()
    expect(rows(path)).toEqual([['a', '1']])
  })

  it('refuses a write once closed, saying so', async () => {
    const path = newDatabase()
    const writer = await open(path)
    await writer.close()
    await expect(writer.write(...batch([['a', '1']]))).rejects.toThrow(/closed/)
  })

  it('refuses a database file that does not exist', async () => {
    const dir = temp.dir()
    await expect(open(join(dir, 'missing.db'))).rejects.toThrow()
  })

  it('does not keep the process alive while idle', async () => {
    const path = newDatabase()
    const module = pathToFileURL(
      fileURLToPath(new URL('../../dist/sync/sqlite-page-writer.js', import.meta.url)),
    ).href
    const script = `
      const { SqlitePageWriter } = await import(${JSON.stringify(module)})
      const writer = await SqlitePageWriter.open({ path: ${JSON.stringify(path)},
        statements: [${JSON.stringify(STATEMENTS[MARK])}], autocheckpointPages: 1000, busyTimeoutMs: 1000 })
      await writer.write([[0, 'x']], new Uint8Array(0))
      console.log('written')
    `
    const { code, out } = await runModuleScript(script, 'idle page writer')
    expect(code).toBe(0)
    expect(out).toContain('written')
  })
})
