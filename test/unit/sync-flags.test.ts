import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { EXPORT_STREAMS } from '../../src/client/index.js'
import { createProgressReporter } from '../../src/sync/progress-reporter.js'
import { RateWindow } from '../../src/sync/run-sync.js'
import { ConfigError } from '../../src/config/config.js'
import {
  parseDeletedMode,
  parseDuration,
  parseStartTime,
  parseStreams,
  loadSyncConfig,
} from '../../src/config/sync-config.js'

describe('sync flag parsing', () => {
  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['250ms', 250],
    ['45', 45_000],
    ['1.5s', 1500],
  ])('reads --interval %s as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms)
  })

  it.each(['', '5 minutes', '-3s', '1d'])('refuses --interval %j', (text) => {
    expect(() => parseDuration(text)).toThrow(ConfigError)
  })

  it('reads --start-time as ISO or epoch seconds, exactly to the microsecond', () => {
    expect(parseStartTime('2020-12-22T05:42:05.123456Z')).toEqual({
      epochMicros: 1_608_615_725_123_456,
    })
    expect(parseStartTime('1608615725.000001')).toEqual({ epochMicros: 1_608_615_725_000_001 })
    expect(parseStartTime('0')).toEqual({ epochMicros: 0 })
    expect(() => parseStartTime('1608615725123')).toThrow(/milliseconds or microseconds/)
    expect(() => parseStartTime('yesterday')).toThrow(ConfigError)
  })

  it('reads --postgres-data, jsonb unless json is asked for, and names the choices otherwise', () => {
    const base = { from: 'http://127.0.0.1:1', token: 't', to: 'postgres://u@h/db' }
    expect(loadSyncConfig(base, {}).postgresData).toBe('jsonb')
    expect(loadSyncConfig({ ...base, postgresData: 'json' }, {}).postgresData).toBe('json')
    expect(() => loadSyncConfig({ ...base, postgresData: 'text' }, {})).toThrow(/jsonb.*json/)
    expect(() =>
      loadSyncConfig({ ...base, to: 'sqlite:./export.db', postgresData: 'json' }, {}),
    ).toThrow(/only a postgres:\/\/ destination/)
    const spelled = { ...base, to: 'postgresql://u@h/db', postgresData: 'json' }
    expect(loadSyncConfig(spelled, {}).postgresData).toBe('json')
    // Left at its default, the flag is no problem for other destinations.
    expect(loadSyncConfig({ ...base, to: 'jsonl:./out' }, {}).postgresData).toBe('jsonb')
  })

  it('reads --streams as a list, defaulting to all five', () => {
    expect(parseStreams(undefined)).toEqual([...EXPORT_STREAMS])
    expect(parseStreams('agent_timeline, chats,chats')).toEqual(['agent_timeline', 'chats'])
    expect(() => parseStreams('chat')).toThrow(/Unknown stream "chat"/)
  })

  it('reads --deleted', () => {
    expect(parseDeletedMode('flag')).toBe('flag')
    expect(parseDeletedMode('remove')).toBe('remove')
    expect(() => parseDeletedMode('delete')).toThrow(/flag .* or remove/)
  })
})

describe('progress reporter', () => {
  it('logs a line when a stream catches up even inside the rate-limit window', () => {
    let text = ''
    const output = new PassThrough()
    output.on('data', (chunk: Buffer) => (text += chunk.toString()))
    let now = 0
    const reporter = createProgressReporter({
      mode: 'lines',
      output,
      streams: ['chats'],
      now: () => now,
    })
    const page = {
      type: 'page' as const,
      stream: 'chats' as const,
      pageItems: 5,
      pages: 1,
      totalItems: 5,
      itemsPerSecond: 10,
      recentItemsPerSecond: 10,
      cursorTime: '2020-01-01T00:00:00Z',
    }
    reporter.onEvent({ ...page, items: 5, caughtUp: false })
    now = 1000
    reporter.onEvent({ ...page, items: 10, caughtUp: false })
    reporter.onEvent({ ...page, items: 12, caughtUp: true })
    now = 2000
    reporter.onEvent({ ...page, pageItems: 0, items: 12, caughtUp: true })
    expect(text.trim().split('\n')).toEqual([
      'chats: 5 items in 1 pages (10.0/s), cursor 2020-01-01T00:00:00Z',
      'chats: 12 items in 1 pages (10.0/s), cursor 2020-01-01T00:00:00Z, caught up',
    ])
  })

  it('draws one bar line per stream on a terminal', async () => {
    let text = ''
    const output = Object.assign(new PassThrough(), {
      isTTY: true,
      columns: 120,
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
    })
    output.on('data', (chunk: Buffer) => (text += chunk.toString()))
    const reporter = createProgressReporter({
      mode: 'bar',
      output,
      streams: ['chats', 'agent_timeline'],
    })
    reporter.onEvent({ type: 'stream-start', stream: 'chats', resumed: false, cursorTime: null })
    reporter.onEvent({
      type: 'page',
      stream: 'chats',
      pageItems: 7,
      items: 7,
      pages: 1,
      totalItems: 7,
      itemsPerSecond: 3,
      recentItemsPerSecond: 3,
      cursorTime: '2020-01-01T00:00:00Z',
      caughtUp: true,
    })
    reporter.stop()
    await new Promise((r) => setImmediate(r))
    expect(text).toMatch(/chats\s+caught up 7 items \| 3\.0\/s \| cursor 2020-01-01T00:00:00Z/)
    expect(text).toContain('agent_timeline')
  })

  it('prints a message above the bars, not over them', async () => {
    let text = ''
    const output = Object.assign(new PassThrough(), {
      isTTY: true,
      columns: 120,
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
    })
    output.on('data', (chunk: Buffer) => (text += chunk.toString()))
    const reporter = createProgressReporter({ mode: 'bar', output, streams: ['chats'] })
    reporter.onEvent({ type: 'stream-start', stream: 'chats', resumed: false, cursorTime: null })
    reporter.log('SIGINT: stopping after the current page (again to stop at once)')
    reporter.stop()
    await new Promise((r) => setImmediate(r))
    const at = text.indexOf('SIGINT: stopping after the current page (again to stop at once)\n')
    expect(at).toBeGreaterThanOrEqual(0)
    // The bar is drawn again after the message, on a line of its own.
    // (Escape sequences that move the cursor removed.)
    const ESC = String.fromCharCode(27)
    const shown = text.slice(at).split(ESC).join('')
    expect(shown).toMatch(/\n(\[\d*G)?chats\s+starting/)
  })

  it('prints lines, each ending with a newline, when a bar is asked for without a terminal', () => {
    let text = ''
    const output = new PassThrough()
    output.on('data', (chunk: Buffer) => (text += chunk.toString()))
    const reporter = createProgressReporter({ mode: 'bar', output, streams: ['chats'] })
    reporter.onEvent({ type: 'stream-start', stream: 'chats', resumed: false, cursorTime: null })
    reporter.log('SIGTERM: stopping after the current page (again to stop at once)')
    reporter.onEvent({ type: 'stream-done', stream: 'chats', items: 3, pages: 1 })
    expect(text).toBe(
      'chats: starting\nSIGTERM: stopping after the current page (again to stop at once)\nchats: done, 3 items in 1 pages\n',
    )
  })
})

describe('recent rate', () => {
  it('shows what the last 30 s did, where the whole-run average keeps falling', () => {
    const window = new RateWindow(30_000)
    window.add(0, 0)
    window.add(10_000, 1000)
    expect(window.rate(10_000, 1000)).toBe(100)
    // Caught up: nothing new for a minute. The average would still say 1000 / 70 s.
    window.add(40_000, 1000)
    window.add(70_000, 1000)
    expect(window.rate(70_000, 1000)).toBe(0)
    // Busy again: 600 items in the last 30 s.
    window.add(100_000, 1600)
    expect(window.rate(100_000, 1600)).toBe(20)
  })
})
