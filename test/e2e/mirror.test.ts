/**
 * `chat-export mirror` end to end, as a team runs it before a cut-over: a second chat-export server
 * started with `--profile zendesk` stands in for Zendesk (its rate limit of 200 requests a minute,
 * and the five-minute rule shortened to one second with --min-start-age so the test need not wait
 * five minutes), while the simulator and the event API keep writing to it. The mirror is killed
 * with SIGKILL mid-copy and started again with --follow; at the end both accounts' exports are
 * equal, every stream item for item and in the same order, and a stop of --follow exits 0.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../support/cli.js'
import {
  createAccountAndToken,
  postEvents,
  simulate,
  sleep,
  spawnCli,
  startServe,
  STREAMS,
  type CliProcess,
  type Item,
  type ServerProcess,
  type Stream,
} from '../support/sync-e2e.js'

const SEED = 23
const dir = mkdtempSync(join(tmpdir(), 'chat-export-mirror-e2e-'))
const localStore = `sqlite:${join(dir, 'local.db')}`
let source: ServerProcess
let local: ServerProcess
let sourceToken = ''
let localToken = ''
const mirrors: CliProcess[] = []

beforeAll(async () => {
  const sourceStore = `sqlite:${join(dir, 'zendesk.db')}`
  sourceToken = await createAccountAndToken(sourceStore, 'acme')
  source = await startServe(sourceStore, ['--profile', 'zendesk', '--min-start-age', '1'])
  // The local account exists beforehand only so the test has a token to read it with; the
  // mirror would create it otherwise.
  localToken = await createAccountAndToken(localStore, 'acme')
  local = await startServe(localStore)
  await simulate(source.url, sourceToken, { seed: SEED, from: '2024-05-06T08:00:00Z', hours: 2 })
})

afterAll(async () => {
  for (const m of mirrors) if (m.child.exitCode === null) m.child.kill('SIGKILL')
  await source?.stop()
  await local?.stop()
  rmSync(dir, { recursive: true, force: true })
})

/** `chat-export mirror --follow` from the stand-in into the local store. */
function startMirror(): CliProcess {
  const args = ['mirror', '--from', source.url, '--account', 'acme', '--store', localStore]
  args.push('--follow', '--interval', '3s', '--limit', '100', '--progress', 'lines')
  const mirror = spawnCli(args, { CHAT_EXPORT_MIRROR_TOKEN: sourceToken })
  mirrors.push(mirror)
  return mirror
}

/**
 * Every item of `stream` in export order, following next_page verbatim, with full expansion.
 * A 429 (the stand-in's rate limit, which the mirror also spends) is waited out per Retry-After.
 */
async function exportOf(url: string, token: string, stream: Stream): Promise<Item[]> {
  const limit = 1000
  const fields = stream === 'chats' || stream === 'conversions' ? `&fields=${stream}(*)` : ''
  let next = `${url}/api/v2/chat/incremental/${stream}?start_time=0&limit=${limit}${fields}`
  const items: Item[] = []
  for (let page = 0; page < 1000;) {
    const res = await fetch(next, { headers: { authorization: `Bearer ${token}` } })
    if (res.status === 429) {
      await sleep(Number(res.headers.get('retry-after') ?? '1') * 1000)
      continue
    }
    if (res.status !== 200) throw new Error(`${next} answered ${res.status}: ${await res.text()}`)
    const body = (await res.json()) as Record<string, unknown>
    items.push(...(body[stream] as Item[]))
    if ((body.count as number) < limit) return items
    next = body.next_page as string
    page++
  }
  throw new Error(`${stream}: next_page never ended`)
}

type Exports = Record<Stream, Item[]>

async function exportsOf(url: string, token: string): Promise<Exports> {
  const result = {} as Exports
  for (const stream of STREAMS) result[stream] = await exportOf(url, token, stream)
  return result
}

/** The first difference between two exports (items in order), or null when equal. */
function firstDifference(actual: Exports, expected: Exports): string | null {
  for (const stream of STREAMS) {
    const a = actual[stream]
    const e = expected[stream]
    for (let i = 0; i < Math.max(a.length, e.length); i++) {
      if (!isDeepStrictEqual(a[i], e[i])) {
        return `${stream} #${i} of ${e.length} (local has ${a.length}): got ${JSON.stringify(a[i])?.slice(0, 300)}, expected ${JSON.stringify(e[i])?.slice(0, 300)}`
      }
    }
  }
  return null
}

/** Waits until the local export equals `expected` (the mirror polls every 3 s). */
async function untilLocalEquals(expected: Exports, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let difference: string | null = 'not compared yet'
  while (Date.now() < deadline) {
    difference = firstDifference(await exportsOf(local.url, localToken), expected)
    if (difference === null) return
    await sleep(1000)
  }
  throw new Error(`the local account never caught up: ${difference}`)
}

/** Changes to chats the mirror has already copied: new tags, a comment, deletions. */
function followUps(chats: Item[], at: string): Item[] {
  const live = chats.filter((c) => c.deleted !== true && c.type === 'chat').slice(0, 6)
  return live.map((chat, i) => ({
    id: `mirror-e2e-${i}`,
    type: i < 3 ? 'chat.tags_changed' : i < 5 ? 'chat.commented' : 'chat.deleted',
    timestamp: at,
    chat_id: chat.id,
    ...(i < 3 ? { tags: [...(chat.tags as string[]), 'mirror-e2e'] } : {}),
    ...(i >= 3 && i < 5 ? { comment: 'followed up after the mirror copied it' } : {}),
  }))
}

describe('chat-export mirror end to end', () => {
  it(
    'copies a --profile zendesk server with concurrent writes, across a SIGKILL, until both exports are equal',
    { timeout: 240_000 },
    async () => {
      // First run: killed with SIGKILL while the stand-in is still being written to.
      const first = startMirror()
      const writes = simulate(source.url, sourceToken, {
        seed: SEED,
        from: '2024-05-06T12:00:00Z',
        hours: 2,
      })
      await first.waitForStderr(/chats: .*items/, 60_000)
      first.child.kill('SIGKILL')
      expect((await first.exited).signal).toBe('SIGKILL')

      // Second run, resuming from what the first committed, while writes continue.
      const second = startMirror()
      await second.waitForStderr(/chats: resuming from \d{4}-/)
      await writes
      const before = await exportOf(source.url, sourceToken, 'chats')
      await postEvents(source.url, sourceToken, followUps(before, '2024-05-06T15:00:00Z'))
      // The stand-in serves only items older than --min-start-age (1 s here, 300 on Zendesk).
      await sleep(1500)
      const expected = await exportsOf(source.url, sourceToken)
      for (const stream of STREAMS) expect(expected[stream].length, stream).toBeGreaterThan(0)
      expect(expected.chats.some((c) => c.deleted === true)).toBe(true)
      await untilLocalEquals(expected)

      // A requested stop of --follow is the normal end: exit 0.
      second.child.kill('SIGTERM')
      expect(await second.exited).toEqual({ code: 0, signal: null })
      expect(second.stderr()).toMatch(/mirror stopped/)

      // Nothing arrived in between: both sides are still equal, read once more from both.
      expect(
        firstDifference(
          await exportsOf(local.url, localToken),
          await exportsOf(source.url, sourceToken),
        ),
      ).toBeNull()
    },
  )

  it('refuses to mirror into an account that holds data it did not write', async () => {
    const other = `sqlite:${join(dir, 'other.db')}`
    const token = await createAccountAndToken(other, 'busy')
    const otherServer = await startServe(other)
    try {
      await simulate(otherServer.url, token, { seed: 5, from: '2024-05-06T08:00:00Z', hours: 1 })
    } finally {
      await otherServer.stop()
    }
    const args = ['mirror', '--from', source.url, '--account', 'busy', '--store', other, '-q']
    const result = await runCli(args, undefined, { CHAT_EXPORT_MIRROR_TOKEN: sourceToken })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/items the mirror did not write/)
  })
})
