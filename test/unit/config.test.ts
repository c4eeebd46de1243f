import { describe, expect, it } from 'vitest'
import { ConfigError, loadServeConfig, resolveStoreUrl } from '../../src/config/config.js'

describe('serve configuration', () => {
  it('has defaults that run the embedded store on loopback with no delay and no limit', () => {
    const config = loadServeConfig({}, {})
    expect(config).toMatchObject({
      store: 'sqlite:./data/chat-export.db',
      host: '127.0.0.1',
      port: 8080,
      minStartAgeSeconds: 0,
      rateLimitPerMinute: 0,
    })
  })

  it('takes flags over environment over defaults', () => {
    const env = { CHAT_EXPORT_STORE: 'sqlite:/env.db', CHAT_EXPORT_PORT: '9000', PORT: '7000' }
    expect(loadServeConfig({}, env)).toMatchObject({ store: 'sqlite:/env.db', port: 9000 })
    expect(loadServeConfig({ port: '9100' }, env).port).toBe(9100)
    expect(loadServeConfig({}, { PORT: '7000' }).port).toBe(7000)
  })

  it('the zendesk profile restores the five-minute rule and 200 requests a minute, unless overridden', () => {
    expect(loadServeConfig({ profile: 'zendesk' }, {})).toMatchObject({
      minStartAgeSeconds: 300,
      rateLimitPerMinute: 200,
    })
    expect(loadServeConfig({ profile: 'zendesk', minStartAge: '60' }, {}).minStartAgeSeconds).toBe(
      60,
    )
  })

  it('names every bad setting', () => {
    try {
      loadServeConfig({ port: 'eighty', store: 'mysql://x', publicUrl: 'not a url' }, {})
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      const problems = (err as ConfigError).problems.join('\n')
      expect(problems).toMatch(/port/)
      expect(problems).toMatch(/store/)
      expect(problems).toMatch(/publicUrl/)
    }
    expect(() => loadServeConfig({ profile: 'fast' }, {})).toThrow(/unknown profile/)
    expect(() => loadServeConfig({ faults: '429=2' }, {})).toThrow(/between 0 and 1/)
  })

  it('resolves the store URL of admin commands the same way', () => {
    expect(resolveStoreUrl(undefined, {})).toBe('sqlite:./data/chat-export.db')
    expect(resolveStoreUrl(undefined, { CHAT_EXPORT_STORE: 'postgres://u:p@h/db' })).toBe(
      'postgres://u:p@h/db',
    )
    expect(() => resolveStoreUrl('redis://x', {})).toThrow(ConfigError)
  })
})
