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

  it('warn of event-loop stalls of 100 ms by default; 0 turns it off', () => {
    expect(loadPerfConfig({}, {}).stallWarnMs).toBe(100)
    expect(loadPerfConfig({}, { CHAT_EXPORT_STALL_WARN_MS: '0' }).stallWarnMs).toBe(0)
    expect(
      loadPerfConfig({ stallWarnMs: '250' }, { CHAT_EXPORT_STALL_WARN_MS: '0' }).stallWarnMs,
    ).toBe(250)
    expect(() => loadPerfConfig({ stallWarnMs: 'soon' }, {})).toThrow(/--stall-warn-ms/)
  })
})
