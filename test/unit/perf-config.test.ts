import { describe, expect, it } from 'vitest'
import { ConfigError, loadServeConfig } from '../../src/config/config.js'

describe('performance settings of serve', () => {
  it('compress with brotli (else gzip) by default; flag over environment', () => {
    expect(loadServeConfig({}, {}).compression).toBe('br')
    expect(loadServeConfig({}, { CHAT_EXPORT_COMPRESSION: 'gzip' }).compression).toBe('gzip')
    expect(
      loadServeConfig({ compression: 'off' }, { CHAT_EXPORT_COMPRESSION: 'gzip' }).compression,
    ).toBe('off')
  })

  it('names a bad --compression together with the other bad settings', () => {
    try {
      loadServeConfig({ compression: 'zstd', port: 'eighty' }, {})
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError)
      const problems = (err as ConfigError).problems.join('\n')
      expect(problems).toMatch(/compression: expected one of off, gzip, br/)
      expect(problems).toMatch(/port/)
    }
  })
})
