/**
 * Where the mirror places items: the local export must serve them in the source's order (strictly
 * ascending position and sort id), chats at their own update_timestamp, and each page's last item
 * at the page's end_time.
 */
import { describe, expect, it } from 'vitest'
import { placeItems } from '../../src/mirror/mirror-positions.js'

const item = (ownTime: number, sortId: string) => ({ ownTime, sortId })

describe('placeItems', () => {
  it('keeps own times that lie inside the page (chats: their source position)', () => {
    const items = [item(100, 'b'), item(150, 'a'), item(200, 'c')]
    expect(placeItems(items, { position: 90, sortId: 'z' }, 200)).toEqual([100, 150, 200])
  })

  it('raises items older than the last placed one and breaks ties by sort id', () => {
    // Events ingested late on a chat-export source: own times before the cursor.
    const items = [item(10, 'b'), item(20, 'c'), item(15, 'a'), item(500, 'd')]
    const placed = placeItems(items, { position: 100, sortId: 'a' }, 300)
    expect(placed).toEqual([100, 100, 101, 300])
  })

  it('puts the last item on the page end and never runs past it before the end', () => {
    const placed = placeItems([item(400, 'a'), item(50, 'b')], { position: 10, sortId: 'x' }, 300)
    expect(placed).toEqual([300, 300])
  })

  it('always ascends strictly in (position, sort id), whatever the own times', () => {
    let seed = 7
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647
    let after = { position: 1_000, sortId: '' }
    for (let page = 0; page < 200; page++) {
      const items = Array.from({ length: 1 + Math.floor(random() * 20) }, () =>
        item(Math.floor(random() * 5_000), String(Math.floor(random() * 5))),
      )
      const end = after.position + Math.floor(random() * 3)
      const placed = placeItems(items, after, end)
      placed.forEach((position, i) => {
        const sortId = items[i]!.sortId
        expect(
          position > after.position || (position === after.position && sortId > after.sortId),
        ).toBe(true)
        after = { position, sortId }
      })
      expect(placed.at(-1)).toBeGreaterThanOrEqual(end)
    }
  })
})
