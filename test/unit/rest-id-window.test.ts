import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AppError } from '../../src/domain/errors.js'
import type { IdWindow } from '../../src/domain/rest/id-window.js'
import {
  applyIdWindow,
  DEFAULT_ID_WINDOW_LIMIT,
  MAX_ID_WINDOW_LIMIT,
  parseIdWindow,
} from '../../src/domain/rest/id-window.js'

const parse = (q: string) => parseIdWindow(new URLSearchParams(q))
const code = (q: string) => {
  try {
    parse(q)
  } catch (e) {
    expect(e).toBeInstanceOf(AppError)
    return (e as AppError).code
  }
  throw new Error(`expected ${q} to be refused`)
}

/** Sorted, unique ids as records. */
const records = fc
  .uniqueArray(fc.integer({ min: 0, max: 500 }), { maxLength: 60 })
  .map((ids) => ids.sort((a, b) => a - b).map((id) => ({ id })))
const windows: fc.Arbitrary<IdWindow> = fc.record({
  sinceId: fc.option(fc.integer({ min: 0, max: 520 })),
  maxId: fc.option(fc.integer({ min: 0, max: 520 })),
  limit: fc.integer({ min: 1, max: 70 }),
})

describe('parseIdWindow', () => {
  it('no parameter (or only empty ones, or unknown ones) means the whole list', () => {
    expect(parse('')).toBeNull()
    expect(parse('since_id=&max_id=&limit=')).toBeNull()
    expect(parse('page=2&sort=x')).toBeNull()
  })
  it('reads since_id, max_id and limit; limit defaults to 10 and is capped at 1000', () => {
    expect(parse('since_id=0&limit=100')).toEqual({ sinceId: 0, maxId: null, limit: 100 })
    expect(parse('max_id=42')).toEqual({ sinceId: null, maxId: 42, limit: DEFAULT_ID_WINDOW_LIMIT })
    expect(parse('limit=5000')?.limit).toBe(MAX_ID_WINDOW_LIMIT)
    expect(parse('since_id=360786799676')?.sinceId).toBe(360786799676)
  })
  it('refuses non-integer ids and non-positive limits with 400', () => {
    expect(code('since_id=-1')).toBe('INVALID_ID_WINDOW')
    expect(code('max_id=abc')).toBe('INVALID_ID_WINDOW')
    expect(code('since_id=1.5')).toBe('INVALID_ID_WINDOW')
    expect(code('since_id=99999999999999999999')).toBe('INVALID_ID_WINDOW')
    expect(code('limit=0')).toBe('INVALID_LIMIT')
    expect(code('limit=-3')).toBe('INVALID_LIMIT')
    expect(code('limit=ten')).toBe('INVALID_LIMIT')
  })
})

describe('applyIdWindow', () => {
  it('serves ascending ids inside the inclusive window, at most limit of them', () => {
    fc.assert(
      fc.property(records, windows, (items, w) => {
        const page = applyIdWindow(items, w)
        expect(page.length).toBeLessThanOrEqual(w.limit)
        for (let i = 1; i < page.length; i++) expect(page[i]!.id).toBeGreaterThan(page[i - 1]!.id)
        for (const { id } of page) {
          if (w.sinceId !== null) expect(id).toBeGreaterThanOrEqual(w.sinceId)
          if (w.maxId !== null) expect(id).toBeLessThanOrEqual(w.maxId)
        }
        // Nothing in range is skipped: the page is a contiguous run of the in-range ids, at the
        // start (forward) or at the end (max_id only).
        const inRange = items.filter(
          ({ id }) =>
            (w.sinceId === null || id >= w.sinceId) && (w.maxId === null || id <= w.maxId),
        )
        const expected =
          w.sinceId === null && w.maxId !== null
            ? inRange.slice(Math.max(0, inRange.length - w.limit))
            : inRange.slice(0, w.limit)
        expect(page).toEqual(expected)
      }),
    )
  })

  it('paging forward with since_id = last id + 1 until an empty page returns every record exactly once (Airbyte, singer)', () => {
    fc.assert(
      fc.property(records, fc.integer({ min: 1, max: 25 }), (items, limit) => {
        const seen: number[] = []
        let since = 0
        let requests = 0
        for (;;) {
          const page = applyIdWindow(items, { sinceId: since, maxId: null, limit })
          requests++
          if (page.length === 0) break
          seen.push(...page.map((r) => r.id))
          since = page[page.length - 1]!.id + 1
        }
        expect(seen).toEqual(items.map((r) => r.id))
        // Every non-empty page, then the one empty page that stops the client.
        expect(requests).toBe(Math.ceil(items.length / limit) + 1)
      }),
    )
  })

  it('paging backward with max_id = first id - 1 returns every record exactly once', () => {
    fc.assert(
      fc.property(records, fc.integer({ min: 1, max: 25 }), (items, limit) => {
        const pages: number[][] = []
        let max = 1_000
        for (;;) {
          const page = applyIdWindow(items, { sinceId: null, maxId: max, limit })
          if (page.length === 0) break
          pages.push(page.map((r) => r.id))
          max = page[0]!.id - 1
          if (max < 0) break
        }
        expect(pages.reverse().flat()).toEqual(items.map((r) => r.id))
      }),
    )
  })

  it('a since_id beyond the last id is an empty page; no window is the whole list', () => {
    const items = [{ id: 3 }, { id: 7 }]
    expect(applyIdWindow(items, { sinceId: 8, maxId: null, limit: 10 })).toEqual([])
    expect(applyIdWindow(items, { sinceId: 7, maxId: null, limit: 10 })).toEqual([{ id: 7 }])
    expect(applyIdWindow(items, null)).toEqual(items)
  })
})
