import { describe, expect, it } from 'vitest'
import { AppError } from '../../src/domain/errors.js'
import {
  parseChatSearchQuery,
  parseSearchPage,
  SEARCH_MAX_PAGES,
} from '../../src/domain/rest/chat-search.js'
import { chatIndexRowOf } from '../../src/domain/rest/chat-index.js'
import { renderChat } from '../../src/domain/streams.js'
import { parseIso } from '../../src/domain/time.js'
import { syntheticChats } from '../../src/bench/bench-data.js'

const at = (iso: string) => parseIso(iso)!

function refusal(fn: () => unknown): AppError {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(AppError)
    expect((e as AppError).status).toBe(400)
    return e as AppError
  }
  throw new Error('expected a refusal')
}

describe('chats/search q', () => {
  it("reads singer's window query (naive ISO bounds, read as UTC, inclusive)", () => {
    expect(
      parseChatSearchQuery(
        'type:chat AND end_timestamp:[2024-01-01T00:00:00 TO 2024-01-15T00:00:00]',
      ),
    ).toEqual({
      ranges: [
        {
          field: 'end_timestamp',
          from: at('2024-01-01T00:00:00Z'),
          to: at('2024-01-15T00:00:00Z'),
        },
      ],
      values: [{ field: 'type', value: 'chat' }],
      text: [],
    })
  })

  it("reads embulk's Z bounds, open ranges and dates", () => {
    const q = parseChatSearchQuery('timestamp:[2018-09-15T05:00:00Z TO *]')
    expect(q.ranges).toEqual([{ field: 'timestamp', from: at('2018-09-15T05:00:00Z'), to: null }])
    expect(parseChatSearchQuery('timestamp:[* TO 2019-09-29]').ranges[0]).toEqual({
      field: 'timestamp',
      from: null,
      to: at('2019-09-29T00:00:00Z'),
    })
  })

  it('reads field values, quoted values and free text (quoted agent names)', () => {
    expect(
      parseChatSearchQuery(
        'visitor_email:a@b.com rating:good "Ann Agent" refund agent_names:"Bo B"',
      ),
    ).toEqual({
      ranges: [],
      values: [
        { field: 'visitor_email', value: 'a@b.com' },
        { field: 'rating', value: 'good' },
        { field: 'agent_names', value: 'Bo B' },
      ],
      text: ['Ann Agent', 'refund'],
    })
  })

  it('refuses what it cannot read, naming the part', () => {
    const codes = [
      '',
      'colour:red',
      'type:ticket',
      'timestamp:2024-01-01',
      'timestamp:[2024-01-01 TO]',
      'timestamp:[yesterday TO *]',
      'timestamp:[2024-02-01 TO 2024-01-01]',
      'rating:[1 TO 2]',
      'a OR b',
      'NOT a',
    ].map((q) => refusal(() => parseChatSearchQuery(q)))
    for (const e of codes) expect(e.code).toBe('INVALID_SEARCH_QUERY')
    expect(codes[1]!.description).toMatch(/"colour" is not a search field/)
    expect(refusal(() => parseChatSearchQuery(null)).description).toMatch(/q is required/)
  })
})

describe('chats/search page', () => {
  const page = (q: string) => parseSearchPage(new URLSearchParams(q))
  it('40 results a page, pages 1 to 250', () => {
    expect(page('')).toEqual({ page: 1, offset: 0 })
    expect(page('page=3')).toEqual({ page: 3, offset: 80 })
    expect(page(`page=${SEARCH_MAX_PAGES}`).offset).toBe(9960)
  })
  it('page 251 is the pagination limit singer logs; 0 and junk are refused', () => {
    const e = refusal(() => page('page=251'))
    expect(e.code).toBe('SEARCH_PAGE_LIMIT')
    expect(e.description).toMatch(/pagination limit of 251 pages/)
    expect(refusal(() => page('page=0')).code).toBe('INVALID_SEARCH_QUERY')
    expect(refusal(() => page('page=x')).code).toBe('INVALID_SEARCH_QUERY')
  })
})

describe('chat index row', () => {
  it('renderChat gives the row of the very body it renders (the stores write it without parsing)', () => {
    const chats = syntheticChats(50, at('2026-01-05T00:00:00Z')) as Record<string, unknown>[]
    // Also one without `deleted` and one deleted: renderChat fills the first, keeps the second.
    const { deleted: _dropped, ...undeleted } = chats[0]!
    for (const chat of [...chats, undeleted, { ...chats[1]!, deleted: true }]) {
      const rendered = renderChat(chat, at('2026-02-01T00:00:00.000123Z'))
      expect(rendered.chatIndex).toEqual(chatIndexRowOf(rendered.body))
    }
  })
})
