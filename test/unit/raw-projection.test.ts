/**
 * The raw projection gives exactly the bytes of parsing, projecting and serialising, for any JSON
 * text JSON.stringify writes, and gives up (the caller then parses) on any text it does not.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { SelectionTree } from '../../src/domain/fields.js'
import { projectItem } from '../../src/domain/fields.js'
import { projectRawJson } from '../../src/export/raw-projection.js'

const KEYS = ['id', 'a', 'b', 'c', 'é', 'x"y', '10', 'n']

const treeArb: fc.Arbitrary<SelectionTree> = fc.letrec<{ tree: SelectionTree }>((tie) => ({
  tree: fc
    .uniqueArray(
      fc.tuple(
        fc.constantFrom(...KEYS),
        fc.oneof({ depthSize: 'small' }, fc.constant(true as const), tie('tree')),
      ),
      { selector: ([k]) => k, maxLength: 4 },
    )
    .map((entries) => new Map(entries)),
})).tree

const valueArb = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string({ unit: 'grapheme' }),
    fc.string({ unit: 'binary' }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 5 }),
  ),
})).value

function project(text: string, tree: SelectionTree): string | null {
  const parts: Buffer[] = []
  return projectRawJson(Buffer.from(text, 'utf8'), tree, parts)
    ? Buffer.concat(parts).toString('utf8')
    : null
}

const expected = (text: string, tree: SelectionTree) =>
  JSON.stringify(projectItem(JSON.parse(text), { kind: 'some', attributes: tree }))

describe('raw projection', () => {
  it('matches parse + project + stringify on JSON.stringify output', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...KEYS), valueArb), treeArb, (item, tree) => {
        const text = JSON.stringify(item)
        expect(project(text, tree)).toBe(expected(text, tree))
      }),
      { numRuns: 2000 },
    )
  })

  it('gives up, or still matches, on text JSON.stringify would not write', () => {
    const tree: SelectionTree = new Map<string, SelectionTree | true>([
      ['id', true],
      ['a', new Map([['b', true]])],
    ])
    for (const text of [
      '{ "id": 1 }',
      '{"id":1.0}',
      '{"id":-0}',
      '{"id":1e3}',
      '{"id":12345678901234567890}',
      '{"id":"\\u0041"}',
      '{"id":"\\/"}',
      '{"id":"\\ud83d\\ude00"}',
      '{"id":1,"id":2}',
      '{"a":{"b":[1, 2]}}',
      '{"a":[{"b":1} ,{"b":2}]}',
      '{"id":1',
    ]) {
      const got = project(text, tree)
      let want: string | null
      try {
        want = expected(text, tree)
      } catch {
        want = null
      }
      if (got !== null) expect(got, text).toBe(want)
      if (want === null) expect(got, text).toBeNull()
    }
    // And the ones it must refuse outright, since copying them would change the output.
    expect(project('{"id":1.0}', tree)).toBeNull()
    expect(project('{"id":"\\u0041"}', tree)).toBeNull()
    expect(project('{"id":1,"id":2}', tree)).toBeNull()
  })
})
