import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../src/config/config.js'
import { loadPerfConfig } from '../../src/config/perf-config.js'

describe('performance settings of serve', () => {
  it('compress with brotli (else gzip) by default; flag over environment', () => {
    expect(loadPerfConfig({}, {}).compression).toBe('br')
    expect(loadPerfConfig({}, { CHAT_EXPORT_COMPRESSION: 'gzip' }).compression).toBe('gzip')
    expect(
      loadPerfConfig({ compression: 'off' }, { CHAT_EXPORT_COMPRESSION: 'gzip' }).compression,
    ).toBe('off')
  })

  it('names a bad value by the flag or variable it came from', () => {
    expect(() => loadPerfConfig({ compression: 'zstd' }, {})).toThrow(ConfigError)
    expect(() => loadPerfConfig({ compression: 'zstd' }, {})).toThrow(/--compression/)
    expect(() => loadPerfConfig({}, { CHAT_EXPORT_COMPRESSION: 'lz4' })).toThrow(
      /CHAT_EXPORT_COMPRESSION/,
    )
  })

  it('read pages in the main thread by default; flag over environment', () => {
    expect(loadPerfConfig({}, {}).readWorkers).toBe(0)
    expect(loadPerfConfig({}, { CHAT_EXPORT_READ_WORKERS: '2' }).readWorkers).toBe(2)
    expect(
      loadPerfConfig({ readWorkers: '3' }, { CHAT_EXPORT_READ_WORKERS: '0' }).readWorkers,
    ).toBe(3)
    expect(() => loadPerfConfig({ readWorkers: '-1' }, {})).toThrow(/--read-workers/)
    expect(() => loadPerfConfig({}, { CHAT_EXPORT_READ_WORKERS: 'all' })).toThrow(
      /CHAT_EXPORT_READ_WORKERS/,
    )
  })
})
