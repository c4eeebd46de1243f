/**
 * `chat-export sync` end to end, as a user runs it: a real server process, real sync processes,
 * loopback HTTP, and three real destinations (a SQLite file, a JSONL directory, a PostgreSQL
 * database). After every step each destination must hold exactly the server's data: every stream
 * read from the server following next_page, reduced to the latest version per key.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../support/cli.js'
import { freshPostgresUrl, postgresTestServerAvailable } from '../support/postgres.js'
import {
  counts,
  createAccountAndToken,
  destination,
  differences,
  expectedFor,
  postEvents,
  readJsonlFile,
  serverSnapshot,
  simulate,
  sleep,
  spawnCli,
  startServe,
  STREAMS,
  type Item,
  type ServerProcess,
  type Snapshot,
  type TestDestination,
} from '../support/sync-e2e.js'

const SEED = 11
const dir = mkdtempSync(join(tmpdir(), 'chat-export-sync-e2e-'))
let server: ServerProcess
let token = ''
let destinations: TestDestination[] = []

beforeAll(async () => {
  const store = `sqlite:${join(dir, 'server.db')}`
  token = await createAccountAndToken(store)
  server = await startServe(store)
  // A Monday morning: agents online, chats, transfers, ratings, conversions, queue changes.
  await simulate(server.url, token, { seed: SEED, from: '2024-05-06T08:00:00Z', hours: 3 })
  destinations = [
    destination('sqlite', `sqlite:${join(dir, 'dest.db')}`, 'flag'),
    destination('jsonl', `jsonl:${join(dir, 'jsonl')}`, 'remove'),
  ]
  if (postgresTestServerAvailable()) {
    destinations.push(destination('postgres', await freshPostgresUrl(), 'remove'))
  }
})

afterAll(async () => {
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const env = () => ({ CHAT_EXPORT_TOKEN: token })

/** One `chat-export sync` run into `d`, to completion. */
async function syncOnce(d: TestDestination): Promise<void> {
  const args = ['sync', '--from', server.url, '--to', d.to, '--deleted', d.mode]
  const result = await runCli([...args, '--limit', '100', '--quiet'], undefined, env())
  expect(result.code, `${d.name}: ${result.stderr}`).toBe(0)
  expect(result.stderr).toBe('')
}

async function expectEqualToServer(expected: Snapshot): Promise<void> {
  for (const d of destinations) {
    expect(differences(await d.read(), expectedFor(expected, d.mode)), d.name).toBeNull()
  }
}

/**
 * Changes to chats the destinations already hold: a new tag, a comment, deletions (an offline
 * message among them when there is one). Chats ended hours before `at`, so these come in order.
 */
function followUps(snapshot: Snapshot, step: string, at: string): Item[] {
  const alive = [...snapshot.chats.values()]
    .filter((c) => c.deleted !== true)
    .sort((a, b) => String(a.id).localeCompare(String(b.id)))
  const live = alive.filter((c) => c.type === 'chat')
  const offline = alive.filter((c) => c.type === 'offline_msg')
  const event = (i: number, type: string, chat: Item, extra: Item = {}): Item => ({
    id: `e2e-${step}-${i}`,
    type,
    timestamp: at,
    chat_id: chat.id,
    ...extra,
  })
  const events: Item[] = []
  for (const chat of live.slice(0, 4)) {
    const tags = [...(chat.tags as string[]), `e2e-${step}`]
    events.push(event(events.length, 'chat.tags_changed', chat, { tags }))
  }
  for (const chat of live.slice(4, 6)) {
    events.push(event(events.length, 'chat.commented', chat, { comment: `followed up (${step})` }))
  }
  for (const chat of [...live.slice(6, 8), ...offline.slice(0, 1)]) {
    events.push(event(events.length, 'chat.deleted', chat))
  }
  return events
}

/** A new offline message (the morning had agents online all along), for step c to delete. */
function offlineMessage(at: string): Item {
  return {
    id: 'e2e-offline-1',
    type: 'offline_message',
    timestamp: at,
    chat_id: '2405.3144738.e2eOfflineMsg1',
    visitor: { id: '3144738.e2eVisitor1', name: 'Visitor 7' },
    session: { id: '240506.3144738.e2eSession1', start_date: at },
    department_id: null,
    message: 'Please call me back.',
  }
}

describe('chat-export sync end to end', () => {
  let snapshot: Snapshot

  it('copies every stream into SQLite, JSONL and PostgreSQL exactly', async () => {
    snapshot = await serverSnapshot(server.url, token)
    for (const stream of STREAMS) expect(snapshot[stream].size, stream).toBeGreaterThan(0)
    await Promise.all(destinations.map((d) => syncOnce(d)))
    await expectEqualToServer(snapshot)
  })

  it('applies new, changed and deleted chats on the next run', async () => {
    const before = snapshot
    // New chats (some changed and deleted within the period), then changes to synced ones.
    await simulate(server.url, token, { seed: SEED, from: '2024-05-06T12:00:00Z', hours: 2 })
    const changes = followUps(before, 'b', '2024-05-06T15:00:00Z')
    await postEvents(server.url, token, [...changes, offlineMessage('2024-05-06T15:00:00Z')])
    snapshot = await serverSnapshot(server.url, token)

    expect(snapshot.chats.size).toBeGreaterThan(before.chats.size)
    const changedIds = changes.map((e) => String(e.chat_id))
    for (const id of changedIds) expect(snapshot.chats.get(id)).not.toEqual(before.chats.get(id))
    const deleted = changes.filter((e) => e.type === 'chat.deleted').map((e) => String(e.chat_id))
    for (const id of deleted) expect(snapshot.chats.get(id)?.deleted).toBe(true)
    // The destinations are behind until they sync (so the check below can fail).
    for (const d of destinations) {
      expect(differences(await d.read(), expectedFor(snapshot, d.mode)), d.name).not.toBeNull()
    }

    await Promise.all(destinations.map((d) => syncOnce(d)))
    await expectEqualToServer(snapshot)
    const sqlite = await destinations[0]!.read()
    for (const id of deleted) expect(sqlite.chats.get(id)?.deleted, 'flag mode keeps').toBe(true)
    for (const d of destinations.slice(1)) {
      const held = await d.read()
      for (const id of deleted) expect(held.chats.has(id), `${d.name} removes ${id}`).toBe(false)
    }
    // JSONL is a log of versions: one line per chat of the first run, then one per new chat and
    // one per changed chat (a tombstone for a deleted one); a page applied twice would add more.
    const jsonl = readJsonlFile(join(dir, 'jsonl'), 'chats')
    expect(jsonl.lines.length).toBe(snapshot.chats.size + new Set(changedIds).size)
    expect(jsonl.fileBytes).toBe(jsonl.committedBytes)
  })

  it('follows live events with --follow and stops cleanly on SIGTERM', async () => {
    const before = snapshot
    const followers = destinations.map((d) => ({
      d,
      process: spawnCli(
        [
          'sync',
          '--from',
          server.url,
          '--to',
          d.to,
          '--deleted',
          d.mode,
          '--follow',
          '--interval',
          '1s',
          '--limit',
          '100',
          '--progress',
          'lines',
        ],
        env(),
      ),
    }))
    try {
      // Caught up with what is already there before anything new happens.
      for (const { process } of followers) {
        for (const stream of STREAMS) {
          await process.waitForStderr(new RegExp(`^${stream}: .*caught up$`, 'm'))
        }
      }
      await simulate(server.url, token, { seed: SEED, from: '2024-05-06T16:00:00Z', hours: 1 })
      await postEvents(server.url, token, followUps(before, 'c', '2024-05-06T18:00:00Z'))
      snapshot = await serverSnapshot(server.url, token)
      expect(counts(snapshot)).not.toEqual(counts(before))

      for (const { d, process } of followers) {
        const expected = expectedFor(snapshot, d.mode)
        const deadline = Date.now() + 20_000
        let diff = differences(await d.read(), expected)
        while (diff !== null && Date.now() < deadline) {
          await sleep(200)
          diff = differences(await d.read(), expected)
        }
        expect(diff, `${d.name} while following`).toBeNull()
        expect(process.child.exitCode, `${d.name} still running`).toBeNull()
      }
    } finally {
      for (const { process } of followers) process.child.kill('SIGTERM')
    }
    for (const { d, process } of followers) {
      const { code } = await process.exited
      // A requested stop is the normal end of --follow: exit 0, and no "error:" line.
      expect(code, `${d.name}: ${process.stderr()}`).toBe(0)
      expect(process.stderr()).toMatch(/SIGTERM: stopping after the current page/)
      expect(process.stderr()).toMatch(/stopped; the next sync resumes/)
      expect(process.stderr()).not.toMatch(/^error:/m)
      expect(process.stderr()).not.toContain(token)
    }
    await expectEqualToServer(snapshot)
  })
})
