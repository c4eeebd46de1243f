import { describe, expect, it } from 'vitest'
import { ConfigError, loadServeConfig } from '../../src/config/config.js'
import { DEFAULT_LIMITS } from '../../src/config/limits-config.js'

describe('limits config', () => {
  it('defaults when the environment sets nothing', () => {
    expect(loadServeConfig({}, {}).limits).toEqual(DEFAULT_LIMITS)
  })

  it('reads the send timeout and the bytes-in-flight bound from the environment', () => {
    const config = loadServeConfig(
      {},
      { CHAT_EXPORT_SEND_TIMEOUT: '2.5', CHAT_EXPORT_MAX_BYTES_IN_FLIGHT: '1048576' },
    )
    expect(config.limits).toMatchObject({ sendTimeoutSeconds: 2.5, maxBytesInFlight: 1048576 })
  })

  it('takes a flag over the environment', () => {
    const config = loadServeConfig({ sendTimeout: '5' }, { CHAT_EXPORT_SEND_TIMEOUT: '2.5' })
    expect(config.limits?.sendTimeoutSeconds).toBe(5)
  })

  it('names a bad value', () => {
    expect(() => loadServeConfig({}, { CHAT_EXPORT_SEND_TIMEOUT: '-1' })).toThrow(ConfigError)
    expect(() => loadServeConfig({}, { CHAT_EXPORT_MAX_BYTES_IN_FLIGHT: 'lots' })).toThrow(
      /CHAT_EXPORT_MAX_BYTES_IN_FLIGHT/,
    )
  })
})
