/**
 * The fold's read plan names what folding reads: over a simulated day, every chat and state entry
 * foldEvent reads is in the event's plan (or, for a conversion, its attribution plan), except the
 * agents folding only finds on the way (those whose engagement a chat's end closes). Ingest loads
 * the plans in bulk, so a read the plan misses costs a round trip per event.
 */
import { describe, expect, it } from 'vitest'
import type { FoldStateKind, FoldStateValues, StoredChat } from '../../src/domain/fold/index.js'
import {
  attributionReadPlan,
  FOLD_STATE,
  foldEvent,
  MemoryFoldState,
  parseFoldState,
  parseStoredChat,
  readPlan,
} from '../../src/domain/fold/index.js'
import { parseIso } from '../../src/domain/time.js'
import { createDirectory } from '../../src/simulate/directory.js'
import { simulate } from '../../src/simulate/simulate-day.js'

/** A MemoryFoldState that records what is read. */
class RecordingState extends MemoryFoldState {
  reads: string[] = []

  override getState<K extends FoldStateKind>(kind: K, key: string): FoldStateValues[K] | undefined {
    this.reads.push(`state ${kind} ${key}`)
    return super.getState(kind, key)
  }

  override getChat(chatId: string): StoredChat | undefined {
    this.reads.push(`item chats ${chatId}`)
    return super.getChat(chatId)
  }
}

describe('readPlan', () => {
  it('names every read of a simulated day but the agents found on the way', async () => {
    const directory = createDirectory({ seed: 3, accountNumber: 9339545 })
    const start = parseIso('2026-11-23T00:00:00Z')!
    const state = new RecordingState()
    const missed: string[] = []
    let planned = 0
    const kinds = new Set<string>()
    for (const event of simulate({
      seed: 3,
      directory,
      start,
      end: start + 86_400_000_000,
      drain: true,
    })) {
      const plan = readPlan(event)
      if (event.type === 'conversion') {
        const visitor = state.getState(FOLD_STATE.visitor, event.visitor_id)
        const more = attributionReadPlan(event, visitor)
        plan.items.push(...more.items)
        plan.states.push(...more.states)
      }
      const names = new Set([
        ...plan.items.map((r) => `item ${r.stream} ${r.key}`),
        ...plan.states.map((r) => `state ${r.kind} ${r.key}`),
      ])
      state.reads = []
      const result = await foldEvent(state, event)
      expect(result.ok).toBe(true)
      if (result.ok) state.writeChats(result.output.chats)
      kinds.add(event.type)
      for (const read of state.reads) {
        if (names.has(read)) planned++
        else if (!read.startsWith(`state ${FOLD_STATE.agent} `))
          missed.push(`${event.type}: ${read}`)
      }
    }
    expect(missed.slice(0, 5)).toEqual([])
    expect(planned).toBeGreaterThan(1000)
    expect(kinds.has('conversion')).toBe(true)
  })

  it('plans nothing for directory upserts and the queue state for queue sizes', () => {
    const base = { id: 'e1', timestamp: '2026-11-23T00:00:00Z' }
    expect(
      readPlan({ ...base, type: 'department.upserted', department_id: 4, name: 'Sales' }),
    ).toEqual({ items: [], states: [] })
    expect(
      readPlan({
        ...base,
        type: 'department.queue_sizes',
        department_id: null,
        assigned: 0,
        incoming: 1,
      }),
    ).toEqual({ items: [], states: [{ kind: FOLD_STATE.department, key: 'null' }] })
  })
})

describe('parseFoldState', () => {
  it('reads a value of its kind and refuses another kind or corrupt text', () => {
    expect(parseFoldState(FOLD_STATE.directoryDepartment, '{"name":"Sales"}')).toEqual({
      name: 'Sales',
    })
    expect(() => parseFoldState(FOLD_STATE.chat, '{"name":"Sales"}')).toThrow(/fold\.chat/)
    expect(() => parseFoldState(FOLD_STATE.visitor, 'null')).toThrow()
    expect(() => parseFoldState(FOLD_STATE.agent, '{')).toThrow()
    expect(() => parseStoredChat('{"id":"c1","type":"conversion"}')).toThrow(/not a chat/)
  })
})
