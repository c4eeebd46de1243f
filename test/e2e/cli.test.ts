/**
 * The CLI end to end, as a user drives it: create an account and a token, import the reference's
 * chats, serve, and read them back over HTTP.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli, startCli } from '../support/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'chat-export-cli-'))
const store = `sqlite:${join(dir, 'cli.db')}`
const examples = new URL('../fixtures/examples/', import.meta.url)

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('chat-export CLI', () => {
  let token = ''

  it('creates an account', async () => {
    const r = await runCli(['accounts', 'create', 'acme', '--store', store])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe('acme\n')
    const again = await runCli(['accounts', 'create', 'acme', '--store', store])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/already exists/)
  })

  it('prints a new token alone on stdout', async () => {
    const r = await runCli([
      'tokens',
      'create',
      '--account',
      'acme',
      '--role',
      'owner',
      '--scopes',
      'read write',
      '--store',
      store,
    ])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^cxp_[A-Za-z0-9_-]{12}_[A-Za-z0-9_-]{43}\n$/)
    token = r.stdout.trim()
    const list = await runCli(['tokens', 'list', '--account', 'acme', '--store', store])
    expect(list.stdout).toMatch(/owner\tread write/)
    expect(list.stdout).not.toContain(token.slice(17))
  })

  it('explains bad flags instead of failing with a stack trace', async () => {
    const role = await runCli([
      'tokens',
      'create',
      '--account',
      'acme',
      '--role',
      'boss',
      '--store',
      store,
    ])
    expect(role.code).not.toBe(0)
    expect(role.stderr).toMatch(/--role "boss".*owner, administrator or agent/)
    const account = await runCli([
      'tokens',
      'create',
      '--account',
      'nobody',
      '--role',
      'owner',
      '--store',
      store,
    ])
    expect(account.stderr).toMatch(/chat-export accounts create nobody/)
    const badStore = await runCli(['accounts', 'list', '--store', 'mysql://x'])
    expect(badStore.code).not.toBe(0)
    expect(badStore.stderr).toMatch(/sqlite:PATH or postgres:/)
    for (const r of [role, account, badStore]) expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it('exits 2 on usage errors (unknown flag, bad value, bad variable) and 0 for --help', async () => {
    const unknown = await runCli(['accounts', 'list', '--nope'])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/unknown option '--nope'/)
    const badPort = await runCli(['serve', '--port', 'eighty', '--store', store])
    expect(badPort.code).toBe(2)
    expect(badPort.stderr).toMatch(/^error: --port: expected an integer from 0 to 65535/)
    const badEnv = await runCli(['serve', '--store', store], undefined, {
      CHAT_EXPORT_PUBLIC_URL: 'not a url',
    })
    expect(badEnv.code).toBe(2)
    expect(badEnv.stderr).toMatch(/^error: CHAT_EXPORT_PUBLIC_URL: expected an absolute URL/)
    const help = await runCli(['sync', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout.replace(/\s+/g, ' ')).toContain(
      '--interval <duration> poll interval with --follow (e.g. 30s, 5m) (default: 30s)',
    )
  })

  it('imports atomically and reports bad lines by number', async () => {
    const bad = join(dir, 'bad.jsonl')
    writeFileSync(bad, '{"id":"x","type":"chat","timestamp":"2020-01-01T00:00:00Z"}\n{"id":7}\n')
    const r = await runCli([
      'import',
      '--account',
      'acme',
      '--resource',
      'chats',
      '--store',
      store,
      bad,
    ])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/line 2/)
    const ok = await runCli([
      'import',
      '--account',
      'acme',
      '--resource',
      'chats',
      '--preserve-timestamps',
      '--store',
      store,
      new URL('chats.jsonl', examples).pathname,
    ])
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stderr).toMatch(/imported 2 chats/)
  })

  it('serves what was imported', async () => {
    const server = startCli(['serve', '--store', store, '--port', '0', '--log-level', 'warn'])
    try {
      const [, url] = await server.waitFor(/listening on (http:\/\/\S+)/)
      const res = await fetch(`${url}/api/v2/chat/incremental/chats?fields=chats(id,rating)`, {
        headers: { authorization: `Bearer ${token}` },
      })
      expect(res.status).toBe(200)
      const body = await res.json()
      expect(body.chats).toEqual([
        { id: '2012.9339545.SJs7biGpcbveH', rating: null },
        { id: '2012.9339545.SJsAIFAY09HB1', rating: null },
      ])
    } finally {
      expect(await server.stop()).toBe(0)
    }
  })
})
