import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  DestinationError,
  openDestination,
  parseDestinationUrl,
  readJsonlStream,
  runSync,
  showSyncState,
} from '../../src/sync/index.js'
import { FakeExportServer, chat } from './client-fake-server.js'
import { committedJsonlLines } from './sync-fixtures.js'

let server: FakeExportServer
let dir: string

beforeEach(async () => {
  server = await FakeExportServer.start()
  dir = mkdtempSync(join(tmpdir(), 'chat-export-dest-'))
})
afterEach(async () => {
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})

function syncChats(to: string, deletedMode: 'flag' | 'remove' = 'flag') {
  return runSync({
    from: server.baseUrl,
    token: server.token,
    to,
    streams: ['chats'],
    deletedMode,
    client: { limit: 2, sleep: () => Promise.resolve() },
  })
}

describe('jsonl destination', () => {
  it('cuts off an uncommitted tail before appending (a torn write after a crash)', async () => {
    const out = join(dir, 'out')
    for (const id of ['a', 'b', 'c']) server.put('chats', chat(id))
    await syncChats(`jsonl:${out}`)
    const committed = readFileSync(join(out, 'chats.jsonl'))
    appendFileSync(join(out, 'chats.jsonl'), '{"id":"half-writ')
    server.put('chats', chat('d'))
    await syncChats(`jsonl:${out}`)
    const text = readFileSync(join(out, 'chats.jsonl'), 'utf8')
    expect(text.startsWith(committed.toString('utf8'))).toBe(true)
    expect(text).not.toContain('half-writ')
    expect(committedJsonlLines(out, 'chats').map((c) => c.id)).toEqual(['a', 'b', 'c', 'd'])
  })

  it('writes a PII-free tombstone for deleted items in remove mode; the latest line per key wins', async () => {
    const out = join(dir, 'out')
    server.put('chats', chat('a', { visitor: { name: 'Jane' } }))
    server.put('chats', chat('b'))
    await syncChats(`jsonl:${out}`, 'remove')
    server.put('chats', chat('a', { deleted: true, visitor: { name: 'Jane' } }))
    await syncChats(`jsonl:${out}`, 'remove')
    const lines = committedJsonlLines(out, 'chats')
    expect(lines.at(-1)).toEqual({ id: 'a', deleted: true })
    expect([...readJsonlStream(out, 'chats', { dropDeleted: true }).keys()]).toEqual(['b'])
    expect(readJsonlStream(out, 'chats').get('a')).toEqual({ id: 'a', deleted: true })
  })

  it('refuses a .jsonl that has no state file instead of guessing which lines are complete', async () => {
    const out = join(dir, 'out')
    server.put('chats', chat('a'))
    await syncChats(`jsonl:${out}`)
    rmSync(join(out, 'chats.state.json'))
    await expect(syncChats(`jsonl:${out}`)).rejects.toThrow(
      /chats\.jsonl exists but .*chats\.state\.json does not/,
    )
  })

  it('refuses a .jsonl shorter than what was committed (lines removed by hand)', async () => {
    const out = join(dir, 'out')
    for (const id of ['a', 'b', 'c']) server.put('chats', chat(id))
    await syncChats(`jsonl:${out}`)
    truncateSync(join(out, 'chats.jsonl'), 5)
    server.put('chats', chat('d'))
    await expect(syncChats(`jsonl:${out}`)).rejects.toBeInstanceOf(DestinationError)
  })

  it('refuses to write while another live process holds the directory', async () => {
    const out = join(dir, 'out')
    server.put('chats', chat('a'))
    await syncChats(`jsonl:${out}`)
    writeFileSync(join(out, '.sync.lock'), String(process.ppid))
    server.put('chats', chat('blocked'))
    await expect(syncChats(`jsonl:${out}`)).rejects.toThrow(/Another sync \(process \d+\)/)
    // A lock left by a dead process (kill -9) is taken over.
    writeFileSync(join(out, '.sync.lock'), '999999999')
    await syncChats(`jsonl:${out}`)
    expect(committedJsonlLines(out, 'chats').map((c) => c.id)).toEqual(['a', 'blocked'])
  })

  it('shows state without creating files or taking the lock', async () => {
    const out = join(dir, 'never-synced')
    expect(await showSyncState(`jsonl:${out}`)).toEqual([])
    expect(readJsonlStream(out, 'chats').size).toBe(0)
  })
})

describe('sqlite destination', () => {
  it('refuses to write into a chat-export server store', async () => {
    const path = join(dir, 'server.db')
    const db = new Database(path)
    db.exec('CREATE TABLE account_clock (account_id INTEGER PRIMARY KEY, last_position INTEGER)')
    db.close()
    await expect(openDestination(`sqlite:${path}`)).rejects.toThrow(
      /server store, not a sync destination/,
    )
  })

  it('refuses an in-memory database, saying a file is needed', async () => {
    const opened = openDestination('sqlite::memory:')
    await expect(opened).rejects.toBeInstanceOf(DestinationError)
    await expect(opened).rejects.toThrow(/must be a file: give a path/)
  })

  it('keeps syncing a destination created with 4 KB pages (before pages were 64 KB)', async () => {
    const old = join(dir, 'old.db')
    for (const id of ['a', 'b', 'c']) server.put('chats', chat(id))
    const db = new Database(old)
    db.pragma('page_size = 4096')
    db.pragma('journal_mode = WAL')
    db.close()
    await syncChats(`sqlite:${old}`)
    server.put('chats', chat('d'))
    await syncChats(`sqlite:${old}`)
    const fresh = join(dir, 'fresh.db')
    await syncChats(`sqlite:${fresh}`)
    const read = (path: string) => {
      const d = new Database(path, { readonly: true })
      try {
        return {
          pageSize: d.pragma('page_size', { simple: true }) as number,
          rows: d.prepare('SELECT id, data FROM chats ORDER BY id').all(),
        }
      } finally {
        d.close()
      }
    }
    const before = read(old)
    const after = read(fresh)
    expect(before.pageSize).toBe(4096)
    expect(after.pageSize).toBe(65536)
    expect(before.rows).toEqual(after.rows)
    expect(after.rows.map((r) => (r as { id: string }).id)).toEqual(['a', 'b', 'c', 'd'])
  })

  it('keeps agent_timeline rows keyed by agent and normalised start time', async () => {
    const path = join(dir, 'dest.db')
    server.put('agent_timeline', {
      agent_id: 7,
      start_time: '2020-01-01T00:00:00Z',
      duration: 1,
      engagement_count: 0,
      status: 'online',
    })
    server.put('agent_timeline', {
      agent_id: 7,
      start_time: '2020-01-01T00:00:01Z',
      duration: 2,
      engagement_count: 1,
      status: 'away',
    })
    await runSync({
      from: server.baseUrl,
      token: server.token,
      to: `sqlite:${path}`,
      streams: ['agent_timeline'],
    })
    const db = new Database(path, { readonly: true })
    const rows = db
      .prepare('SELECT agent_id, start_time FROM agent_timeline ORDER BY start_time')
      .all()
    db.close()
    expect(rows).toEqual([
      { agent_id: 7, start_time: '2020-01-01T00:00:00.000000Z' },
      { agent_id: 7, start_time: '2020-01-01T00:00:01.000000Z' },
    ])
  })
})

describe('destination URLs', () => {
  it.each(['sqlite:x.db', 'jsonl:./out', 'postgres://u:p@h:5432/db', 'postgresql://h/db'])(
    'accepts %s',
    (to) => {
      expect(() => parseDestinationUrl(to)).not.toThrow()
    },
  )

  it.each(['x.db', 'sqlite:', 'mysql://h/db', 'jsonl:'])(
    'rejects %s with the accepted forms',
    (to) => {
      expect(() => parseDestinationUrl(to)).toThrow(/Use sqlite:PATH .* jsonl:DIR .* postgres:\/\//)
    },
  )

  it('does not echo a password in the error', () => {
    let message = ''
    try {
      parseDestinationUrl('mysql://user:hunter2@h/db')
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toMatch(/Unsupported destination/)
    expect(message).not.toContain('hunter2')
  })
})
