/**
 * OAuth clients from the CLI, as a user drives it: create a confidential client, list it, serve
 * with --oauth-token-ttl, obtain a token with client_credentials, call the API, delete the client
 * (which revokes its tokens).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli, startCli } from '../support/cli.js'

const dir = mkdtempSync(join(tmpdir(), 'chat-export-oauth-cli-'))
const store = `sqlite:${join(dir, 'cli.db')}`

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('chat-export oauth clients', () => {
  it('creates, lists and deletes a client whose tokens work until it is deleted', async () => {
    expect((await runCli(['accounts', 'create', 'acme', '--store', store])).code).toBe(0)
    const bad = await runCli([
      'oauth',
      'clients',
      'create',
      '--account',
      'acme',
      '--name',
      'x',
      '--redirect-uri',
      'nope',
      '--store',
      store,
    ])
    expect(bad.code).toBe(2)
    const created = await runCli([
      'oauth',
      'clients',
      'create',
      '--account',
      'acme',
      '--name',
      'Pipeline',
      '--redirect-uri',
      'https://pipeline.example/cb',
      '--confidential',
      '--store',
      store,
    ])
    expect(created.code, created.stderr).toBe(0)
    const id = /client_id=(\S+)/.exec(created.stdout)?.[1] ?? ''
    const secret = /client_secret=(\S+)/.exec(created.stdout)?.[1] ?? ''
    expect(secret).toMatch(/^cxs_/)
    const list = await runCli(['oauth', 'clients', 'list', '--account', 'acme', '--store', store])
    expect(list.stdout).toContain(id)
    expect(list.stdout).toContain('confidential')
    expect(list.stdout).not.toContain(secret)
    const rowId = list.stdout.split('\n')[1]?.split('\t')[0] ?? ''

    const server = startCli([
      'serve',
      '--store',
      store,
      '--port',
      '0',
      '--log-level',
      'warn',
      '--oauth-token-ttl',
      '120',
    ])
    try {
      const [, url] = await server.waitFor(/listening on (http:\/\/\S+)/)
      const res = await fetch(`${url}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: id,
          client_secret: secret,
          scope: 'read',
        }).toString(),
      })
      expect(res.status).toBe(200)
      const token = await res.json()
      expect(token).toMatchObject({ token_type: 'Bearer', scope: 'read', expires_in: 120 })
      const call = () =>
        fetch(`${url}/api/v2/chat/account`, {
          headers: { authorization: `Bearer ${token.access_token}` },
        })
      expect((await call()).status).toBe(200)
      const deleted = await runCli([
        'oauth',
        'clients',
        'delete',
        rowId,
        '--account',
        'acme',
        '--store',
        store,
      ])
      expect(deleted.code, deleted.stderr).toBe(0)
      expect((await call()).status).toBe(401)
    } finally {
      expect(await server.stop()).toBe(0)
    }
  })
})
