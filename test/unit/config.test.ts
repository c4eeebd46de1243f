import { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { registerServe } from '../../src/cli/commands/serve.js'
import { registerSimulate } from '../../src/cli/commands/simulate.js'
import { registerSync } from '../../src/cli/commands/sync.js'
import {
  ConfigError,
  loadServeConfig,
  loadSimulateConfig,
  loadSyncConfig,
  resolveStoreUrl,
} from '../../src/config/config.js'

function problemsOf(fn: () => unknown): string[] {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return (err as ConfigError).problems
  }
  return expect.unreachable('no ConfigError')
}

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
      expect(problems).toMatch(/^--port: expected an integer from 0 to 65535 \(got "eighty"\)$/m)
      expect(problems).toMatch(/^--store: expected sqlite:PATH or postgres:/m)
      expect(problems).toMatch(/^--public-url: expected an absolute URL/m)
    }
    expect(() => loadServeConfig({ profile: 'fast' }, {})).toThrow(
      /--profile: expected default or zendesk/,
    )
    expect(() => loadServeConfig({ faults: '429=2' }, {})).toThrow(/between 0 and 1/)
  })

  it('resolves the store URL of admin commands the same way', () => {
    expect(resolveStoreUrl(undefined, {})).toBe('sqlite:./data/chat-export.db')
    expect(resolveStoreUrl(undefined, { CHAT_EXPORT_STORE: 'postgres://u:p@h/db' })).toBe(
      'postgres://u:p@h/db',
    )
    expect(() => resolveStoreUrl('redis://x', {})).toThrow(ConfigError)
  })

  it('hands on parsed values: numbers, booleans and the fault plan', () => {
    const config = loadServeConfig({ demo: true, faults: 'header,429=0.5' }, {})
    expect(config.demo).toBe(true)
    expect(config.demoSeed).toBe(42)
    expect(config.faults).toMatchObject({ header: true, rates: { r429: 0.5 } })
    expect(loadServeConfig({}, {}).faults).toBeUndefined()
  })
})

describe('errors name where the bad value came from', () => {
  it('names the flag when the flag was given, the variable when the environment was', () => {
    expect(problemsOf(() => loadServeConfig({ publicUrl: 'nope' }, {}))).toEqual([
      '--public-url: expected an absolute URL such as https://chat.example.com (got "nope")',
    ])
    expect(problemsOf(() => loadServeConfig({}, { CHAT_EXPORT_PUBLIC_URL: 'nope' }))).toEqual([
      'CHAT_EXPORT_PUBLIC_URL: expected an absolute URL such as https://chat.example.com (got "nope")',
    ])
    expect(problemsOf(() => loadServeConfig({}, { PORT: '99999' }))).toEqual([
      'PORT: expected an integer from 0 to 65535 (got "99999")',
    ])
    expect(problemsOf(() => loadServeConfig({}, { CHAT_EXPORT_FAULTS: '429=2' }))[0]).toMatch(
      /^CHAT_EXPORT_FAULTS: rate "429=2" must be between 0 and 1/,
    )
    expect(
      problemsOf(() => resolveStoreUrl(undefined, { CHAT_EXPORT_STORE: 'redis://x' })),
    ).toEqual([
      'CHAT_EXPORT_STORE: expected sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE (got "redis://x")',
    ])
  })

  it('a flag wins over a bad variable, which is then never read', () => {
    expect(loadServeConfig({ port: '9000' }, { CHAT_EXPORT_PORT: 'bad' }).port).toBe(9000)
  })

  it('never echoes a token, and hides passwords in URLs', () => {
    const problems = problemsOf(() =>
      loadServeConfig({ store: 'mysql://user:s3cret@host/db' }, {}),
    ).join('\n')
    expect(problems).not.toContain('s3cret')
    expect(
      problemsOf(() => loadSyncConfig({ from: 'http://h', to: 'jsonl:x' }, {})).join('\n'),
    ).toMatch(/^Missing --token \(or set CHAT_EXPORT_TOKEN\)$/)
  })

  it('sync: flags, variables and defaults, parsed', () => {
    const config = loadSyncConfig(
      { from: 'http://h', to: 'sqlite:x.db', interval: '5m' },
      { CHAT_EXPORT_TOKEN: 'from-env' },
    )
    expect(config).toMatchObject({
      token: 'from-env',
      intervalMs: 300_000,
      limit: 1000,
      maxRetries: 10,
      deletedMode: 'flag',
      follow: false,
      startTime: undefined,
    })
    expect(config.streams).toHaveLength(5)
    expect(
      loadSyncConfig({ from: 'h', to: 'jsonl:x', token: 'flag' }, { CHAT_EXPORT_TOKEN: 'env' })
        .token,
    ).toBe('flag')
    const problems = problemsOf(() =>
      loadSyncConfig({ from: 'h', to: 'mysql://h/db', token: 't', limit: '0', interval: '1d' }, {}),
    )
    expect(problems).toEqual([
      expect.stringMatching(/^--to: Unsupported destination/),
      '--interval: expected a duration such as 30s, 5m, 1h or 500ms (got "1d")',
      '--limit: expected an integer from 1 to 1000 (got "0")',
    ])
  })

  it('simulate: flags, variables and defaults, parsed', () => {
    const config = loadSimulateConfig(
      { url: 'http://127.0.0.1:1', speed: '60' },
      { CHAT_EXPORT_TOKEN: 't' },
    )
    expect(config).toMatchObject({
      token: 't',
      seed: 1,
      speed: 60,
      hours: 24,
      agents: 8,
      arrivalsPerHour: 20,
      utcOffsetMinutes: 0,
      batchSize: 500,
      start: undefined,
      accountNumber: undefined,
    })
    expect(
      problemsOf(() => loadSimulateConfig({ url: 'x', from: 'yesterday', hours: '-1' }, {})),
    ).toEqual([
      '--url: expected an absolute URL such as http://127.0.0.1:8080 (got "x")',
      expect.stringMatching(/^Missing --token \(or set CHAT_EXPORT_TOKEN\)\. Create one with/),
      '--from: expected an ISO-8601 UTC time such as 2024-05-06T00:00:00Z (got "yesterday")',
      '--hours: expected a positive number (got "-1")',
    ])
  })
})

describe('--help shows the defaults from the settings', () => {
  function help(register: (program: Command) => void, command: string): string {
    const program = new Command().name('chat-export')
    register(program)
    return program.commands.find((c) => c.name() === command)!.helpInformation()
  }

  it('serve', () => {
    const text = help(registerServe, 'serve').replace(/\s+/g, ' ')
    expect(text).toContain('(default: 8080; env: CHAT_EXPORT_PORT or PORT)')
    expect(text).toContain('(default: sqlite:./data/chat-export.db; env: CHAT_EXPORT_STORE)')
    expect(text).toContain('(default: 0; zendesk profile: 300; env: CHAT_EXPORT_MIN_START_AGE)')
    expect(text).toContain('(default: info; env: CHAT_EXPORT_LOG_LEVEL)')
  })

  it('sync', () => {
    const text = help((p) => registerSync(p), 'sync').replace(/\s+/g, ' ')
    expect(text).toContain('(default: 30s)')
    expect(text).toContain('(default: 1000)')
    expect(text).toContain(
      '--token <token> API token (prefer the variable, flags show in ps) (env: CHAT_EXPORT_TOKEN)',
    )
  })

  it('simulate', () => {
    const text = help((p) => registerSimulate(p), 'simulate').replace(/\s+/g, ' ')
    expect(text).toContain(
      '--speed <speed> max (as fast as possible), 1 (real time), 60 (a minute per second) (default: max)',
    )
    expect(text).toContain('--hours <n> simulated hours (default: 24)')
    expect(text).toContain('(default: from the seed)')
  })
})
