import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  formatIso,
  formatIsoMicros,
  formatMicrosAsDecimalSeconds,
  microsToSeconds,
  parseDecimalSecondsToMicros,
  parseIntegerMicros,
  parseIso,
  secondsToMicros,
} from '../../src/domain/time.js'

const safeMicros = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })

/** Oracle for decimal seconds → µs, in BigInt so no float is involved. */
function bigMicros(whole: string, fraction: string): bigint {
  return BigInt(whole) * 1_000_000n + BigInt(fraction.slice(0, 6).padEnd(6, '0'))
}

describe('decimal seconds', () => {
  it('round-trips every safe microsecond value exactly', () => {
    fc.assert(
      fc.property(safeMicros, (x) => {
        expect(parseDecimalSecondsToMicros(formatMicrosAsDecimalSeconds(x))).toBe(x)
      }),
      { numRuns: 2000 },
    )
  })

  it('round-trips values just below a whole second near 2^53 µs, where floats are coarsest', () => {
    fc.assert(
      fc.property(fc.integer({ min: 9_000_000_000, max: 9_007_199_253 }), (k) => {
        const x = k * 1_000_000 - 1
        expect(formatMicrosAsDecimalSeconds(x)).toBe(`${k - 1}.999999`)
        expect(parseDecimalSecondsToMicros(formatMicrosAsDecimalSeconds(x))).toBe(x)
      }),
    )
  })

  it('writes valid JSON number text with no trailing zeros', () => {
    fc.assert(
      fc.property(safeMicros, (x) => {
        const text = formatMicrosAsDecimalSeconds(x)
        expect(text).toMatch(/^(0|[1-9]\d*)(\.\d{0,5}[1-9])?$/)
        expect(typeof JSON.parse(text)).toBe('number')
      }),
    )
  })

  it('formats the cursors of the reference examples', () => {
    expect(formatMicrosAsDecimalSeconds(1_608_615_725_000_000)).toBe('1608615725')
    expect(formatMicrosAsDecimalSeconds(1_512_172_860_657_078)).toBe('1512172860.657078')
    expect(formatMicrosAsDecimalSeconds(1_608_615_725_500_000)).toBe('1608615725.5')
    expect(formatMicrosAsDecimalSeconds(1_608_615_725_000_120)).toBe('1608615725.00012')
    expect(formatMicrosAsDecimalSeconds(0)).toBe('0')
  })

  it('parses decimals exactly, agreeing with a BigInt oracle', () => {
    const digits = (max: number) => fc.stringMatching(new RegExp(`^\\d{1,${max}}$`))
    fc.assert(
      fc.property(digits(9), fc.option(digits(6), { nil: undefined }), (whole, fraction) => {
        const text = fraction === undefined ? whole : `${whole}.${fraction}`
        expect(BigInt(parseDecimalSecondsToMicros(text)!)).toBe(bigMicros(whole, fraction ?? ''))
      }),
    )
  })

  it('accepts digits beyond the microsecond only when they are zeros', () => {
    expect(parseDecimalSecondsToMicros('1512172860.657078000')).toBe(1_512_172_860_657_078)
    expect(parseDecimalSecondsToMicros('1512172860.6570781')).toBeUndefined()
  })

  it.each([
    '',
    '-1',
    '+1',
    '1e9',
    '1.6e9',
    '1.',
    '.5',
    ' 1',
    '1 ',
    '0x10',
    'NaN',
    'Infinity',
    '1,5',
  ])('rejects %j', (text) => {
    expect(parseDecimalSecondsToMicros(text)).toBeUndefined()
  })

  it('rejects values past 2^53 µs instead of rounding them', () => {
    expect(parseDecimalSecondsToMicros('9007199254.740991')).toBe(Number.MAX_SAFE_INTEGER)
    expect(parseDecimalSecondsToMicros('9007199254.740992')).toBeUndefined()
    expect(parseDecimalSecondsToMicros('99999999999999999999')).toBeUndefined()
  })

  it('returns either undefined or a safe non-negative integer for any text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[\d.eE+-]{0,25}$/)), (text) => {
        const micros = parseDecimalSecondsToMicros(text)
        if (micros !== undefined) {
          expect(Number.isSafeInteger(micros)).toBe(true)
          expect(micros).toBeGreaterThanOrEqual(0)
        }
      }),
    )
  })
})

describe('integer microseconds', () => {
  it('parses digit strings and rejects everything else', () => {
    expect(parseIntegerMicros('1525010407403712')).toBe(1_525_010_407_403_712)
    expect(parseIntegerMicros('0')).toBe(0)
    for (const text of ['', '-1', '1.5', '1e6', ' 1', '9007199254740992']) {
      expect(parseIntegerMicros(text)).toBeUndefined()
    }
  })
})

describe('ISO timestamps', () => {
  it('round-trips every safe microsecond value through formatIso and parseIso', () => {
    fc.assert(
      fc.property(safeMicros, (x) => {
        expect(parseIso(formatIso(x))).toBe(x)
        expect(parseIso(formatIsoMicros(x))).toBe(x)
      }),
      { numRuns: 2000 },
    )
  })

  it('writes seconds precision when the fraction is zero, else six digits, always with Z', () => {
    expect(formatIso(1_608_613_536_000_000)).toBe('2020-12-22T05:05:36Z')
    expect(formatIso(1_608_613_536_000_120)).toBe('2020-12-22T05:05:36.000120Z')
    expect(formatIsoMicros(1_608_613_536_000_000)).toBe('2020-12-22T05:05:36.000000Z')
    expect(formatIsoMicros(1_525_000_000_957_650)).toMatch(/\.957650Z$/)
  })

  it('parses the timestamps of the reference examples', () => {
    expect(parseIso('2020-12-22T04:54:16Z')).toBe(1_608_612_856_000_000)
    expect(parseIso('2018-04-29T10:26:40.957650Z')).toBe(1_524_997_600_957_650)
    expect(parseIso('2017-12-02T00:01:00.657078Z')).toBe(1_512_172_860_657_078)
  })

  it('accepts +00:00 and truncates digits past the microsecond', () => {
    expect(parseIso('2020-12-22T04:54:16+00:00')).toBe(parseIso('2020-12-22T04:54:16Z'))
    expect(parseIso('2020-12-22T04:54:16.123456789Z')).toBe(1_608_612_856_123_456)
  })

  it.each([
    '',
    '2020-12-22',
    '2020-12-22 04:54:16Z',
    '2020-12-22T04:54:16',
    '2020-12-22T04:54:16+01:00',
    '2020-02-30T00:00:00Z',
    '2020-13-01T00:00:00Z',
    '2020-12-22T04:54:16.Z',
    '2017-04-24T12:45:32+00:00Z',
    '1608612856',
  ])('rejects %j', (text) => {
    expect(parseIso(text)).toBeUndefined()
  })

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const micros = parseIso(text)
        if (micros !== undefined) expect(Number.isInteger(micros)).toBe(true)
      }),
    )
  })
})

describe('durations', () => {
  it('converts the agent timeline durations to µs and back', () => {
    expect(secondsToMicros(10654.117251)).toBe(10_654_117_251)
    expect(secondsToMicros(65.705271)).toBe(65_705_271)
    expect(microsToSeconds(10_654_117_251)).toBe(10654.117251)
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 12 }), (micros) => {
        expect(secondsToMicros(microsToSeconds(micros))).toBe(micros)
      }),
    )
  })
})
