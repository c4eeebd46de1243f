/**
 * Same seed and start → byte-identical events; different seeds or days → different events that
 * never reuse an id, so runs can be sent to one server side by side.
 */
import { describe, expect, it } from 'vitest'
import { parseIso } from '../../src/domain/time.js'
import { createDirectory } from '../../src/simulate/directory.js'
import { simulate, type SimulateOptions } from '../../src/simulate/simulate-day.js'

const HOUR = 3_600_000_000
const DAY = 24 * HOUR
const TUESDAY = parseIso('2020-12-22T00:00:00Z')!

function text(seed: number, start: number, end: number, extra: Partial<SimulateOptions> = {}) {
  const directory = createDirectory({ seed, accountNumber: 9339545 })
  return [...simulate({ seed, directory, start, end, drain: true, ...extra })].map((e) =>
    JSON.stringify(e),
  )
}

function chatIds(lines: string[]): Set<string> {
  return new Set(lines.flatMap((l) => /"chat_id":"([^"]+)"/.exec(l)?.[1] ?? []))
}

describe('simulate: determinism', () => {
  it('the same seed and period give byte-identical events', () => {
    const a = text(7, TUESDAY, TUESDAY + DAY)
    const b = text(7, TUESDAY, TUESDAY + DAY)
    expect(a.length).toBeGreaterThan(1000)
    expect(b.join('\n')).toBe(a.join('\n'))
  })

  it('different seeds give different events, sharing no chat or event id', () => {
    const a = text(1, TUESDAY + 8 * HOUR, TUESDAY + 16 * HOUR)
    const b = text(2, TUESDAY + 8 * HOUR, TUESDAY + 16 * HOUR)
    expect(b.join('\n')).not.toBe(a.join('\n'))
    const idsA = new Set(a.map((l) => JSON.parse(l).id))
    expect(b.some((l) => idsA.has(JSON.parse(l).id))).toBe(false)
    const chatsA = chatIds(a)
    expect([...chatIds(b)].filter((id) => chatsA.has(id))).toEqual([])
  })

  it('consecutive days of one seed share no chat or event id', () => {
    // Each run starts at midnight of its day and drains into the next one.
    const monday = text(3, TUESDAY - DAY, TUESDAY)
    const tuesday = text(3, TUESDAY, TUESDAY + DAY)
    const ids = new Set(monday.map((l) => JSON.parse(l).id))
    expect(tuesday.some((l) => ids.has(JSON.parse(l).id))).toBe(false)
    const chats = chatIds(monday)
    expect([...chatIds(tuesday)].filter((id) => chats.has(id))).toEqual([])
  })

  it('an endless run is the same stream as a finite one, up to the finite end', () => {
    const directory = createDirectory({ seed: 11, accountNumber: 9339545 })
    const end = TUESDAY + 20 * HOUR
    const finite = [...simulate({ seed: 11, directory, start: TUESDAY, end })]
    const endless: unknown[] = []
    for (const event of simulate({ seed: 11, directory, start: TUESDAY, end: Infinity })) {
      if (parseIso(event.timestamp)! >= end) break
      endless.push(event)
    }
    expect(endless).toEqual(finite)
  })

  it('the directory depends on the seed only', () => {
    const a = createDirectory({ seed: 4, accountNumber: 9339545 })
    expect(createDirectory({ seed: 4, accountNumber: 9339545 })).toEqual(a)
    expect(createDirectory({ seed: 5, accountNumber: 9339545 }).agents).not.toEqual(a.agents)
    // Every run of the seed introduces the same team, whatever day it simulates.
    const firstDay = text(4, TUESDAY, TUESDAY + HOUR).filter((l) => l.includes('"agent.created"'))
    const laterDay = text(4, TUESDAY + 30 * DAY, TUESDAY + 30 * DAY + HOUR).filter((l) =>
      l.includes('"agent.created"'),
    )
    const strip = (l: string) => {
      const { id: _id, timestamp: _ts, ...rest } = JSON.parse(l)
      return rest
    }
    expect(laterDay.map(strip)).toEqual(firstDay.map(strip))
    expect(firstDay).toHaveLength(a.agents.length)
  })
})
