import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Command } from 'commander'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { SyncCommandDeps } from '../../src/cli/commands/sync.js'
import { registerSync } from '../../src/cli/commands/sync.js'
import { EXIT_CODES } from '../../src/cli/exit-codes.js'
import { EXPORT_STREAMS } from '../../src/client/index.js'
import { FakeExportServer, chat } from './client-fake-server.js'
import { compareAll, seedSource } from './sync-fixtures.js'

let server: FakeExportServer
let dir: string

beforeEach(async () => {
  server = await FakeExportServer.start({ token: 'cli-secret-token' })
  dir = mkdtempSync(join(tmpdir(), 'chat-export-cli-'))
})
afterEach(async () => {
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})

async function cli(
  args: string[],
  deps: Partial<SyncCommandDeps> = {},
): Promise<{ code: number | undefined; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  let code: number | undefined
  const program = new Command().name('chat-export').exitOverride()
  registerSync(program, {
    environment: {},
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    handleSignals: false,
    setExitCode: (c) => (code = c),
    ...deps,
  })
  await program.parseAsync(['node', 'chat-export', ...args])
  return { code, stdout, stderr }
}

describe('chat-export sync', () => {
  it('syncs every stream with the token from CHAT_EXPORT_TOKEN, silently with --quiet', async () => {
    seedSource(server)
    const out = join(dir, 'out')
    const result = await cli(
      ['sync', '--from', server.origin, '--to', `jsonl:${out}`, '--quiet', '--limit', '5'],
      {
        environment: { CHAT_EXPORT_TOKEN: 'cli-secret-token' },
      },
    )
    expect(result).toEqual({ code: 0, stdout: '', stderr: '' })
    for (const { stream, actual, expected } of await compareAll('jsonl', out, server, 'flag')) {
      expect(actual, stream).toEqual(expected)
    }
  })

  it('prints progress lines (never the token) when stderr is not a terminal', async () => {
    seedSource(server, { chats: 12 })
    const result = await cli([
      'sync',
      '--from',
      server.baseUrl,
      '--token',
      'cli-secret-token',
      '--to',
      `sqlite:${join(dir, 'x.db')}`,
      '--streams',
      'chats,agent_timeline',
      '--limit',
      '5',
    ])
    expect(result.code).toBe(0)
    expect(result.stderr).toContain('chats: starting')
    expect(result.stderr).toMatch(/chats: 12 items in 3 pages \(.*\/s\), cursor \S+Z, caught up/)
    expect(result.stderr).toMatch(/sync complete: \d+ items \(chats 12, agent_timeline \d+\)/)
    expect(result.stderr).not.toContain('cli-secret-token')
    expect(server.requestsFor('conversions')).toHaveLength(0)
  })

  it.each([
    [['--to', 'jsonl:x'], /Missing --from/],
    [['--from', 'http://127.0.0.1:1'], /Missing --to/],
    [
      [
        '--from',
        'http://127.0.0.1:1',
        '--to',
        'jsonl:x',
        '--token',
        't',
        '--streams',
        'chats,nope',
      ],
      /Unknown stream "nope"/,
    ],
    [
      [
        '--from',
        'http://127.0.0.1:1',
        '--to',
        'jsonl:x',
        '--token',
        't',
        '--start-time',
        '1704067200000',
      ],
      /milliseconds/,
    ],
    [
      ['--from', 'http://127.0.0.1:1', '--to', 'mysql://h/db', '--token', 't'],
      /Unsupported destination/,
    ],
    [
      ['--from', 'http://127.0.0.1:1', '--to', 'jsonl:x'],
      /Missing --token \(or set CHAT_EXPORT_TOKEN\)/,
    ],
  ])('exits 2 with a clear message for %j', async (args, message) => {
    const result = await cli(['sync', ...args])
    expect(result.code).toBe(EXIT_CODES.USAGE)
    expect(result.stderr).toMatch(message)
  })

  it('exits 3 when the server refuses the token, 4 when it stays unavailable', async () => {
    const to = `jsonl:${join(dir, 'out')}`
    const refused = await cli([
      'sync',
      '--from',
      server.origin,
      '--to',
      to,
      '--token',
      'wrong',
      '-q',
    ])
    expect(refused.code).toBe(EXIT_CODES.REFUSED)
    expect(refused.stderr).toMatch(/^error: 401 /)
    for (let i = 0; i < 5; i++) server.faults.push({ kind: 'status', status: 503 })
    const unavailable = await cli([
      'sync',
      '--from',
      server.origin,
      '--to',
      to,
      '--token',
      'cli-secret-token',
      '--streams',
      'chats',
      '--max-retries',
      '0',
      '-q',
    ])
    expect(unavailable.code).toBe(EXIT_CODES.UNAVAILABLE)
  })

  it('exits 130 when interrupted, and the next run completes the sync', async () => {
    seedSource(server)
    const to = `sqlite:${join(dir, 'x.db')}`
    const controller = new AbortController()
    controller.abort()
    const interrupted = await cli(
      ['sync', '--from', server.origin, '--to', to, '--token', 'cli-secret-token', '-q'],
      { signal: controller.signal },
    )
    expect(interrupted.code).toBe(EXIT_CODES.INTERRUPTED)
    expect(interrupted.stderr).toMatch(/interrupted/)
    const done = await cli([
      'sync',
      '--from',
      server.origin,
      '--to',
      to,
      '--token',
      'cli-secret-token',
      '-q',
    ])
    expect(done.code).toBe(0)
    for (const { stream, actual, expected } of await compareAll(
      'sqlite',
      join(dir, 'x.db'),
      server,
      'flag',
    )) {
      expect(actual, stream).toEqual(expected)
    }
  })
  it('a requested stop of --follow is a clean exit, not an error', async () => {
    seedSource(server)
    const controller = new AbortController()
    controller.abort()
    const stopped = await cli(
      [
        'sync',
        '--from',
        server.origin,
        '--to',
        `jsonl:${join(dir, 'follow')}`,
        '--token',
        'cli-secret-token',
        '--follow',
      ],
      { signal: controller.signal },
    )
    expect(stopped.code).toBe(EXIT_CODES.OK)
    expect(stopped.stderr).toMatch(/stopped; the next sync resumes/)
    expect(stopped.stderr).not.toMatch(/error/)
  })
})

describe('chat-export sync state', () => {
  it('shows, and resets one stream only', async () => {
    seedSource(server)
    const to = `sqlite:${join(dir, 'x.db')}`
    await cli(['sync', '--from', server.origin, '--to', to, '--token', 'cli-secret-token', '-q'])
    const shown = await cli(['sync', 'state', 'show', '--to', to, '--json'])
    expect(shown.code).toBe(0)
    const states = JSON.parse(shown.stdout) as { stream: string; items: number; cursor: unknown }[]
    expect(states.map((s) => s.stream)).toEqual([...EXPORT_STREAMS])
    const text = await cli(['sync', 'state', 'show', '--to', to, '--stream', 'chats'])
    expect(text.stdout).toMatch(
      /^chats\titems=23\tpages=1\tcursor_time=\S+Z\tupdated=\S+\tnext_page=http:\/\/127\.0\.0\.1:\d+\//,
    )
    expect(text.stdout.trim().split('\n')).toHaveLength(1)

    const reset = await cli(['sync', 'state', 'reset', '--to', to, '--stream', 'chats'])
    expect(reset).toMatchObject({ code: 0, stdout: 'reset chats\n' })
    const after = JSON.parse(
      (await cli(['sync', 'state', 'show', '--to', to, '--json'])).stdout,
    ) as typeof states
    expect(after.map((s) => s.stream)).toEqual(EXPORT_STREAMS.filter((s) => s !== 'chats'))
    expect(after).toEqual(states.filter((s) => s.stream !== 'chats'))
  })

  it('refuses a reset that names no stream', async () => {
    const result = await cli(['sync', 'state', 'reset', '--to', `jsonl:${join(dir, 'out')}`])
    expect(result.code).toBe(EXIT_CODES.USAGE)
    expect(result.stderr).toMatch(/--stream .* or pass --all/)
  })

  it('says so when there is no state yet', async () => {
    server.put('chats', chat('unused'))
    const result = await cli(['sync', 'state', 'show', '--to', `jsonl:${join(dir, 'empty')}`])
    expect(result).toMatchObject({ code: 0, stdout: 'no sync state\n' })
  })
})
