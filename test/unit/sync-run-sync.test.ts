import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ExportStream } from '../../src/client/index.js'
import { EXPORT_STREAMS } from '../../src/client/index.js'
import type { RunSyncOptions, SyncEvent } from '../../src/sync/index.js'
import {
  SyncSourceMismatchError,
  resetSyncState,
  runSync,
  showSyncState,
} from '../../src/sync/index.js'
import { postgresTestServerAvailable, freshPostgresUrl } from '../support/postgres.js'
import { FakeExportServer, chat } from './client-fake-server.js'
import type { DestinationKind } from './sync-fixtures.js'
import {
  committedJsonlLines,
  compareAll,
  destinationContent,
  expectedContent,
  mutateSource,
  rng,
  seedSource,
} from './sync-fixtures.js'

interface Target {
  kind: DestinationKind
  to: string
  /** File, directory or URL the fixtures read back from. */
  location: string
  cleanup(): void
}

const tempDirs: string[] = []

async function makeTarget(kind: DestinationKind): Promise<Target> {
  if (kind === 'postgres') {
    const url = await freshPostgresUrl()
    return { kind, to: url, location: url, cleanup: () => {} }
  }
  const dir = mkdtempSync(join(tmpdir(), 'chat-export-sync-'))
  tempDirs.push(dir)
  const location = kind === 'sqlite' ? join(dir, 'dest.db') : join(dir, 'out')
  return {
    kind,
    to: `${kind}:${location}`,
    location,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}

const KINDS: DestinationKind[] = [
  'sqlite',
  'jsonl',
  ...(postgresTestServerAvailable() ? (['postgres'] as const) : []),
]

let server: FakeExportServer

beforeEach(async () => {
  server = await FakeExportServer.start()
})
afterEach(async () => {
  await server.close()
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

const noSleep = () => Promise.resolve()

function sync(target: Target, extra: Partial<RunSyncOptions> = {}) {
  return runSync({
    from: server.baseUrl,
    token: server.token,
    to: target.to,
    client: { limit: 4, sleep: noSleep },
    ...extra,
  })
}

async function expectEqualToSource(target: Target, mode: 'flag' | 'remove'): Promise<void> {
  for (const { stream, actual, expected } of await compareAll(
    target.kind,
    target.location,
    server,
    mode,
  )) {
    expect(actual, stream).toEqual(expected)
  }
}

describe.each(KINDS)('runSync into %s', (kind) => {
  it('copies all five streams and records a cursor per stream', async () => {
    seedSource(server)
    const target = await makeTarget(kind)
    const events: SyncEvent[] = []
    const result = await sync(target, { onProgress: (e) => events.push(e) })
    await expectEqualToSource(target, 'flag')
    expect(result.streams.map((s) => s.stream)).toEqual([...EXPORT_STREAMS])
    expect(result.streams.find((s) => s.stream === 'chats')!.items).toBe(23)
    const states = await showSyncState(target.to)
    expect(states.map((s) => s.stream)).toEqual([...EXPORT_STREAMS])
    for (const state of states) {
      expect(state.source).toBe(server.baseUrl)
      expect(state.items).toBe(server.ordered(state.stream).length)
      expect(state.cursor?.nextPage).toMatch(
        /^http:\/\/127\.0\.0\.1:\d+\/api\/v2\/chat\/incremental\//,
      )
    }
    const chatPages = events.filter((e) => e.type === 'page' && e.stream === 'chats')
    expect(chatPages.map((e) => (e.type === 'page' ? e.items : -1))).toEqual([4, 8, 12, 16, 20, 23])
    expect(chatPages.at(-1)).toMatchObject({ caughtUp: true, totalItems: 23 })
  })

  it('resumes from its cursor: a second run without changes writes nothing', async () => {
    seedSource(server)
    const target = await makeTarget(kind)
    await sync(target)
    const before = await showSyncState(target.to)
    server.requests.length = 0
    const again = await sync(target)
    expect(again.streams.every((s) => s.items === 0 && s.pages === 0)).toBe(true)
    // One request per stream: the polling URL, answered with an empty page.
    expect(server.requests).toHaveLength(EXPORT_STREAMS.length)
    expect((await showSyncState(target.to)).map((s) => [s.stream, s.items, s.cursor])).toEqual(
      before.map((s) => [s.stream, s.items, s.cursor]),
    )
  })

  it.each(['flag', 'remove'] as const)(
    'upserts changed items and handles deletions (%s)',
    async (mode) => {
      seedSource(server)
      const target = await makeTarget(kind)
      await sync(target, { deletedMode: mode })
      await expectEqualToSource(target, mode)
      mutateSource(server)
      const second = await sync(target, { deletedMode: mode })
      expect(second.streams.find((s) => s.stream === 'chats')!.items).toBe(5)
      await expectEqualToSource(target, mode)
      const chats = await destinationContent(kind, target.location, 'chats', mode)
      expect(chats.some((c) => c.includes('"updated"'))).toBe(true)
      expect(chats.some((c) => c.includes('"id":"chat-2"'))).toBe(mode === 'flag')
    },
  )

  it('starts a stream without cursor at startTime, in that stream’s unit', async () => {
    const early = server.put('chats', chat('early'), 1_600_000_000_000_000)
    server.put('chats', chat('late'), 1_700_000_000_000_001)
    server.put(
      'agent_timeline',
      {
        agent_id: 1,
        start_time: '2020-01-01T00:00:00Z',
        duration: 1,
        engagement_count: 0,
        status: 'online',
      },
      early,
    )
    const target = await makeTarget(kind)
    await sync(target, {
      streams: ['chats', 'agent_timeline'],
      startTime: new Date(1_700_000_000_000),
    })
    expect(
      (await destinationContent(kind, target.location, 'chats', 'flag')).map(
        (c) => JSON.parse(c).id,
      ),
    ).toEqual(['late'])
    expect(await destinationContent(kind, target.location, 'agent_timeline', 'flag')).toEqual([])
    const [chatsUrl, timelineUrl] = ['chats', 'agent_timeline'].map((s) =>
      new URL(server.requestsFor(s as ExportStream)[0]!.url).searchParams.get('start_time'),
    )
    expect(chatsUrl).toBe('1700000000')
    expect(timelineUrl).toBe('1700000000000000')
  })

  it('resets the state of one stream without touching the others', async () => {
    seedSource(server)
    const target = await makeTarget(kind)
    await sync(target)
    const before = await showSyncState(target.to)
    expect(await resetSyncState(target.to, ['chats'])).toEqual([{ stream: 'chats', reset: true }])
    const after = await showSyncState(target.to)
    const chatsAfter = after.find((s) => s.stream === 'chats')
    expect(chatsAfter?.cursor ?? null).toBeNull()
    expect(after.filter((s) => s.stream !== 'chats')).toEqual(
      before.filter((s) => s.stream !== 'chats'),
    )
    // The next run reads chats from the beginning again and nothing else.
    server.requests.length = 0
    const rerun = await sync(target)
    expect(rerun.streams.find((s) => s.stream === 'chats')!.items).toBe(23)
    expect(rerun.streams.filter((s) => s.stream !== 'chats').every((s) => s.items === 0)).toBe(true)
    await expectEqualToSource(target, 'flag')
  })

  it('refuses to resume a cursor recorded from another server', async () => {
    seedSource(server, { chats: 2 })
    const target = await makeTarget(kind)
    await sync(target, { streams: ['chats'] })
    const other = await FakeExportServer.start()
    try {
      await expect(
        runSync({ from: other.baseUrl, token: other.token, to: target.to, streams: ['chats'] }),
      ).rejects.toBeInstanceOf(SyncSourceMismatchError)
      expect(other.requests).toHaveLength(0)
    } finally {
      await other.close()
    }
  })

  it('survives crashes at random points inside commits: nothing lost, nothing repeated', async () => {
    // Fewer seeds on PostgreSQL: each target there is a fresh database.
    for (const seed of kind === 'postgres' ? [1, 2] : [1, 2, 3, 4, 5, 6]) {
      await server.close()
      server = await FakeExportServer.start()
      seedSource(server)
      // Reference: the same sync without crashes.
      const reference = await makeTarget(kind)
      await sync(reference, { deletedMode: 'remove' })
      mutateSource(server)
      await sync(reference, { deletedMode: 'remove' })

      await server.close()
      server = await FakeExportServer.start()
      seedSource(server)
      const target = await makeTarget(kind)
      const random = rng(seed)
      const crashes: string[] = []
      const hooks = {
        at(point: string) {
          if (random() < 0.2) {
            crashes.push(point)
            throw new Error(`injected crash at ${point}`)
          }
        },
      }
      const runUntilDone = async () => {
        for (let attempt = 0; attempt < 500; attempt++) {
          try {
            return await sync(target, { deletedMode: 'remove', hooks })
          } catch (error) {
            expect((error as Error).message).toMatch(/^injected crash/)
          }
        }
        throw new Error('never completed')
      }
      await runUntilDone()
      mutateSource(server)
      await runUntilDone()
      expect(crashes.length).toBeGreaterThan(0)
      await expectEqualToSource(target, 'remove')
      const [referenceStates, targetStates] = [
        await showSyncState(reference.to),
        await showSyncState(target.to),
      ]
      // Item counters live in the same transaction as the data: equal only if no page was applied twice.
      expect(
        targetStates.map((s) => [
          s.stream,
          s.items,
          s.pages,
          s.cursor?.nextPage.replace(/:\d+\//, ':P/'),
        ]),
      ).toEqual(
        referenceStates.map((s) => [
          s.stream,
          s.items,
          s.pages,
          s.cursor?.nextPage.replace(/:\d+\//, ':P/'),
        ]),
      )
      if (kind === 'jsonl') {
        for (const stream of EXPORT_STREAMS) {
          expect(committedJsonlLines(target.location, stream), stream).toEqual(
            committedJsonlLines(reference.location, stream),
          )
        }
      }
    }
  })

  it('stops cleanly on abort and resumes to the same end state', async () => {
    seedSource(server)
    const target = await makeTarget(kind)
    let pagesSeen = 0
    for (let attempt = 0; ; attempt++) {
      const controller = new AbortController()
      const stopAfter = 2 + (attempt % 3)
      let thisRun = 0
      try {
        await sync(target, {
          signal: controller.signal,
          onProgress: (e) => {
            if (e.type === 'page' && e.pageItems > 0 && ++thisRun === stopAfter) controller.abort()
          },
        })
        break
      } catch (error) {
        expect((error as Error).name).toBe('AbortError')
        pagesSeen += thisRun
      }
      if (attempt > 50) throw new Error('never finished')
    }
    expect(pagesSeen).toBeGreaterThan(0)
    await expectEqualToSource(target, 'flag')
    const states = await showSyncState(target.to)
    for (const state of states)
      expect(state.items, state.stream).toBe(server.ordered(state.stream).length)
  })
})

describe('runSync behaviour', () => {
  it('follows: keeps polling after catching up and commits what arrives later', async () => {
    server.put('chats', chat('first'))
    const target = await makeTarget('sqlite')
    const controller = new AbortController()
    let polls = 0
    const sleep = (ms: number) => {
      expect(ms).toBe(5000)
      polls++
      if (polls === 2) server.put('chats', chat('second'))
      if (polls === 4) controller.abort()
      return Promise.resolve()
    }
    await expect(
      runSync({
        from: server.baseUrl,
        token: server.token,
        to: target.to,
        streams: ['chats'],
        follow: true,
        intervalMs: 5000,
        signal: controller.signal,
        client: { sleep },
      }),
    ).rejects.toMatchObject({ name: 'AbortError' })
    expect(await destinationContent('sqlite', target.location, 'chats', 'flag')).toEqual(
      expectedContent(server, 'chats', 'flag'),
    )
    expect(expectedContent(server, 'chats', 'flag')).toHaveLength(2)
  })

  it('reports retries as progress events and still completes', async () => {
    for (const id of ['a', 'b', 'c']) server.put('chats', chat(id))
    server.faults.push({ kind: 'status', status: 429, retryAfter: '2' })
    const target = await makeTarget('jsonl')
    const events: SyncEvent[] = []
    await sync(target, { streams: ['chats'], onProgress: (e) => events.push(e) })
    expect(events.filter((e) => e.type === 'retry')).toMatchObject([
      { type: 'retry', stream: 'chats', reason: 'rate-limited', status: 429, retry: 1 },
    ])
    expect(
      (events.find((e) => e.type === 'retry') as { delayMs: number }).delayMs,
    ).toBeGreaterThanOrEqual(2000)
    await expectEqualToSource(target, 'flag')
  })

  it('fails the whole run on a 401 without writing anything', async () => {
    seedSource(server)
    const target = await makeTarget('sqlite')
    await expect(
      runSync({ from: server.baseUrl, token: 'wrong', to: target.to, client: { sleep: noSleep } }),
    ).rejects.toMatchObject({ name: 'ExportHttpError', status: 401 })
    expect(await showSyncState(target.to)).toEqual([])
  })
})
