import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { ErrorCode } from '../../src/domain/errors.js'
import { AppError } from '../../src/domain/errors.js'
import type { ExportQueryContext } from '../../src/domain/export-query.js'
import { parseExportQuery } from '../../src/domain/export-query.js'
import type { StreamName } from '../../src/domain/streams.js'
import { STREAM_NAMES, streamSpec } from '../../src/domain/streams.js'
import { formatMicrosAsDecimalSeconds } from '../../src/domain/time.js'

/** 2020-12-22T05:42:05.123456Z, a moment after every example item. */
const NOW = 1_608_615_725_123_456
const CTX: ExportQueryContext = { now: NOW, lastPosition: NOW - 1_000_000, minStartAgeMicros: 0 }

const SECONDS_STREAMS = STREAM_NAMES.filter((name) => streamSpec(name).unit === 'seconds')

function parse(stream: StreamName, query: string, ctx: ExportQueryContext = CTX) {
  return parseExportQuery(streamSpec(stream), new URLSearchParams(query), ctx)
}

function rejection(stream: StreamName, query: string, ctx: ExportQueryContext = CTX): AppError {
  try {
    parse(stream, query, ctx)
  } catch (error) {
    expect(error).toBeInstanceOf(AppError)
    const appError = error as AppError
    expect(appError.status).toBe(400)
    expect(appError.description.length).toBeGreaterThan(20)
    return appError
  }
  throw new Error(`expected ${stream}?${query} to be rejected`)
}

function expectCode(stream: StreamName, query: string, code: ErrorCode, ctx = CTX): string {
  const error = rejection(stream, query, ctx)
  expect(error.code).toBe(code)
  return error.description
}

/** The `start_time=…` value an error description suggests. */
function suggestedStartTime(description: string): string {
  const match = /start_time=(\d+(?:\.\d+)?)/.exec(description)
  if (!match?.[1]) throw new Error(`no suggested start_time in: ${description}`)
  return match[1]
}

describe('defaults', () => {
  it.each(['', 'fields=&limit=&start_id=&start_time=', 'unknown=1&start_time='])(
    'an absent or empty parameter counts as absent (%j)',
    (query) => {
      expect(parse('chats', query)).toEqual({
        startTime: 0,
        startSortId: null,
        startIdRaw: null,
        limit: 1000,
        limitRaw: null,
        fieldsRaw: null,
        fields: { kind: 'id-only' },
      })
      expect(parse('agent_timeline', query)).toMatchObject({
        startTime: 0,
        limit: 1000,
        fieldsRaw: null,
        fields: { kind: 'all' },
      })
    },
  )
})

describe('start_time on seconds streams', () => {
  it.each(SECONDS_STREAMS)('%s reads whole and fractional seconds exactly', (stream) => {
    expect(parse(stream, 'start_time=1608613496').startTime).toBe(1_608_613_496_000_000)
    expect(parse(stream, 'start_time=1512172860.657078').startTime).toBe(1_512_172_860_657_078)
    expect(parse(stream, 'start_time=1608613496.5').startTime).toBe(1_608_613_496_500_000)
    expect(parse(stream, 'start_time=1512172860.657078000').startTime).toBe(1_512_172_860_657_078)
    expect(parse(stream, 'start_time=0').startTime).toBe(0)
    expect(parse(stream, 'start_time=0.000001').startTime).toBe(1)
  })

  it('round-trips every cursor the server can write (decimal seconds of any past µs)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: NOW }), (micros) => {
        const text = formatMicrosAsDecimalSeconds(micros)
        expect(parse('chats', `start_time=${text}`).startTime).toBe(micros)
      }),
      { numRuns: 1000 },
    )
  })

  it.each([
    ['-1', 'negative'],
    ['-0.5', 'negative'],
    ['1e9', 'exponent'],
    ['1.6086e9', 'exponent'],
    ['abc', 'not a number'],
    ['0x5fe1', 'not a number'],
    [' 1608613496', 'not a number'],
    ['1608613496.', 'not a number'],
    ['.5', 'not a number'],
    ['+1608613496', 'not a number'],
    ['1608613496.1234567', 'six decimals'],
  ])('rejects %j as INVALID_START_TIME (%s)', (value, reason) => {
    const description = expectCode(
      'chats',
      `start_time=${encodeURIComponent(value)}`,
      'INVALID_START_TIME',
    )
    expect(description).toContain(reason)
    expect(description).toContain('seconds')
  })

  it.each([
    ['1608615725123', 'milliseconds', '1608615725.123'],
    ['1608615725000', 'milliseconds', '1608615725'],
    ['100000000000', 'milliseconds', '100000000'],
    ['1608615725123456', 'microseconds', '1608615725.123456'],
    ['1608615725123456.7', 'microseconds', '1608615725.123456'],
    ['1608615725123456789', 'nanoseconds', '1608615725.123456'],
  ])('names the unit of %j (%s) and the corrected value', (value, unit, corrected) => {
    const description = expectCode('chats', `start_time=${value}`, 'START_TIME_WRONG_UNIT')
    expect(description).toContain(unit)
    expect(description).toContain('takes start_time in seconds')
    expect(suggestedStartTime(description)).toBe(corrected)
  })

  it('the corrected value of a millisecond or microsecond cursor is the same moment', () => {
    fc.assert(
      fc.property(
        // From 1973 on, where milliseconds have 12+ digits and microseconds 15+.
        fc.integer({ min: 100_000_000_000, max: Math.floor(NOW / 1000) }),
        fc.constantFrom(1000, 1_000_000),
        (millis, scale) => {
          const micros = millis * 1000
          const sent = scale === 1000 ? millis : micros
          const description = expectCode(
            'conversions',
            `start_time=${sent}`,
            'START_TIME_WRONG_UNIT',
          )
          const corrected = suggestedStartTime(description)
          expect(parse('conversions', `start_time=${corrected}`).startTime).toBe(micros)
        },
      ),
    )
  })

  it('treats 11 digits as seconds: the year 5138 lies in the future', () => {
    expectCode('chats', 'start_time=99999999999', 'START_TIME_IN_FUTURE')
    expectCode('chats', 'start_time=9999999999', 'START_TIME_IN_FUTURE')
  })
})

describe('start_time on agent_timeline (integer microseconds)', () => {
  it('reads integer microseconds', () => {
    expect(parse('agent_timeline', 'start_time=1525010407403712').startTime).toBe(
      1_525_010_407_403_712,
    )
    expect(parse('agent_timeline', 'start_time=0').startTime).toBe(0)
    expect(parse('agent_timeline', 'start_time=100000000000000').startTime).toBe(
      100_000_000_000_000,
    )
  })

  it.each([
    ['1608615725', 'seconds', '1608615725000000'],
    ['1', 'seconds', '0'],
    ['0.5', 'seconds', '0'],
    ['99999999', 'seconds', '0'],
    ['100000000', 'seconds', '100000000000000'],
    ['1608615725.5', 'seconds', '1608615725500000'],
    ['1608615725123', 'milliseconds', '1608615725123000'],
    ['99999999999999', 'milliseconds', '99999999999999000'],
    ['1608615725123456789', 'nanoseconds', '1608615725123456'],
  ])('names the unit of %j (%s) and the corrected value', (value, unit, corrected) => {
    const description = expectCode('agent_timeline', `start_time=${value}`, 'START_TIME_WRONG_UNIT')
    expect(description).toContain(unit)
    expect(description).toContain('microseconds')
    expect(suggestedStartTime(description)).toBe(corrected)
  })

  it('the corrected value of a seconds cursor is the same moment', () => {
    fc.assert(
      fc.property(fc.integer({ min: 100_000_000, max: Math.floor(NOW / 1_000_000) }), (seconds) => {
        const description = expectCode(
          'agent_timeline',
          `start_time=${seconds}`,
          'START_TIME_WRONG_UNIT',
        )
        expect(
          parse('agent_timeline', `start_time=${suggestedStartTime(description)}`).startTime,
        ).toBe(seconds * 1_000_000)
      }),
    )
  })

  it.each(['1525010407403712.5', '0.0', '-1', '1e15', 'abc'])(
    'rejects %j as INVALID_START_TIME',
    (value) => {
      expect(
        expectCode(
          'agent_timeline',
          `start_time=${encodeURIComponent(value)}`,
          'INVALID_START_TIME',
        ),
      ).toContain('microseconds')
    },
  )
})

describe('start_time in the future or too recent', () => {
  it('accepts the present and rejects the next microsecond', () => {
    expect(parse('chats', `start_time=${formatMicrosAsDecimalSeconds(NOW)}`).startTime).toBe(NOW)
    expectCode(
      'chats',
      `start_time=${formatMicrosAsDecimalSeconds(NOW + 1)}`,
      'START_TIME_IN_FUTURE',
    )
    expect(parse('agent_timeline', `start_time=${NOW}`).startTime).toBe(NOW)
    expectCode('agent_timeline', `start_time=${NOW + 1}`, 'START_TIME_IN_FUTURE')
  })

  it('keeps a server-issued cursor valid when it is a few µs ahead of the clock', () => {
    const ctx = { ...CTX, lastPosition: NOW + 5 }
    expect(parse('agent_timeline', `start_time=${NOW + 5}`, ctx).startTime).toBe(NOW + 5)
    expect(
      parse('chats', `start_time=${formatMicrosAsDecimalSeconds(NOW + 3)}`, ctx).startTime,
    ).toBe(NOW + 3)
    expectCode('agent_timeline', `start_time=${NOW + 6}`, 'START_TIME_IN_FUTURE', ctx)
  })

  it('rejects values past 2^53 µs as in the future rather than rounding them', () => {
    expectCode('agent_timeline', 'start_time=9007199254740993', 'START_TIME_IN_FUTURE')
    expectCode('chats', 'start_time=9007199254.740993', 'START_TIME_IN_FUTURE')
  })

  it('enforces --min-start-age with the value to use', () => {
    const ctx = { ...CTX, minStartAgeMicros: 300_000_000 }
    const newest = NOW - 300_000_000
    expect(
      parse('chats', `start_time=${formatMicrosAsDecimalSeconds(newest)}`, ctx).startTime,
    ).toBe(newest)
    const description = expectCode(
      'chats',
      `start_time=${formatMicrosAsDecimalSeconds(newest + 1)}`,
      'START_TIME_TOO_RECENT',
      ctx,
    )
    expect(description).toMatch(/^Too recent start_time\. Use a start_time older than 300 seconds/)
    expect(parse('chats', `start_time=${suggestedStartTime(description)}`, ctx).startTime).toBe(
      newest,
    )

    const timeline = expectCode('agent_timeline', `start_time=${NOW}`, 'START_TIME_TOO_RECENT', ctx)
    expect(suggestedStartTime(timeline)).toBe(String(newest))
    // Without the setting the same start_time is fine.
    expect(parse('agent_timeline', `start_time=${NOW}`).startTime).toBe(NOW)
  })

  it('says the future is the problem when start_time is beyond now, even with a minimum age', () => {
    const ctx = { ...CTX, minStartAgeMicros: 300_000_000 }
    expectCode('agent_timeline', `start_time=${NOW + 1}`, 'START_TIME_IN_FUTURE', ctx)
  })
})

describe('start_id', () => {
  it('passes an item id through as the sort id', () => {
    const query = parse('chats', 'start_time=1608613496&start_id=2012.9339545.SJsAIFAY09HB1')
    expect(query).toMatchObject({
      startTime: 1_608_613_496_000_000,
      startSortId: '2012.9339545.SJsAIFAY09HB1',
      startIdRaw: '2012.9339545.SJsAIFAY09HB1',
    })
  })

  it('is allowed without start_time, which then defaults to 0', () => {
    expect(parse('department_events', 'start_id=R3J4l7Q.department%3A123.JNny6n')).toMatchObject({
      startTime: 0,
      startSortId: 'R3J4l7Q.department:123.JNny6n',
    })
  })

  it('pads an agent id on agent_timeline so it sorts as a number', () => {
    const query = parse('agent_timeline', 'start_time=1525010407403712&start_id=361271293212')
    expect(query.startIdRaw).toBe('361271293212')
    expect(query.startSortId).toBe(streamSpec('agent_timeline').sortIdFromStartId('361271293212'))
    expect(streamSpec('agent_timeline').endIdFromSortId(query.startSortId!)).toBe('361271293212')
  })

  it('rejects a malformed start_id', () => {
    expect(expectCode('agent_timeline', 'start_id=abc', 'INVALID_START_ID')).toContain('agent id')
    expectCode('agent_timeline', 'start_id=-5', 'INVALID_START_ID')
    expectCode('agent_timeline', `start_id=${'1'.repeat(21)}`, 'INVALID_START_ID')
    expect(expectCode('chats', `start_id=${'x'.repeat(201)}`, 'INVALID_START_ID')).toContain('200')
    expect(parse('chats', `start_id=${'x'.repeat(200)}`).startSortId).toHaveLength(200)
  })
})

describe('limit', () => {
  it('serves up to 1000 and echoes what was sent', () => {
    expect(parse('chats', 'limit=50')).toMatchObject({ limit: 50, limitRaw: '50' })
    expect(parse('chats', 'limit=1')).toMatchObject({ limit: 1, limitRaw: '1' })
    expect(parse('chats', 'limit=1000')).toMatchObject({ limit: 1000, limitRaw: '1000' })
    expect(parse('chats', 'limit=5000')).toMatchObject({ limit: 1000, limitRaw: '5000' })
    expect(parse('agent_timeline', 'limit=7')).toMatchObject({ limit: 7, limitRaw: '7' })
    expect(parse('chats', `limit=${'9'.repeat(400)}`).limit).toBe(1000)
    expect(parse('chats', 'limit=007').limit).toBe(7)
  })

  it.each(['0', '000', '-1', '1.5', '10.0', 'abc', '1e3', ' 5', '+5', '0x10'])(
    'rejects %j as INVALID_LIMIT',
    (value) => {
      expect(expectCode('chats', `limit=${encodeURIComponent(value)}`, 'INVALID_LIMIT')).toContain(
        '1000',
      )
    },
  )
})

describe('fields', () => {
  it('accepts the encoded and the unencoded form alike', () => {
    const encoded = parse('chats', 'fields=chats%28%2A%29')
    const plain = parse('chats', 'fields=chats(*)')
    expect(encoded).toEqual(plain)
    expect(plain).toMatchObject({ fieldsRaw: 'chats(*)', fields: { kind: 'all' } })
  })

  it('keeps the raw value on streams that ignore it, for next_page', () => {
    expect(parse('agent_timeline', 'fields=agent_timeline%28%2A%29')).toMatchObject({
      fieldsRaw: 'agent_timeline(*)',
      fields: { kind: 'all' },
    })
  })

  it('rejects invalid fields on chats and conversions', () => {
    expectCode('chats', 'fields=conversions(*)', 'INVALID_FIELDS')
    expectCode('conversions', 'fields=conversions(raiting)', 'INVALID_FIELDS')
  })
})

describe('robustness', () => {
  it('never throws anything but AppError, whatever the parameters', () => {
    const value = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.stringMatching(/^[-+.\deE ]{0,24}$/),
      fc.bigInt({ min: 0n, max: 10n ** 25n }).map(String),
    )
    fc.assert(
      fc.property(
        fc.constantFrom(...STREAM_NAMES),
        fc.dictionary(fc.constantFrom('start_time', 'start_id', 'limit', 'fields'), value),
        (stream, params) => {
          try {
            const query = parseExportQuery(streamSpec(stream), new URLSearchParams(params), CTX)
            expect(Number.isSafeInteger(query.startTime)).toBe(true)
            expect(query.startTime).toBeGreaterThanOrEqual(0)
            expect(query.startTime).toBeLessThanOrEqual(NOW)
            expect(query.limit).toBeGreaterThanOrEqual(1)
            expect(query.limit).toBeLessThanOrEqual(1000)
          } catch (error) {
            expect(error).toBeInstanceOf(AppError)
            expect((error as AppError).status).toBe(400)
          }
        },
      ),
      { numRuns: 1000 },
    )
  })
})
