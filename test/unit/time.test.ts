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

/** The Date-based parser the hand-written one replaced: the oracle it must agree with. */
function referenceParseIso(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]00:?00)$/.exec(
    text,
  )
  if (!m) return undefined
  const [, y, mo, d, h, mi, s, frac] = m
  const date = new Date(0)
  date.setUTCFullYear(Number(y), Number(mo) - 1, Number(d))
  date.setUTCHours(Number(h), Number(mi), Number(s), 0)
  const ms = date.getTime()
  if (
    date.getUTCFullYear() !== Number(y) ||
    date.getUTCDate() !== Number(d) ||
    date.getUTCMonth() !== Number(mo) - 1 ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  ) {
    return undefined
  }
  return (ms / 1000) * 1_000_000 + Number((frac ?? '').slice(0, 6).padEnd(6, '0'))
}

describe('ISO timestamps against Date', () => {
  const digits = (n: number) => fc.stringMatching(new RegExp(`^\\d{${n}}$`))
  // Near-valid texts: every field over its full digit range, any fraction length, every zone form.
  const nearIso = fc
    .tuple(
      fc.oneof(digits(4), fc.constantFrom('0000', '1900', '2000', '2024', '2100', '9999', '1969')),
      fc.oneof(digits(2), fc.constantFrom('00', '01', '02', '12', '13')),
      fc.oneof(digits(2), fc.constantFrom('00', '28', '29', '30', '31', '32')),
      fc.oneof(digits(2), fc.constantFrom('23', '24')),
      fc.oneof(digits(2), fc.constantFrom('59', '60')),
      fc.oneof(digits(2), fc.constantFrom('59', '60')),
      fc.oneof(fc.constant(''), fc.stringMatching(/^\.\d{0,11}$/)),
      fc.constantFrom('Z', '+00:00', '-00:00', '+0000', '-0000', '+01:00', '+00:0', 'z', '', 'ZZ'),
      fc.constantFrom('-', 'T', ':', '/', ' '),
    )
    .map(([y, mo, d, h, mi, s, frac, zone, sep]) => {
      const text = `${y}-${mo}-${d}T${h}:${mi}:${s}${frac}${zone}`
      // Now and then one separator is replaced, to reach the checks on each.
      const at = [4, 7, 10, 13, 16][Number(s) % 5] ?? 4
      return Number(mi) % 7 === 0 ? `${text.slice(0, at)}${sep}${text.slice(at + 1)}` : text
    })

  it('parses exactly what the Date-based reference parses, to the same value', () => {
    fc.assert(
      fc.property(fc.oneof(nearIso, fc.string()), (text) => {
        expect(parseIso(text)).toBe(referenceParseIso(text))
      }),
      { numRuns: 20_000 },
    )
  })

  it('formats as Date does, over the whole supported range', () => {
    const byDate = (micros: number) => {
      const whole = Math.floor(micros / 1_000_000)
      const fraction = micros - whole * 1_000_000
      const base = new Date(whole * 1000).toISOString().slice(0, 19)
      return fraction === 0 ? `${base}Z` : `${base}.${String(fraction).padStart(6, '0')}Z`
    }
    const days = fc.integer({ min: 0, max: 104_249 }).map((d) => d * 86_400_000_000)
    fc.assert(
      fc.property(fc.oneof(safeMicros, days), (micros) => {
        expect(formatIso(micros)).toBe(byDate(micros))
      }),
      { numRuns: 5000 },
    )
    expect(formatIso(Number.MAX_SAFE_INTEGER)).toBe('2255-06-05T23:47:34.740991Z')
    expect(formatIso(0)).toBe('1970-01-01T00:00:00Z')
    expect(formatIso(951_782_400_000_000)).toBe('2000-02-29T00:00:00Z')
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
