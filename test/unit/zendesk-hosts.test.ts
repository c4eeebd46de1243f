/** Which hosts are answered as Zendesk, which CONNECT targets are proxied, and TLS settings. */
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ConfigError } from '../../src/config/config.js'
import { defaultTlsDir, loadTlsConfig } from '../../src/config/tls-config.js'
import { hostTarget } from '../../src/http/zendesk-hosts.js'
import { isAllowedConnectTarget } from '../../src/server/connect-proxy.js'

describe('host rule', () => {
  it('routes a subdomain of zendesk.com to the account of that name', () => {
    expect(hostTarget('demo.zendesk.com')).toEqual({ kind: 'subdomain', account: 'demo' })
    expect(hostTarget('Acme-2.Zendesk.com:8443')).toEqual({ kind: 'subdomain', account: 'acme-2' })
    expect(hostTarget('demo.zendesk.com.')).toEqual({ kind: 'subdomain', account: 'demo' })
  })

  it('serves the Zopim hosts from the token, and every other host as before', () => {
    expect(hostTarget('www.zopim.com').kind).toBe('zopim')
    expect(hostTarget('rtm.zopim.com:443').kind).toBe('zopim')
    for (const other of [
      'localhost:8080',
      '127.0.0.1',
      '[::1]:8080',
      'zendesk.com',
      'a.b.zendesk.com',
      'demo.zendesk.com.evil.test',
      'chat-api.zopim.com',
      undefined,
    ]) {
      expect(hostTarget(other).kind, String(other)).toBe('other')
    }
  })

  it('proxies CONNECT to the Zendesk hosts on 443 only', () => {
    expect(isAllowedConnectTarget('demo.zendesk.com:443')).toBe(true)
    expect(isAllowedConnectTarget('www.zopim.com:443')).toBe(true)
    for (const target of [
      'demo.zendesk.com:80',
      'example.com:443',
      '127.0.0.1:443',
      'demo.zendesk.com',
      'zendesk.com:443',
    ]) {
      expect(isAllowedConnectTarget(target), target).toBe(false)
    }
  })
})

describe('TLS configuration', () => {
  it('defaults: off, port 8443, the CA beside the SQLite file', () => {
    const config = loadTlsConfig({}, {}, 'sqlite:/srv/chat/store.db')
    expect(config).toEqual({
      https: false,
      proxy: false,
      port: 8443,
      dir: '/srv/chat/tls',
      names: [],
    })
    expect(defaultTlsDir('postgres://u:p@h/db')).toBe(resolve('data', 'tls'))
  })

  it('flags win over the environment', () => {
    const env = {
      CHAT_EXPORT_TLS: 'true',
      CHAT_EXPORT_TLS_PORT: '9443',
      CHAT_EXPORT_TLS_NAMES: 'a.test, 10.0.0.1',
      CHAT_EXPORT_PROXY: '1',
    }
    expect(loadTlsConfig({}, env, 'sqlite:x.db')).toMatchObject({
      https: true,
      proxy: true,
      port: 9443,
      names: ['a.test', '10.0.0.1'],
    })
    expect(
      loadTlsConfig({ tlsPort: '1443', tlsName: ['b.test'], proxy: false }, env, 'sqlite:x.db'),
    ).toMatchObject({ port: 1443, names: ['b.test'], proxy: false })
  })

  it('names the flag at fault', () => {
    const problems = (f: () => unknown) => {
      try {
        f()
      } catch (err) {
        return (err as ConfigError).problems.join('\n')
      }
      return ''
    }
    expect(problems(() => loadTlsConfig({ tlsPort: 'x' }, {}, 'sqlite:x.db'))).toMatch(
      /^--tls-port:/,
    )
    expect(problems(() => loadTlsConfig({ tlsCert: 'c.pem' }, {}, 'sqlite:x.db'))).toMatch(
      /--tls-cert and --tls-key/,
    )
    expect(problems(() => loadTlsConfig({}, { CHAT_EXPORT_TLS: 'maybe' }, 'sqlite:x.db'))).toMatch(
      /^CHAT_EXPORT_TLS:/,
    )
    expect(problems(() => loadTlsConfig({ tlsName: ['bad name'] }, {}, 'sqlite:x.db'))).toMatch(
      /^--tls-name:/,
    )
  })
})
