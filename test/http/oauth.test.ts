/**
 * OAuth end to end over real HTTP on both stores (chat-rest-api.md §4): clients through the API,
 * the consent page (approve with an owner token, deny), code → token → refresh → API call →
 * revoke → 401, refresh rotation, client_credentials, the password grant, expiry, every RFC 6749
 * error of the token endpoint, Werkzeug's 405, auto-approve with Airbyte's consent URL shape, and
 * account isolation of the clients and tokens API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_OAUTH_CONFIG } from '../../src/config/oauth-config.js'
import { ManualClock } from '../../src/domain/clock.js'
import type { Harness, TestAccount } from '../support/harness.js'
import { startHarness } from '../support/harness.js'
import { storeBackends } from '../support/stores.js'

const NOW = Date.UTC(2026, 0, 5, 12) * 1000
const HOUR = 3600 * 1_000_000
const REDIRECT = 'https://connector.example/callback'

for (const backend of storeBackends()) {
  describe(`${backend.name}: OAuth`, () => {
    const clock = new ManualClock(NOW)
    let h: Harness
    let auto: Harness
    let a: TestAccount
    let b: TestAccount
    let autoAccount: TestAccount

    beforeAll(async () => {
      h = await startHarness({ backend, clock })
      auto = await startHarness({
        backend,
        clock,
        config: { oauth: { ...DEFAULT_OAUTH_CONFIG, autoApprove: true } },
      })
      a = await h.account('acme')
      b = await h.account('globex')
      autoAccount = await auto.account('airbyte')
    })
    afterAll(async () => {
      await h?.close()
      await auto?.close()
    })

    const api = async (
      server: Harness,
      method: string,
      path: string,
      token: string,
      body?: unknown,
    ) => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      const text = await res.text()
      return { status: res.status, body: text === '' ? undefined : JSON.parse(text) }
    }
    const tokenCall = async (
      server: Harness,
      params: Record<string, string>,
      options: { path?: string; json?: boolean; basic?: [string, string] } = {},
    ) => {
      const res = await fetch(`${server.url}${options.path ?? '/oauth2/token'}`, {
        method: 'POST',
        headers: {
          'content-type': options.json ? 'application/json' : 'application/x-www-form-urlencoded',
          ...(options.basic
            ? {
                authorization: `Basic ${Buffer.from(options.basic.join(':')).toString('base64')}`,
              }
            : {}),
        },
        body: options.json ? JSON.stringify(params) : new URLSearchParams(params).toString(),
      })
      return { status: res.status, headers: res.headers, body: await res.json() }
    }
    const createClient = async (
      server: Harness,
      account: TestAccount,
      fields: Record<string, unknown> = {},
    ) => {
      const res = await api(server, 'POST', '/api/v2/chat/oauth/clients', account.readWrite, {
        name: 'Connector',
        company: 'Example Ltd',
        redirect_uris: REDIRECT,
        ...fields,
      })
      expect(res.status, JSON.stringify(res.body)).toBe(201)
      return res.body as { id: number; client_identifier: string; client_secret: string }
    }
    const authorizePath = (clientId: string, extra = '') =>
      `/oauth2/authorizations/new?client_id=${clientId}&redirect_uri=${encodeURIComponent(REDIRECT)}&response_type=code&scope=read+chat&state=s123${extra}`
    const approve = async (clientId: string, ownerToken: string, decision = 'approve') => {
      const form = new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT,
        scope: 'read chat',
        state: 's123',
        owner_token: ownerToken,
        decision,
      })
      return fetch(`${h.url}/oauth2/authorizations/new`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form.toString(),
      })
    }

    it('creates, lists, updates and deletes clients; the secret is shown once', async () => {
      const client = await createClient(h, a)
      expect(client.client_secret).toMatch(/^cxs_/)
      expect(client.client_identifier).toMatch(/^cxc_/)
      const list = await api(h, 'GET', '/api/v2/oauth/clients', a.owner)
      expect(list.status).toBe(200)
      const listed = list.body.find((c: { id: number }) => c.id === client.id)
      expect(listed).toMatchObject({
        name: 'Connector',
        client_type: 'public',
        redirect_uris: REDIRECT,
        scopes: 'read write',
      })
      expect(listed.client_secret).toBeUndefined()
      const put = await api(h, 'PUT', `/api/v2/oauth/clients/${client.id}`, a.readWrite, {
        client_type: 'confidential',
      })
      expect(put.status).toBe(200)
      expect(put.body.client_type).toBe('confidential')
      expect(
        (await api(h, 'DELETE', `/api/v2/chat/oauth/clients/${client.id}`, a.readWrite)).status,
      ).toBe(204)
      expect((await api(h, 'GET', `/api/v2/chat/oauth/clients/${client.id}`, a.owner)).status).toBe(
        404,
      )
    })

    it('refuses client writes without the write scope or the owner/administrator role, and isolates accounts', async () => {
      const body = { name: 'x', redirect_uris: REDIRECT }
      expect((await api(h, 'POST', '/api/v2/chat/oauth/clients', a.owner, body)).status).toBe(403)
      const agentRw = await h.token(a.id, 'agent', ['read', 'write'])
      expect((await api(h, 'POST', '/api/v2/chat/oauth/clients', agentRw, body)).status).toBe(403)
      expect(
        (await api(h, 'POST', '/api/v2/chat/oauth/clients', a.readWrite, { name: 'x' })).status,
      ).toBe(400)
      const client = await createClient(h, a)
      const other = await api(h, 'GET', '/api/v2/chat/oauth/clients', b.owner)
      expect(other.body).toEqual([])
      expect(
        (await api(h, 'DELETE', `/api/v2/chat/oauth/clients/${client.id}`, b.readWrite)).status,
      ).toBe(404)
      expect((await api(h, 'GET', '/api/v2/chat/oauth/tokens', b.owner)).body).toEqual([])
    })

    it('code → token → refresh → API call → revoke → 401', async () => {
      const client = await createClient(h, a)
      // The consent page: a form asking for an owner token.
      const pageRes = await fetch(`${h.url}${authorizePath(client.client_identifier)}`)
      expect(pageRes.status).toBe(200)
      const html = await pageRes.text()
      expect(html).toContain('name="owner_token"')
      expect(html).toContain('acme')

      // Deny → access_denied back to the client, with its state.
      const denied = await approve(client.client_identifier, a.owner, 'deny')
      expect(denied.status).toBe(302)
      const deniedUrl = new URL(denied.headers.get('location')!)
      expect(deniedUrl.searchParams.get('error')).toBe('access_denied')
      expect(deniedUrl.searchParams.get('state')).toBe('s123')

      // A token that is not an owner token of the account: the form again, 401.
      expect((await approve(client.client_identifier, a.admin)).status).toBe(401)
      expect((await approve(client.client_identifier, b.owner)).status).toBe(401)

      const approved = await approve(client.client_identifier, a.owner)
      expect(approved.status).toBe(302)
      const back = new URL(approved.headers.get('location')!)
      expect(back.origin + back.pathname).toBe(REDIRECT)
      expect(back.searchParams.get('state')).toBe('s123')
      const code = back.searchParams.get('code')!
      expect(code).toMatch(/^cxa_/)

      const exchange = {
        grant_type: 'authorization_code',
        code,
        client_id: client.client_identifier,
        client_secret: client.client_secret,
        redirect_uri: REDIRECT,
        scope: 'read',
      }
      const first = await tokenCall(h, exchange)
      expect(first.status).toBe(200)
      expect(first.headers.get('cache-control')).toBe('no-store')
      expect(first.body).toMatchObject({
        token_type: 'Bearer',
        scope: 'read chat',
        expires_in: 36000,
      })
      expect(first.body.access_token).toMatch(/^cxo_/)
      expect(first.body.refresh_token).toMatch(/^cxr_/)

      // The code is one-time.
      const again = await tokenCall(h, exchange)
      expect(again.status).toBe(400)
      expect(again.body.error).toBe('invalid_grant')

      // The access token works wherever a bearer token does: the export and the REST API.
      expect((await h.get('/api/v2/chat/incremental/chats', first.body.access_token)).status).toBe(
        200,
      )
      expect((await h.get('/api/v2/account', first.body.access_token)).status).toBe(200)
      // read chat, no write: writes are refused.
      expect(
        (await api(h, 'PUT', '/api/v2/chat/account', first.body.access_token, { name: 'x' }))
          .status,
      ).toBe(403)

      // Refresh on the other token path, JSON body: a new pair; the old pair stops working.
      const refreshed = await tokenCall(
        h,
        {
          grant_type: 'refresh_token',
          refresh_token: first.body.refresh_token,
          client_id: client.client_identifier,
          client_secret: client.client_secret,
        },
        { path: '/oauth2/chat/token', json: true },
      )
      expect(refreshed.status).toBe(200)
      expect(refreshed.body.scope).toBe('read chat')
      expect(refreshed.body.access_token).not.toBe(first.body.access_token)
      const reused = await tokenCall(h, {
        grant_type: 'refresh_token',
        refresh_token: first.body.refresh_token,
        client_id: client.client_identifier,
        client_secret: client.client_secret,
      })
      expect(reused.status).toBe(400)
      expect(reused.body.error).toBe('invalid_grant')
      expect((await h.get('/api/v2/chat/account', first.body.access_token)).status).toBe(401)
      expect((await h.get('/api/v2/chat/account', refreshed.body.access_token)).status).toBe(200)

      // Listed, then revoked: 401 with the Werkzeug body, and the refresh token is dead too.
      const tokens = await api(h, 'GET', '/api/v2/chat/oauth/tokens', a.owner)
      const listed = tokens.body.filter(
        (t: { client_identifier: string }) => t.client_identifier === client.client_identifier,
      )
      expect(listed).toHaveLength(1)
      expect(listed[0]).toMatchObject({ scopes: 'read chat', token_type: 'Bearer' })
      expect(Date.parse(listed[0].expire_date) - Date.parse(listed[0].create_date)).toBe(36_000_000)
      expect(
        (await api(h, 'DELETE', `/api/v2/oauth/tokens/${listed[0].id}`, a.readWrite)).status,
      ).toBe(204)
      const after = await h.get('/api/v2/chat/account', refreshed.body.access_token)
      expect(after.status).toBe(401)
      expect(await after.json()).toMatchObject({ error: 'Unauthorized' })
      expect(
        (await api(h, 'DELETE', `/api/v2/oauth/tokens/${listed[0].id}`, a.readWrite)).status,
      ).toBe(404)
      const dead = await tokenCall(h, {
        grant_type: 'refresh_token',
        refresh_token: refreshed.body.refresh_token,
        client_id: client.client_identifier,
        client_secret: client.client_secret,
      })
      expect(dead.body.error).toBe('invalid_grant')
    })

    it('client_credentials: confidential clients only; no refresh token; Basic auth; expiry → 401', async () => {
      const client = await createClient(h, a)
      const params = {
        grant_type: 'client_credentials',
        client_id: client.client_identifier,
        client_secret: client.client_secret,
        scope: 'read write',
      }
      const publicTry = await tokenCall(h, params)
      expect(publicTry.status).toBe(401)
      expect(publicTry.body.error).toBe('invalid_client')
      await api(h, 'PUT', `/api/v2/chat/oauth/clients/${client.id}`, a.readWrite, {
        client_type: 'confidential',
      })
      const ok = await tokenCall(
        h,
        { grant_type: 'client_credentials', scope: 'read write' },
        { basic: [client.client_identifier, client.client_secret] },
      )
      expect(ok.status).toBe(200)
      expect(ok.body).toMatchObject({ token_type: 'Bearer', scope: 'read write' })
      expect(ok.body.refresh_token).toBeUndefined()
      // The client's creator was an owner: its tokens act as one (writes allowed with write).
      expect((await h.get('/api/v2/chat/account', ok.body.access_token)).status).toBe(200)
      clock.advance(10 * HOUR)
      expect((await h.get('/api/v2/chat/account', ok.body.access_token)).status).toBe(401)
    })

    it('password grant: a token of the account stands in for the password', async () => {
      const client = await createClient(h, a, { client_type: 'confidential' })
      const base = {
        grant_type: 'password',
        client_id: client.client_identifier,
        client_secret: client.client_secret,
      }
      const ok = await tokenCall(h, { ...base, username: 'acme', password: a.readWrite })
      expect(ok.status).toBe(200)
      expect(ok.body.refresh_token).toMatch(/^cxr_/)
      const wrong = await tokenCall(h, { ...base, username: 'acme', password: b.readWrite })
      expect(wrong.body.error).toBe('invalid_grant')
      const agent = await tokenCall(h, { ...base, username: 'acme', password: a.agent })
      expect(agent.body.error).toBe('invalid_grant')
    })

    it('answers every RFC 6749 token error with its status', async () => {
      const pub = await createClient(h, a)
      const readOnly = await createClient(h, a, { scopes: 'read', client_type: 'confidential' })
      const cases: [Record<string, string>, number, string][] = [
        [{ client_id: pub.client_identifier }, 400, 'invalid_request'],
        [
          { grant_type: 'implicit', client_id: pub.client_identifier },
          400,
          'unsupported_grant_type',
        ],
        // A name of Object.prototype's members is no grant either (once a 500).
        ...['__proto__', 'constructor', 'toString'].map(
          (grant_type): [Record<string, string>, number, string] => [
            { grant_type, client_id: pub.client_identifier },
            400,
            'unsupported_grant_type',
          ],
        ),
        [{ grant_type: 'client_credentials' }, 401, 'invalid_client'],
        [
          {
            grant_type: 'client_credentials',
            client_id: pub.client_identifier,
            client_secret: 'cxs_wrong',
          },
          401,
          'invalid_client',
        ],
        [
          {
            grant_type: 'authorization_code',
            client_id: pub.client_identifier,
            client_secret: pub.client_secret,
            redirect_uri: REDIRECT,
          },
          400,
          'invalid_request',
        ],
        [
          {
            grant_type: 'authorization_code',
            code: 'cxa_nope',
            client_id: pub.client_identifier,
            redirect_uri: REDIRECT,
          },
          400,
          'invalid_grant',
        ],
        [
          {
            grant_type: 'password',
            username: 'acme',
            password: a.owner,
            client_id: pub.client_identifier,
            client_secret: pub.client_secret,
          },
          400,
          'unauthorized_client',
        ],
        [
          {
            grant_type: 'client_credentials',
            scope: 'write',
            client_id: readOnly.client_identifier,
            client_secret: readOnly.client_secret,
          },
          400,
          'invalid_scope',
        ],
      ]
      for (const [params, status, error] of cases) {
        const res = await tokenCall(h, params)
        expect(res.status, JSON.stringify(params)).toBe(status)
        expect(res.body.error, JSON.stringify(params)).toBe(error)
        expect(typeof res.body.error_description).toBe('string')
      }
      // An expired code, and a code sent with another redirect_uri.
      const code = async () => {
        const res = await approve(pub.client_identifier, a.owner)
        return new URL(res.headers.get('location')!).searchParams.get('code')!
      }
      const exchange = (c: string, redirect = REDIRECT) =>
        tokenCall(h, {
          grant_type: 'authorization_code',
          code: c,
          client_id: pub.client_identifier,
          redirect_uri: redirect,
        })
      expect((await exchange(await code(), 'https://evil.example/')).body.error).toBe(
        'invalid_grant',
      )
      const late = await code()
      clock.advance(DEFAULT_OAUTH_CONFIG.codeTtlMicros)
      expect((await exchange(late)).body.error).toBe('invalid_grant')
      // A public client without its secret may exchange a code (RFC 6749 public clients).
      expect((await exchange(await code())).status).toBe(200)
    })

    it('describes every OAuth route in /openapi.json', async () => {
      const doc = await (await fetch(`${h.url}/openapi.json`)).json()
      for (const path of [
        '/oauth2/token',
        '/oauth2/chat/token',
        '/oauth2/authorizations/new',
        '/oauth2/chat/authorizations/new',
        '/api/v2/chat/oauth/clients',
        '/api/v2/oauth/clients/{id}',
        '/api/v2/chat/oauth/tokens',
        '/api/v2/oauth/tokens/{id}',
      ]) {
        expect(doc.paths[path], path).toBeDefined()
      }
      expect(doc.components.schemas.OAuthTokenResponse).toBeDefined()
    })

    it('answers a wrong method with Werkzeug’s 405 body', async () => {
      for (const path of ['/oauth2/token', '/oauth2/chat/token']) {
        const res = await fetch(`${h.url}${path}`)
        expect(res.status).toBe(405)
        expect(await res.json()).toEqual({
          error: 'Method Not Allowed',
          description: 'The method is not allowed for the requested URL.',
        })
      }
    })

    it('refuses an unknown client or redirect_uri on the page, never redirecting', async () => {
      const client = await createClient(h, a)
      const unknown = await fetch(`${h.url}${authorizePath('cxc_1_AAAAAAAAAAAAAAAA')}`, {
        redirect: 'manual',
      })
      expect(unknown.status).toBe(400)
      const badRedirect = await fetch(
        `${h.url}/oauth2/authorizations/new?client_id=${client.client_identifier}&redirect_uri=https%3A%2F%2Fevil.example&response_type=code`,
        { redirect: 'manual' },
      )
      expect(badRedirect.status).toBe(400)
      const implicit = await fetch(
        `${h.url}/oauth2/authorizations/new?client_id=${client.client_identifier}&redirect_uri=${encodeURIComponent(REDIRECT)}&response_type=token&state=x`,
        { redirect: 'manual' },
      )
      expect(implicit.status).toBe(302)
      expect(new URL(implicit.headers.get('location')!).searchParams.get('error')).toBe(
        'unsupported_response_type',
      )
    })

    it('refuses a state too long to send back, on the page', async () => {
      const client = await createClient(h, a)
      const url = (state: string) =>
        `${h.url}/oauth2/authorizations/new?client_id=${client.client_identifier}&redirect_uri=${encodeURIComponent(REDIRECT)}&response_type=token&state=${state}`
      const long = await fetch(url('s'.repeat(10_000)), { redirect: 'manual' })
      expect(long.status).toBe(400)
      expect(long.headers.get('location')).toBeNull()
      expect(await long.text()).toContain('at most 2048')
      // At the limit, the state still goes back to the client.
      const atLimit = await fetch(url('s'.repeat(2048)), { redirect: 'manual' })
      expect(atLimit.status).toBe(302)
      expect(new URL(atLimit.headers.get('location')!).searchParams.get('state')).toHaveLength(2048)
    })

    it('auto-approves Airbyte’s consent URL for the account of subdomain', async () => {
      const client = await createClient(auto, autoAccount, { redirect_uris: 'https://airbyte.io' })
      // AB-oauth's expected consent URL, with `subdomain` appended.
      const url = `${auto.url}/oauth2/authorizations/new?client_id=${client.client_identifier}&redirect_uri=https%3A%2F%2Fairbyte.io&response_type=code&scope=read+chat&state=state&subdomain=airbyte`
      const res = await fetch(url, { redirect: 'manual' })
      expect(res.status).toBe(302)
      const back = new URL(res.headers.get('location')!)
      expect(back.origin).toBe('https://airbyte.io')
      expect(back.searchParams.get('state')).toBe('state')
      const token = await tokenCall(auto, {
        grant_type: 'authorization_code',
        code: back.searchParams.get('code')!,
        client_id: client.client_identifier,
        client_secret: client.client_secret,
        redirect_uri: 'https://airbyte.io',
        scope: 'read',
      })
      expect(token.status).toBe(200)
      expect(token.body.refresh_token).toBeDefined()
      expect(
        (await auto.get('/api/v2/chat/routing_settings/account', token.body.access_token)).status,
      ).toBe(200)
      // Without subdomain: the client's own account; another account's name: refused.
      expect(
        (await fetch(url.replace('&subdomain=airbyte', ''), { redirect: 'manual' })).status,
      ).toBe(302)
      const wrong = await fetch(url.replace('subdomain=airbyte', 'subdomain=other'), {
        redirect: 'manual',
      })
      expect(new URL(wrong.headers.get('location')!).searchParams.get('error')).toBe(
        'invalid_request',
      )
    })
  })
}
