/**
 * The import splitter: JSON Lines and JSON arrays give the same items, with the line each starts
 * on, however the body is cut into pieces; a byte order mark is skipped; over-long items and
 * unclosed arrays are reported.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { SplitOutput } from '../../src/ingest/import-records.js'
import { MAX_RECORD_CHARS, RecordSplitter } from '../../src/ingest/import-records.js'

function split(pieces: readonly string[]): SplitOutput[] {
  const splitter = new RecordSplitter()
  return [...pieces.flatMap((p) => splitter.push(p)), ...splitter.end()]
}

/** Cuts `text` at the given fractions. */
function cut(text: string, at: readonly number[]): string[] {
  const points = [...new Set(at.map((f) => Math.floor(f * text.length)))].sort((a, b) => a - b)
  const pieces: string[] = []
  let from = 0
  for (const p of points) {
    pieces.push(text.slice(from, p))
    from = p
  }
  pieces.push(text.slice(from))
  return pieces
}

const items = fc.array(
  fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
  { maxLength: 8 },
)
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 })

describe('RecordSplitter', () => {
  it('JSON Lines, cut anywhere: each item once, with its line', () => {
    fc.assert(
      fc.property(items, cuts, fc.boolean(), (values, at, crlf) => {
        const text = values.map((v) => JSON.stringify(v)).join(crlf ? '\r\n\r\n' : '\n\n')
        const out = split(cut(text, at))
        expect(out).toEqual(
          values.map((v, i) => ({ record: { line: 2 * i + 1, text: JSON.stringify(v) } })),
        )
      }),
    )
  })

  it('a pretty-printed JSON array, cut anywhere: each element once, with the line it starts on', () => {
    fc.assert(
      fc.property(items, cuts, fc.boolean(), (values, at, bom) => {
        const text = `${bom ? '\uFEFF' : ''}${JSON.stringify(values, null, 2)}\n`
        const out = split(cut(text, at))
        expect(out.map((o) => ('record' in o ? JSON.parse(o.record.text) : o))).toEqual(values)
        const lines = text.split('\n')
        for (const o of out) {
          if (!('record' in o)) continue
          const first = o.record.text.split('\n')[0]
          expect(lines[o.record.line - 1]?.trim().replace(/,$/, '')).toBe(
            first?.trim().replace(/,$/, ''),
          )
        }
      }),
    )
  })

  it('skips a byte order mark before JSON Lines', () => {
    expect(split(['\uFEFF{"a":1}\n{"b":2}'])).toEqual([
      { record: { line: 1, text: '{"a":1}' } },
      { record: { line: 2, text: '{"b":2}' } },
    ])
  })

  it('reports an item longer than the limit and goes on with the next line', () => {
    const long = `{"a":"${'x'.repeat(MAX_RECORD_CHARS)}"}`
    const pieces = cut(`{"a":1}\n${long}\n{"b":2}`, [0.2, 0.5, 0.7, 0.99])
    const out = split(pieces)
    expect(out[0]).toEqual({ record: { line: 1, text: '{"a":1}' } })
    expect(out[1]).toMatchObject({ error: { line: 2 } })
    expect(out[2]).toEqual({ record: { line: 3, text: '{"b":2}' } })
    expect(out).toHaveLength(3)
  })

  it('reports an unclosed array, and text after its end', () => {
    expect(split(['[{"a":1},', '{"b"'])).toEqual([
      { record: { line: 1, text: '{"a":1}' } },
      { error: { line: 1, message: expect.stringContaining('not closed') } },
    ])
    expect(split(['[1]\n x'])).toEqual([
      { record: { line: 1, text: '1' } },
      { error: { line: 2, message: expect.stringContaining('after the closing') } },
    ])
  })
})
