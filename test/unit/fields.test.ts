import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { AttributeTree } from '../../src/domain/chat-attributes.js'
import { CHAT_ATTRIBUTES, CONVERSION_ATTRIBUTES } from '../../src/domain/chat-attributes.js'
import { AppError } from '../../src/domain/errors.js'
import type { FieldSelection, SelectionTree } from '../../src/domain/fields.js'
import {
  MAX_FIELDS_LENGTH,
  encodeFieldsForUrl,
  parseFields,
  projectItem,
} from '../../src/domain/fields.js'
import { STREAM_NAMES, streamSpec } from '../../src/domain/streams.js'

// The reference document's example items (semantics.md §9), copied into the repository.
const EXAMPLES_DIR = join(import.meta.dirname, '../fixtures/examples')

function readJsonl(name: string): Record<string, unknown>[] {
  return readFileSync(join(EXAMPLES_DIR, name), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

const CHATS = readJsonl('chats.jsonl')
const CONVERSIONS = readJsonl('conversions.jsonl')
/** The first example chat, with the members the assertions below read. */
const CHAT = CHATS[0] as Record<string, unknown> & {
  id: string
  history: { type: string }[]
  response_time: unknown
}

/** The offline message of reference-notes.md §1.1: no history, engagements, count, … */
const OFFLINE_MSG = {
  type: 'offline_msg',
  unread: false,
  tags: [],
  update_timestamp: '2021-04-27T15:09:17Z',
  webpath: [],
  session: { id: '210426.10414779.x', city: 'Ghent' },
  department_name: null,
  id: '2104.10414779.SVhDCJ9flq79a',
  message: 'Hi there!',
  deleted: false,
  timestamp: '2021-04-26T13:54:02Z',
  department_id: null,
  visitor: { phone: '', notes: 'Test 2', id: '3.45678', name: 'Jiny', email: '' },
  zendesk_ticket_id: null,
}

const chats = streamSpec('chats')
const conversions = streamSpec('conversions')

function fieldsError(raw: string, stream = chats): AppError {
  try {
    parseFields(raw, stream)
  } catch (error) {
    expect(error).toBeInstanceOf(AppError)
    const appError = error as AppError
    expect(appError.code).toBe('INVALID_FIELDS')
    expect(appError.status).toBe(400)
    return appError
  }
  throw new Error(`expected fields=${raw} to be rejected`)
}

function project(raw: string | null, item: unknown, stream = chats): unknown {
  return projectItem(item, parseFields(raw, stream))
}

describe('streams without resource expansion', () => {
  const plain = STREAM_NAMES.filter((name) => !streamSpec(name).expandable)

  it('are exactly agent_timeline, department_events and agent_events', () => {
    expect([...plain].sort()).toEqual(['agent_events', 'agent_timeline', 'department_events'])
  })

  it.each(plain)('%s accepts and ignores any fields value and serves whole objects', (name) => {
    const stream = streamSpec(name)
    for (const raw of [
      null,
      '',
      `${name}(*)`,
      'agent_timeline(*)',
      'chats(id)',
      '((',
      'x'.repeat(5000),
    ]) {
      expect(parseFields(raw, stream)).toEqual({ kind: 'all' })
    }
  })
})

describe('parseFields on chats and conversions', () => {
  it('selects ids only when fields is absent or empty', () => {
    for (const raw of [null, '', '  ']) {
      expect(parseFields(raw, chats)).toEqual({ kind: 'id-only' })
      expect(parseFields(raw, conversions)).toEqual({ kind: 'id-only' })
    }
    expect(project(null, CHAT)).toEqual({ id: CHAT.id })
    expect(CONVERSIONS.map((c) => project(null, c, conversions))).toEqual(
      CONVERSIONS.map((c) => ({ id: c.id })),
    )
  })

  it('selects whole objects with (*), and * wins over its siblings', () => {
    for (const raw of ['chats(*)', ' chats ( * ) ', 'chats(id,*)', 'chats(*,response_time.max)']) {
      expect(parseFields(raw, chats)).toEqual({ kind: 'all' })
    }
    expect(parseFields('conversions(*)', conversions)).toEqual({ kind: 'all' })
  })

  it('keeps exactly the named attributes, and always id', () => {
    expect(project('chats(id,comment,rating)', CHAT)).toEqual({
      id: CHAT.id,
      comment: null,
      rating: null,
    })
    expect(project('chats(tags)', CHATS[1])).toEqual({
      id: CHATS[1]!.id,
      tags: ['one', 'goodbye_survey'],
    })
  })

  it('keeps the parent of a nested path with only the named child', () => {
    expect(project('chats(response_time.max)', CHAT)).toEqual({
      id: CHAT.id,
      response_time: { max: null },
    })
    expect(project('chats(visitor.name,session.city)', CHAT)).toEqual({
      id: CHAT.id,
      visitor: { name: 'Visitor 25396546' },
      session: { city: 'Sydney' },
    })
  })

  it('maps a path through an array over its elements', () => {
    const expected = {
      id: CHAT.id,
      engagements: [{ rating: null, count: { total: 2 } }],
    }
    expect(project('chats(engagements.rating,engagements.count.total)', CHAT)).toEqual(expected)
    expect(project('chats(engagements(rating,count(total)))', CHAT)).toEqual(expected)
    expect(project(' chats ( engagements ( rating , count . total ) ) ', CHAT)).toEqual(expected)
    expect(project('chats(history.type)', CHAT)).toEqual({
      id: CHAT.id,
      history: CHAT.history.map((event) => ({ type: event.type })),
    })
    expect(project('chats(webpath.to)', CHAT)).toEqual({
      id: CHAT.id,
      webpath: [{ to: 'https://subdomain.zendesk.com/hc/en-us' }],
    })
  })

  it('keeps an attribute whole when it is also named whole, with (*) or with .*', () => {
    const whole = { id: CHAT.id, response_time: CHAT.response_time }
    expect(project('chats(response_time.max,response_time)', CHAT)).toEqual(whole)
    expect(project('chats(response_time,response_time.max)', CHAT)).toEqual(whole)
    expect(project('chats(response_time(*))', CHAT)).toEqual(whole)
    expect(project('chats(response_time.*)', CHAT)).toEqual(whole)
    expect(project('chats(response_time.max,response_time.avg)', CHAT)).toEqual({
      id: CHAT.id,
      response_time: { avg: null, max: null },
    })
  })

  it('omits attributes an item does not have (an offline message has no history)', () => {
    expect(project('chats(history,engagements.rating,message,visitor.name)', OFFLINE_MSG)).toEqual({
      id: OFFLINE_MSG.id,
      message: 'Hi there!',
      visitor: { name: 'Jiny' },
    })
  })

  it('keeps a null parent null', () => {
    const item = { id: 'c1', response_time: null, engagements: [null, { rating: 'good', id: 'e' }] }
    expect(project('chats(response_time.max,engagements.rating)', item)).toEqual({
      id: 'c1',
      response_time: null,
      engagements: [null, { rating: 'good' }],
    })
  })

  it('projects conversions, including all-null attribution', () => {
    expect(
      CONVERSIONS.map((c) => project('conversions(goal_name,attribution.chat_id)', c, conversions)),
    ).toEqual([
      {
        id: CONVERSIONS[0]!.id,
        goal_name: 'add to cart',
        attribution: { chat_id: '1805.2234024.QrLZCCXVnzGJH' },
      },
      {
        id: CONVERSIONS[1]!.id,
        goal_name: 'add to cart',
        attribution: { chat_id: '1805.2234024.QrLoIcRHWMeul' },
      },
      { id: CONVERSIONS[2]!.id, goal_name: 'place order', attribution: { chat_id: null } },
    ])
  })

  it('knows the deep chat attributes: conversions with attribution, history conversions', () => {
    expect(() =>
      parseFields(
        'chats(conversions.attribution.agent_name,history.conversion.attribution.department_name)',
        chats,
      ),
    ).not.toThrow()
  })

  it('does not modify the item', () => {
    const copy = structuredClone(CHAT)
    project('chats(engagements.rating,response_time.max)', copy)
    expect(copy).toEqual(CHAT)
  })
})

describe('parseFields errors', () => {
  it('requires the endpoint’s own resource name and says which to use', () => {
    const error = fieldsError('conversions(*)', chats)
    expect(error.description).toContain('"conversions"')
    expect(error.description).toContain('fields=chats(*)')
    expect(fieldsError('chats(*)', conversions).description).toContain('fields=conversions(*)')
    fieldsError('agent_timeline(*)', chats)
  })

  it('names every unknown attribute and points at the documentation', () => {
    const error = fieldsError('chats(id,raiting,engagements.foo,rating.value,visitor(nme))')
    for (const name of ['"raiting"', '"engagements.foo"', '"rating.value"', '"visitor.nme"']) {
      expect(error.description).toContain(name)
    }
    expect(error.description).toContain('https://')
    // The known names at the level of the mistake are listed, so the typo is easy to fix.
    expect(error.description).toContain('response_time')
    expect(fieldsError('conversions(goal)', conversions).description).toContain('goal_name')
  })

  it('keeps the description short when many names are unknown', () => {
    const names = Array.from({ length: 30 }, (_, i) => `nope${i}`)
    const error = fieldsError(`chats(${names.join(',')})`)
    expect(error.description).toContain('"nope0"')
    expect(error.description).toContain('and 20 more')
    expect(error.description).not.toContain('"nope29"')
  })

  it('rejects conversion-only and engagement-only names where they do not belong', () => {
    fieldsError('conversions(attribution.agent_name)', conversions)
    fieldsError('chats(goal_id)')
    fieldsError('chats(engagements.history)')
  })

  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])(
    'rejects the Object.prototype name %s',
    (name) => {
      expect(fieldsError(`chats(${name})`).description).toContain(`"${name}"`)
      fieldsError(`chats(visitor.${name})`)
    },
  )

  it.each([
    'chats',
    'chats(',
    'chats()',
    'chats( )',
    'chats(id,)',
    'chats(,id)',
    'chats(id))',
    'chats(id',
    '(*)',
    '*',
    'chats(id)conversions(*)',
    'chats(id),conversions(*)',
    'chats(a..b)',
    'chats(.id)',
    'chats(id.)',
    'chats(engagements())',
    'chats(engagements(rating)',
    'chats(*.id)',
    'chats(id rating)',
  ])('rejects the malformed value %j', (raw) => {
    expect(fieldsError(raw).description).toMatch(/fields is malformed|fields names/)
  })

  it('accepts up to 2000 characters and rejects longer values', () => {
    const atLimit = `chats(id${' '.repeat(MAX_FIELDS_LENGTH - 'chats(id)'.length)})`
    expect(atLimit).toHaveLength(MAX_FIELDS_LENGTH)
    expect(parseFields(atLimit, chats)).toMatchObject({ kind: 'some' })
    const tooLong = `chats(id${' '.repeat(MAX_FIELDS_LENGTH - 'chats(id)'.length + 1)})`
    expect(fieldsError(tooLong).description).toContain('2000')
  })

  it('accepts five levels and rejects deeper paths, however they are nested', () => {
    // Five levels parse (and fail only on names); six are refused as too deep.
    expect(fieldsError('chats(history.conversion.attribution.chat_id.x)').description).toContain(
      '"history.conversion.attribution.chat_id.x"',
    )
    for (const raw of ['chats(a.b.c.d.e.f)', 'chats(a(b(c(d(e(f))))))', 'chats(a.b(c.d(e.f)))']) {
      expect(fieldsError(raw).description).toContain('5 levels')
    }
    expect(fieldsError(`chats(${'a('.repeat(500)}${')'.repeat(500)})`).description).toContain(
      '5 levels',
    )
  })

  it('never throws anything but AppError INVALID_FIELDS on arbitrary text', () => {
    const token = fc.constantFrom(
      'chats',
      'conversions',
      '(',
      ')',
      ',',
      '.',
      '*',
      ' ',
      'id',
      'engagements',
      'rating',
      'response_time',
      'max',
      'x',
      '__proto__',
    )
    const text = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.array(token, { maxLength: 40 }).map((parts) => parts.join('')),
    )
    fc.assert(
      fc.property(text, (raw) => {
        for (const stream of [chats, conversions]) {
          try {
            const selection = parseFields(raw, stream)
            expect(['all', 'id-only', 'some']).toContain(selection.kind)
          } catch (error) {
            expect(error).toBeInstanceOf(AppError)
            expect((error as AppError).code).toBe('INVALID_FIELDS')
            expect((error as AppError).description.length).toBeLessThan(3000)
          }
        }
      }),
      { numRuns: 1000 },
    )
  })
})

// --- Property tests over random selections of real attribute paths -----------------------------

/** Every attribute path of a tree, as segment arrays (`['engagements', 'count', 'total']`). */
function allPaths(tree: AttributeTree, prefix: string[] = []): string[][] {
  return Object.entries(tree).flatMap(([name, child]) => {
    const path = [...prefix, name]
    return child === null ? [path] : [path, ...allPaths(child, path)]
  })
}

const CHAT_PATHS = allPaths(CHAT_ATTRIBUTES)
const CONVERSION_PATHS = allPaths(CONVERSION_ATTRIBUTES)

/** Checks that every key of `value` is selected, recursively (keys ⊆ selection). */
function assertWithinSelection(value: unknown, tree: SelectionTree | true): void {
  if (tree === true || value === null || typeof value !== 'object') return
  if (Array.isArray(value)) {
    for (const element of value) assertWithinSelection(element, tree)
    return
  }
  for (const [key, child] of Object.entries(value)) {
    const node = tree.get(key)
    expect(node, `unselected key ${key}`).toBeDefined()
    assertWithinSelection(child, node!)
  }
}

/** The value at a path, mapping over arrays like the projection does. */
function valueAt(value: unknown, path: readonly string[]): unknown {
  if (path.length === 0 || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map((element) => valueAt(element, path))
  const [head, ...rest] = path as [string, ...string[]]
  return Object.hasOwn(value, head)
    ? valueAt((value as Record<string, unknown>)[head], rest)
    : undefined
}

const jsonValue = fc.jsonValue({ maxDepth: 3 })

describe('projection properties', () => {
  const items = fc.oneof(
    fc.constantFrom(...CHATS, OFFLINE_MSG),
    // Arbitrary shapes under known names: scalars where objects are expected, nulls, arrays.
    fc
      .tuple(
        fc.string(),
        fc.dictionary(
          fc.constantFrom('rating', 'response_time', 'engagements', 'visitor', 'zz'),
          jsonValue,
        ),
      )
      .map(([id, rest]) => ({ ...rest, id })),
  )
  const selections = fc.uniqueArray(fc.constantFrom(...CHAT_PATHS), { minLength: 1, maxLength: 8 })

  it('projection with * is the item itself', () => {
    fc.assert(
      fc.property(fc.oneof(items, jsonValue), (item) => {
        expect(projectItem(item, parseFields('chats(*)', chats))).toStrictEqual(item)
        expect(projectItem(item, parseFields('x', streamSpec('agent_timeline')))).toBe(item)
      }),
    )
  })

  it('projection keys are a subset of the selection plus id, and every selected value is kept', () => {
    fc.assert(
      fc.property(items, selections, (item, paths) => {
        const raw = `chats(${paths.map((p) => p.join('.')).join(',')})`
        const selection: FieldSelection = parseFields(raw, chats)
        expect(selection.kind).toBe('some')
        if (selection.kind !== 'some') return
        expect(selection.attributes.get('id')).toBe(true)
        const projected = projectItem(item, selection)
        assertWithinSelection(projected, selection.attributes)
        expect(projected).toHaveProperty('id', item.id)
        for (const path of paths) {
          expect(valueAt(projected, path)).toStrictEqual(valueAt(item, path))
        }
      }),
      { numRuns: 500 },
    )
  })

  it('the same holds for conversions', () => {
    const conversionSelections = fc.uniqueArray(fc.constantFrom(...CONVERSION_PATHS), {
      minLength: 1,
      maxLength: 5,
    })
    fc.assert(
      fc.property(fc.constantFrom(...CONVERSIONS), conversionSelections, (item, paths) => {
        const raw = `conversions(${paths.map((p) => p.join('.')).join(',')})`
        const selection = parseFields(raw, conversions)
        if (selection.kind !== 'some') throw new Error('expected a selection')
        const projected = projectItem(item, selection)
        assertWithinSelection(projected, selection.attributes)
        for (const path of paths)
          expect(valueAt(projected, path)).toStrictEqual(valueAt(item, path))
      }),
    )
  })
})

describe('encodeFieldsForUrl', () => {
  it('writes the next_page form of the real API', () => {
    expect(encodeFieldsForUrl('chats(*)')).toBe('chats%28%2A%29')
    expect(encodeFieldsForUrl('conversions(*)')).toBe('conversions%28%2A%29')
    expect(encodeFieldsForUrl('chats(id,response_time.max)')).toBe(
      'chats%28id%2Cresponse_time.max%29',
    )
    expect(encodeFieldsForUrl("a b!'~-_")).toBe('a%20b%21%27~-_')
    expect(encodeFieldsForUrl('é')).toBe('%C3%A9')
  })

  it('decodes back to the same value through URLSearchParams, both encoded and not', () => {
    expect(new URLSearchParams('fields=chats%28%2A%29').get('fields')).toBe('chats(*)')
    expect(new URLSearchParams('fields=chats(*)').get('fields')).toBe('chats(*)')
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (raw) => {
        const encoded = encodeFieldsForUrl(raw)
        expect(encoded).toMatch(/^[A-Za-z0-9_.~%-]*$/)
        expect(new URLSearchParams(`fields=${encoded}`).get('fields')).toBe(raw)
      }),
    )
  })

  it('never throws, even on lone surrogates', () => {
    expect(encodeFieldsForUrl('a\uD800b')).toBe('a%EF%BF%BDb')
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (raw) => {
        expect(encodeFieldsForUrl(raw)).toMatch(/^[A-Za-z0-9_.~%-]*$/)
      }),
    )
  })
})
