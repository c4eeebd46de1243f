/**
 * A destination writes an item's bytes as the server sent them, undecoded, and bytes that are
 * not UTF-8 as a decoded page would have them (U+FFFD), never a malformed sequence.
 */
import { describe, expect, it } from 'vitest'
import { scanRawItemBytes } from '../../src/client/raw-items.js'
import { buildCommit } from '../../src/sync/run-sync.js'
import { utf8Of } from '../../src/sync/utf8-of.js'

const page = (body: Uint8Array) => {
  const rawItems = scanRawItemBytes(body, 1, body.length - 1, ['id', 'deleted']) ?? []
  return buildCommit(
    {
      stream: 'chats',
      items: [],
      rawItems,
      count: rawItems.length,
      endTime: null,
      endId: null,
      nextPage: 'http://h/x',
      cursor: { stream: 'chats', nextPage: 'http://h/x' },
      caughtUp: true,
    },
    {
      stream: 'chats',
      cursor: null,
      source: null,
      items: 0,
      pages: 0,
      endTime: null,
      updatedAt: '',
    },
    'flag',
  )
}

describe('utf8Of', () => {
  it('hands out a view of the bytes the server sent when they are UTF-8', () => {
    const body = new TextEncoder().encode('[{"id":"a","name":"Zoë 😀"}]')
    const [upsert] = page(body).upserts
    if (upsert === undefined) throw new Error('no upsert')
    const bytes = utf8Of(upsert)
    expect(bytes.toString('utf8')).toBe('{"id":"a","name":"Zoë 😀"}')
    expect(bytes.buffer).toBe(body.buffer)
  })

  it('replaces a malformed sequence as decoding the page would', () => {
    const body = new Uint8Array([
      ...new TextEncoder().encode('[{"id":"a","n":"x'),
      0xff,
      0x22,
      0x7d,
      0x5d,
    ])
    const [upsert] = page(body).upserts
    if (upsert === undefined) throw new Error('no upsert')
    expect(utf8Of(upsert).toString('utf8')).toBe('{"id":"a","n":"x\ufffd"}')
    expect(upsert.key.key).toBe('a')
  })
})
