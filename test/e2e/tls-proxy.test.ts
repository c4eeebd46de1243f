/**
 * Connectors that cannot be pointed elsewhere (spec §5): `serve --tls --proxy` answers as
 * https://demo.zendesk.com, and real clients export the demo account's chats through it with only
 * environment changes: curl with --cacert and --resolve, Node's fetch through the CONNECT proxy
 * (undici's ProxyAgent), and Python requests with HTTPS_PROXY and REQUESTS_CA_BUNDLE. Also the
 * refusals a user depends on: no open proxy, a clear 404 for a subdomain without an account, a 401
 * for another account's token.
 */
import { execFile, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { fetch as undiciFetch, ProxyAgent } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, startCli, type LongRunning } from '../support/cli.js'

const run = promisify(execFile)
const dir = mkdtempSync(join(tmpdir(), 'chat-export-tls-'))
const store = `sqlite:${join(dir, 'tls.db')}`
const ca = join(dir, 'tls', 'ca.pem')
const START = 'https://demo.zendesk.com/api/v2/chat/incremental/chats?fields=chats(id)&limit=100'
const LIMIT = 100

const hasPythonRequests =
  spawnSync('python3', ['-c', 'import requests'], { stdio: 'ignore' }).status === 0

interface Page {
  chats: { id: string }[]
  count: number
  next_page: string
}

/** Follows next_page from `first` until a short page, as a connector does; returns the ids. */
async function exportAll(first: string, get: (url: string) => Promise<Page>) {
  const ids: string[] = []
  const hosts = new Set<string>()
  let url = first
  for (let i = 0; i < 1000; i++) {
    const page = await get(url)
    ids.push(...page.chats.map((c) => c.id))
    hosts.add(new URL(page.next_page).host)
    if (page.count < LIMIT) break
    url = page.next_page
  }
  return { ids, hosts }
}

describe('serve --tls --proxy', () => {
  let server: LongRunning
  let token = ''
  let plain = ''
  let tlsPort = ''
  let baseline: string[] = []

  beforeAll(async () => {
    server = startCli([
      'serve',
      '--demo',
      '--tls',
      '--proxy',
      '--store',
      store,
      '--port',
      '0',
      '--tls-port',
      '0',
      // Next to no live activity: the export must be comparable with the baseline.
      '--speed',
      '0.0001',
      '--log-level',
      'warn',
    ])
    const [, plainUrl] = await server.waitFor(/listening on (http:\/\/\S+)/, 60_000)
    const [, port] = await server.waitFor(/HTTPS on https:\/\/127\.0\.0\.1:(\d+)/)
    const [, demoToken] = await server.waitFor(/Token \(owner, read write\): (cxp_\S+)/, 90_000)
    plain = plainUrl!
    tlsPort = port!
    token = demoToken!
    const direct = await exportAll(
      `${plain}/api/v2/chat/incremental/chats?fields=chats(id)&limit=${LIMIT}`,
      async (url) =>
        (await (
          await fetch(url, { headers: { authorization: `Bearer ${token}` } })
        ).json()) as Page,
    )
    baseline = direct.ids
    expect(baseline.length).toBeGreaterThan(LIMIT)
  }, 120_000)

  afterAll(async () => {
    await server?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  it('keeps the CA beside the store, its key readable by the owner only', () => {
    expect(readFileSync(ca, 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/)
    expect(statSync(join(dir, 'tls', 'ca-key.pem')).mode & 0o777).toBe(0o600)
  })

  it('tls ca prints the path and the trust commands', async () => {
    const r = await runCli(['tls', 'ca', '--store', store])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(`CA certificate: ${ca}`)
    for (const needle of [
      'update-ca-certificates',
      `REQUESTS_CA_BUNDLE='${ca}'`,
      `SSL_CERT_FILE='${ca}'`,
      `NODE_EXTRA_CA_CERTS='${ca}'`,
      'keytool -importcert',
    ]) {
      expect(r.stdout).toContain(needle)
    }
    // Created once: the CA the server uses is the one printed.
    expect((await runCli(['tls', 'ca', '--store', store, '--path'])).stdout).toBe(`${ca}\n`)
  })

  it('curl --cacert --resolve exports the demo chats exactly once', async () => {
    const curl = async (url: string) => {
      const { stdout } = await run('curl', [
        '-sS',
        '--fail-with-body',
        '--cacert',
        ca,
        '--resolve',
        `demo.zendesk.com:${tlsPort}:127.0.0.1`,
        '-H',
        `Authorization: Bearer ${token}`,
        url,
      ])
      return JSON.parse(stdout) as Page
    }
    const start = START.replace('demo.zendesk.com', `demo.zendesk.com:${tlsPort}`)
    const { ids, hosts } = await exportAll(start, curl)
    expect(new Set(ids).size).toBe(ids.length)
    expect(ids).toEqual(baseline)
    expect([...hosts]).toEqual([`demo.zendesk.com:${tlsPort}`])
  })

  it("Node's fetch through the proxy (undici ProxyAgent) exports them exactly once", async () => {
    const dispatcher = new ProxyAgent({ uri: plain, requestTls: { ca: readFileSync(ca) } })
    try {
      const { ids, hosts } = await exportAll(START, async (url) => {
        const res = await undiciFetch(url, {
          dispatcher,
          headers: { authorization: `Bearer ${token}` },
        })
        expect(res.status).toBe(200)
        return (await res.json()) as Page
      })
      expect(new Set(ids).size).toBe(ids.length)
      expect(ids).toEqual(baseline)
      expect([...hosts]).toEqual(['demo.zendesk.com'])
    } finally {
      await dispatcher.close()
    }
  })

  /** Runs a Python requests client that follows next_page; START may use zenpy's overrides. */
  async function pythonExport(env: Record<string, string>) {
    const script = [
      'import json, os, requests',
      '# The URL zenpy builds: {ZENPY_FORCE_SCHEME}://{ZENPY_FORCE_NETLOC}/api/v2/chat/...',
      'netloc = os.environ.get("ZENPY_FORCE_NETLOC")',
      'url = os.environ["START"] if not netloc else os.environ.get("ZENPY_FORCE_SCHEME", "https") + "://" + netloc + os.environ["START_PATH"]',
      'ids, hosts = [], set()',
      'while True:',
      '    r = requests.get(url, headers={"Authorization": "Bearer " + os.environ["TOKEN"]})',
      '    r.raise_for_status()',
      '    page = r.json()',
      '    ids += [c["id"] for c in page["chats"]]',
      '    hosts.add(requests.utils.urlparse(page["next_page"]).netloc)',
      '    if page["count"] < 100: break',
      '    url = page["next_page"]',
      'print(json.dumps({"ids": ids, "hosts": sorted(hosts)}))',
    ].join('\n')
    const { stdout } = await run('python3', ['-c', script], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        REQUESTS_CA_BUNDLE: ca,
        START,
        START_PATH: new URL(START).pathname + new URL(START).search,
        TOKEN: token,
        ...env,
      },
    })
    return JSON.parse(stdout) as { ids: string[]; hosts: string[] }
  }

  it.skipIf(!hasPythonRequests)(
    'Python requests with HTTPS_PROXY and REQUESTS_CA_BUNDLE exports them exactly once',
    async () => {
      const out = await pythonExport({ HTTPS_PROXY: plain })
      expect(new Set(out.ids).size).toBe(out.ids.length)
      expect(out.ids).toEqual(baseline)
      expect(out.hosts).toEqual(['demo.zendesk.com'])
    },
  )

  it.skipIf(!hasPythonRequests)(
    "zenpy's override (ZENPY_FORCE_NETLOC) on the HTTPS port exports them exactly once",
    async () => {
      // The token alone picks the account on an IP address; the certificate covers 127.0.0.1.
      const out = await pythonExport({ ZENPY_FORCE_NETLOC: `127.0.0.1:${tlsPort}` })
      expect(new Set(out.ids).size).toBe(out.ids.length)
      expect(out.ids).toEqual(baseline)
      expect(out.hosts).toEqual([`127.0.0.1:${tlsPort}`])
    },
  )
  if (!hasPythonRequests) {
    it('Python requests cases', () => {
      console.warn(
        'skipped: python3 with requests is not installed (apt-get install python3-requests)',
      )
    })
  }

  it('refuses CONNECT to any other host: never an open proxy', async () => {
    for (const target of ['example.com:443', 'demo.zendesk.com:80', '127.0.0.1:22']) {
      const reply = await new Promise<string>((resolve, reject) => {
        const { port, hostname } = new URL(plain)
        const socket = connect(Number(port), hostname, () =>
          socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`),
        )
        let text = ''
        socket.on('data', (d: Buffer) => (text += d.toString()))
        socket.on('end', () => resolve(text))
        socket.on('error', reject)
      })
      expect(reply, target).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/)
      expect(reply).toContain('not an open proxy')
    }
  })

  it('a subdomain without an account is a 404 that names it', async () => {
    const { stdout } = await run('curl', [
      '-sS',
      '-w',
      '\n%{http_code}',
      '-x',
      plain,
      '--cacert',
      ca,
      '-H',
      `Authorization: Bearer ${token}`,
      'https://nobody.zendesk.com/api/v2/chat/incremental/chats',
    ])
    const [body, status] = stdout.split('\n')
    expect(status).toBe('404')
    expect(JSON.parse(body!).description).toMatch(
      /No account named "nobody".*accounts create nobody/,
    )
  })

  it("another account's token on a subdomain is a 401 that says so", async () => {
    expect((await runCli(['accounts', 'create', 'acme', '--store', store])).code).toBe(0)
    const created = await runCli([
      'tokens',
      'create',
      '--account',
      'acme',
      '--role',
      'owner',
      '--scopes',
      'read',
      '--store',
      store,
    ])
    const acme = created.stdout.trim()
    const dispatcher = new ProxyAgent({ uri: plain, requestTls: { ca: readFileSync(ca) } })
    try {
      const get = (url: string) =>
        undiciFetch(url, { dispatcher, headers: { authorization: `Bearer ${acme}` } })
      const wrong = await get(START)
      expect(wrong.status).toBe(401)
      expect(((await wrong.json()) as { description: string }).description).toMatch(
        /does not belong to the account "demo"/,
      )
      // The same token on its own subdomain, and on the Zopim host (token decides), is served.
      expect((await get(START.replace('demo.', 'acme.'))).status).toBe(200)
      const zopim = await get('https://www.zopim.com/api/v2/incremental/chats?fields=chats(id)')
      expect(zopim.status).toBe(200)
      expect(((await zopim.json()) as Page).count).toBe(0)
    } finally {
      await dispatcher.close()
    }
  })
})
