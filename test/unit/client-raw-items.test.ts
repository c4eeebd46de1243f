/**
 * The raw-item scanner must find exactly the items JSON.parse finds, whatever the items hold:
 * strings with escapes and quotes, brackets and braces inside strings, unicode, nested arrays.
 */
import fc from 'fast-check'
import { describe, expect, it, vi } from 'vitest'
import { scanItemLines, scanRawItemBytes, scanRawItems } from '../../src/client/raw-items.js'
import { DamagedPageError, parsePageBody } from '../../src/client/export-page.js'

const KEYS = ['id', 'deleted', 'agent_id', 'start_time'] as const

/** Strings full of what a scanner could stumble on. */
const tricky = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.string({
    unit: fc.constantFrom('"', '\\', '[', ']', '{', '}', ',', ':', '\n', 'a', 'é', '😀', '\u2028'),
  }),
  // Long enough that the scanner crosses them with indexOf (past its first 24 bytes), with runs
  // of backslashes before quotes.
  fc.string({
    unit: fc.constantFrom('"', '\\', '\\\\', 'a', 'é', '😀', '{', ']'),
    minLength: 20,
    maxLength: 120,
  }),
)
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    tricky,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(tricky, tie('node'), { maxKeys: 4 }),
  ),
})).node
const item = fc.record(
  {
    id: fc.oneof(tricky, fc.integer()),
    deleted: fc.boolean(),
    agent_id: fc.integer(),
    start_time: tricky,
    other: fc.dictionary(tricky, value, { maxKeys: 5 }),
    nested: fc.array(fc.array(value, { maxLength: 3 }), { maxLength: 3 }),
  },
  { requiredKeys: [] },
)
const items = fc.array(item, { maxLength: 8 })

describe('scanRawItems', () => {
  it('returns exactly the items JSON.parse finds, compact or indented', () => {
    fc.assert(
      fc.property(items, fc.constantFrom(undefined, 0, 2), (list, indent) => {
        const text = JSON.stringify(list, null, indent)
        const start = text.indexOf('[') + 1
        const end = text.lastIndexOf(']')
        const raw = scanRawItems(text, start, end, KEYS)
        expect(raw).toBeDefined()
        const parsed = JSON.parse(text) as Record<string, unknown>[]
        expect(raw?.map((r) => JSON.parse(r.json) as unknown)).toEqual(parsed)
        raw?.forEach((r, i) => {
          const expected: Record<string, unknown> = {}
          for (const key of KEYS) if (key in (parsed[i] ?? {})) expected[key] = parsed[i]?.[key]
          const found = Object.fromEntries(
            Object.entries(r.attributes).map(([k, v]) => [k, JSON.parse(v) as unknown]),
          )
          expect(found).toEqual(expected)
        })
      }),
      { numRuns: 300 },
    )
  })

  it('refuses what is not a sequence of objects', () => {
    for (const text of ['[1]', '[{"a":1} {"b":2}]', '[{"a":"x]', '[{"a":[1}]', '[{"a":1},]']) {
      expect(scanRawItems(text, 1, text.length - 1, KEYS), text).toBeUndefined()
    }
  })
})

const utf8 = (text: string) => new TextEncoder().encode(text)

describe('scanRawItemBytes', () => {
  it('finds what the string scanner finds, on the UTF-8 bytes, with each item its exact bytes', () => {
    fc.assert(
      fc.property(items, fc.constantFrom(undefined, 0, 2), (list, indent) => {
        const text = JSON.stringify(list, null, indent)
        const bytes = utf8(text)
        const fromText = scanRawItems(text, text.indexOf('[') + 1, text.lastIndexOf(']'), KEYS)
        const fromBytes = scanRawItemBytes(
          bytes,
          bytes.indexOf(0x5b) + 1,
          bytes.lastIndexOf(0x5d),
          KEYS,
        )
        expect(fromBytes).toBeDefined()
        expect(fromBytes?.map((r) => r.json)).toEqual(fromText?.map((r) => r.json))
        expect(fromBytes?.map((r) => r.attributes)).toEqual(fromText?.map((r) => r.attributes))
        fromBytes?.forEach((r) => expect(r.bytes).toEqual(utf8(r.json)))
      }),
      { numRuns: 300 },
    )
  })

  it('finds the same items wherever the body starts in memory, with long strings', () => {
    // A body is often a view into a larger buffer: bytes outside it (here quotes and
    // backslashes) must never be looked at, and long strings full of escapes must end where
    // they end.
    const long = fc.string({
      unit: fc.constantFrom('"', '\\', '[', '}', 'a', 'é', '😀', '\u0001', '\u007f'),
      maxLength: 80,
    })
    const longItem = fc.record({
      id: long,
      text: long,
      history: fc.array(fc.record({ msg: long, n: fc.integer() }), { maxLength: 4 }),
    })
    fc.assert(
      fc.property(fc.array(longItem, { maxLength: 5 }), fc.nat(7), (list, offset) => {
        const text = JSON.stringify(list)
        const encoded = utf8(text)
        // Quotes and backslashes around the body must not be looked at.
        const memory = new Uint8Array(offset + encoded.length + 8).fill(0x22)
        memory.set(encoded, offset)
        memory.fill(0x5c, offset + encoded.length)
        const bytes = memory.subarray(offset, offset + encoded.length)
        const fromText = scanRawItems(text, 1, text.length - 1, KEYS)
        const fromBytes = scanRawItemBytes(bytes, 1, bytes.length - 1, KEYS)
        expect(fromBytes).toBeDefined()
        expect(fromBytes?.map((r) => r.json)).toEqual(fromText?.map((r) => r.json))
        expect(fromBytes?.map((r) => r.attributes)).toEqual(fromText?.map((r) => r.attributes))
        expect(fromBytes?.map((r) => JSON.parse(r.json) as unknown)).toEqual(list)
      }),
      { numRuns: 300 },
    )
  })

  it('refuses what is not a sequence of objects', () => {
    for (const text of ['[1]', '[{"a":1} {"b":2}]', '[{"a":"x]', '[{"a":[1}]', '[{"a":1},]']) {
      const bytes = utf8(text)
      expect(scanRawItemBytes(bytes, 1, bytes.length - 1, KEYS), text).toBeUndefined()
    }
  })

  it('refuses a cut-off page at any point', () => {
    fc.assert(
      fc.property(
        items.filter((l) => l.length > 0),
        fc.nat(),
        (list, at) => {
          const bytes = utf8(JSON.stringify(list))
          const end = 1 + (at % (bytes.length - 2))
          const cut = scanRawItemBytes(bytes, 1, end, KEYS)
          const whole = scanRawItemBytes(bytes, 1, bytes.length - 1, KEYS) ?? []
          // An empty region (end = 1) is a page of no items; the end of each item is a page too.
          const boundaries = new Set<number>([1])
          let offset = 1
          for (const r of whole) {
            offset += r.bytes.length
            boundaries.add(offset)
            offset += 1
          }
          if (!boundaries.has(end)) expect(cut).toBeUndefined()
        },
      ),
      { numRuns: 200 },
    )
  })
})

describe('parsePageBody with raw items', () => {
  it('gives the same page as parsing it whole, with end_time from the tail', () => {
    fc.assert(
      fc.property(items, fc.boolean(), (list, ours) => {
        const url = 'http://127.0.0.1:1/api/v2/chat/incremental/chats?start_time=1&start_id=x'
        const tail = `"count":${list.length},"end_id":"x","end_time":1608615725.123457,"next_page":${JSON.stringify(url)}`
        const body = ours
          ? `{"chats":${JSON.stringify(list)},${tail}}`
          : `{${tail}, "chats": ${JSON.stringify(list, null, 1)}}`
        const raw = parsePageBody('chats', body, 1000, 'u', { rawAttributes: KEYS })
        const fromBytes = parsePageBody('chats', utf8(body), 1000, 'u', { rawAttributes: KEYS })
        const whole = parsePageBody('chats', body, 1000, 'u')
        expect(fromBytes.endTime).toBe(1608615725123457)
        expect(fromBytes.nextPage).toBe(url)
        expect(fromBytes.rawItems?.map((r) => r.json)).toEqual(raw.rawItems?.map((r) => r.json))
        expect(fromBytes.items).toEqual(whole.items)
        expect(raw.endTime).toBe(1608615725123457)
        expect(whole.endTime).toBe(1608615725123457)
        expect(raw.nextPage).toBe(url)
        expect(raw.rawItems?.map((r) => JSON.parse(r.json) as unknown)).toEqual(whole.items)
        expect(raw.items).toEqual(whole.items)
      }),
      { numRuns: 100 },
    )
  })
})

/** The items region of an item-lines page: "\n{…},\n{…}\n" (empty for no items). */
const linesOf = (list: unknown[]) =>
  list.length === 0 ? '' : `\n${list.map((i) => JSON.stringify(i)).join(',\n')}\n`

describe('scanItemLines', () => {
  it("finds each line's exact item and the attributes it has, as the full scanner does", () => {
    fc.assert(
      fc.property(items, fc.subarray([...KEYS], { minLength: 1 }), (list, wanted) => {
        const bytes = utf8(linesOf(list))
        const lines = scanItemLines(bytes, 0, bytes.length, wanted)
        const full = scanRawItemBytes(bytes, 0, bytes.length, wanted)
        expect(lines).toBeDefined()
        expect(lines?.map((r) => r.json)).toEqual(list.map((i) => JSON.stringify(i)))
        expect(lines?.map((r) => r.attributes)).toEqual(full?.map((r) => r.attributes))
      }),
      { numRuns: 300 },
    )
  })

  it("finds the same lines without Buffer (a browser), by the typed array's own search", () => {
    const list = [{ id: 'a', n: [1, { x: '\\"' }] }, { deleted: true, id: 2 }, {}]
    const bytes = utf8(linesOf(list))
    const withBuffer = scanItemLines(bytes, 0, bytes.length, ['id', 'deleted'])
    vi.stubGlobal('Buffer', undefined)
    try {
      const without = scanItemLines(bytes, 0, bytes.length, ['id', 'deleted'])
      expect(without?.map((r) => r.json)).toEqual(list.map((i) => JSON.stringify(i)))
      expect(without?.map((r) => r.attributes)).toEqual(withBuffer?.map((r) => r.attributes))
    } finally {
      vi.unstubAllGlobals()
    }
  })

  it('reads a line no further than its last wanted attribute', () => {
    // What follows `id` here is not JSON: a scan of the whole line would refuse it.
    const bytes = utf8('\n{"deleted":false,"id":"a","history":[}\n')
    expect(scanRawItemBytes(bytes, 0, bytes.length, ['id'])).toBeUndefined()
    expect(scanItemLines(bytes, 0, bytes.length, ['deleted', 'id'])?.[0]?.attributes).toEqual({
      deleted: 'false',
      id: '"a"',
    })
  })

  it('refuses a region that is not one item per line', () => {
    for (const region of [
      '{"a":1},{"b":2}', // compact: no newlines
      '\n{"a":1}\n{"b":2}\n', // no comma between lines
      '\n{"a":1},\n{"b":2},\n', // a comma after the last
      '\n{"a":\n1}\n', // a line that is not an object
      '\n{"a":1}', // no newline after the last
      '\n{"a":1}}\n', // more after the object on its line
      '\n{"a":1} {"b":2}\n', // two objects on one line
    ]) {
      const bytes = utf8(region)
      expect(scanItemLines(bytes, 0, bytes.length, ['id']), region).toBeUndefined()
    }
  })
})

describe('parsePageBody with item lines', () => {
  const url = 'http://127.0.0.1:1/api/v2/chat/incremental/chats?start_time=1&start_id=x'
  const page = (region: string, count: number) =>
    utf8(
      `{"chats":[${region}],"count":${count},"end_id":"x","end_time":1,"next_page":${JSON.stringify(url)}}`,
    )

  it('gives the items of whole parsing, whether or not the page is really laid out in lines', () => {
    fc.assert(
      fc.property(items, fc.constantFrom('lines', 'compact', 'indented'), (list, layout) => {
        const region =
          layout === 'lines'
            ? linesOf(list)
            : layout === 'compact'
              ? JSON.stringify(list).slice(1, -1)
              : JSON.stringify(list, null, 2).slice(1, -1)
        const body = page(region, list.length)
        const raw = parsePageBody('chats', body, 1000, 'u', {
          rawAttributes: KEYS,
          itemLines: true,
        })
        // What JSON makes of the list (-0 is written 0).
        const sent = JSON.parse(JSON.stringify(list)) as unknown
        expect(raw.rawItems?.map((r) => JSON.parse(r.json) as unknown)).toEqual(sent)
        expect(raw.items).toEqual(sent)
      }),
      { numRuns: 200 },
    )
  })

  it('still refuses a page whose count disagrees with its lines', () => {
    const body = page(linesOf([{ id: 'a' }, { id: 'b' }]), 3)
    expect(() =>
      parsePageBody('chats', body, 1000, 'u', { rawAttributes: ['id'], itemLines: true }),
    ).toThrow(DamagedPageError)
  })
})
