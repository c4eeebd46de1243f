/**
 * The item schemas describe what the server exports: every item of the reference examples and of
 * a simulated day validates, with unknown attributes refused (so the schemas leave nothing out);
 * and a bad item gets problems that name the attribute, what was expected and what came.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, expectTypeOf, it } from 'vitest'
import type {
  Chat,
  AgentSpan,
  ConversionItem,
  DepartmentEventItem,
} from '../../src/domain/fold/index.js'
import { foldEvent, MemoryFoldState } from '../../src/domain/fold/index.js'
import type {
  ExportedAgentSpan,
  ExportedChat,
  ExportedConversion,
  ExportedDepartmentEvent,
} from '../../src/domain/schemas/index.js'
import {
  EXPORT_ITEM_SCHEMAS,
  exportItemJsonSchema,
  validateImportItem,
} from '../../src/domain/schemas/index.js'
import type { StreamName } from '../../src/domain/streams.js'
import { STREAM_NAMES, renderChat } from '../../src/domain/streams.js'
import { parseIso } from '../../src/domain/time.js'
import { syntheticChats } from '../../src/bench/bench-data.js'
import { createDirectory } from '../../src/simulate/directory.js'
import { simulate } from '../../src/simulate/simulate-day.js'

const REFUSE = { unknownAttributes: 'refuse' } as const
const KEEP = { unknownAttributes: 'keep' } as const

function examples(stream: string): Record<string, unknown>[] {
  const text = readFileSync(
    new URL(`../fixtures/examples/${stream}.jsonl`, import.meta.url),
    'utf8',
  )
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

/** Every exported item of a simulated day, as the store would serve it. */
async function simulatedItems(): Promise<Record<StreamName, unknown[]>> {
  const directory = createDirectory({ seed: 7, accountNumber: 9339545 })
  const start = parseIso('2026-11-23T00:00:00Z')!
  const state = new MemoryFoldState()
  const items: Record<StreamName, unknown[]> = {
    chats: [],
    conversions: [],
    department_events: [],
    agent_timeline: [],
    agent_events: [],
  }
  let position = start
  for (const event of simulate({
    seed: 7,
    directory,
    start,
    end: start + 86_400_000_000,
    drain: true,
  })) {
    const result = await foldEvent(state, event, { accountId: 9339545 })
    if (!result.ok) throw new Error(result.error.message)
    state.writeChats(result.output.chats)
    position += 1
    for (const chat of result.output.chats)
      items.chats.push(JSON.parse(renderChat(chat, position).body))
    for (const stream of STREAM_NAMES) {
      if (stream !== 'chats') items[stream].push(...result.output[stream])
    }
  }
  return items
}

function problemsOf(stream: StreamName, items: unknown[]): string[] {
  return items.flatMap((item) => validateImportItem(stream, item, REFUSE).map((p) => p.message))
}

describe('item schemas', () => {
  it('accept every item of the reference examples, describing every attribute', () => {
    for (const stream of ['chats', 'conversions', 'department_events', 'agent_timeline'] as const) {
      const items = examples(stream)
      expect(items.length, stream).toBeGreaterThan(0)
      expect(problemsOf(stream, items), stream).toEqual([])
      for (const item of items)
        expect(EXPORT_ITEM_SCHEMAS[stream].safeParse(item).success).toBe(true)
    }
  })

  it('accept every item a simulated day exports, describing every attribute', async () => {
    const items = await simulatedItems()
    for (const stream of STREAM_NAMES) {
      expect(items[stream].length, stream).toBeGreaterThan(0)
      expect(problemsOf(stream, items[stream]).slice(0, 5), stream).toEqual([])
      for (const item of items[stream]) {
        const parsed = EXPORT_ITEM_SCHEMAS[stream].safeParse(item)
        expect(parsed.success, `${stream}: ${parsed.error?.message}`).toBe(true)
      }
    }
    // Both representations and every history entry type the folding writes were seen.
    const chats = items.chats as ExportedChat[]
    expect(new Set(chats.map((c) => c.type))).toEqual(new Set(['chat', 'offline_msg']))
  }, 60_000)

  it('accept the benchmark chats', () => {
    expect(problemsOf('chats', syntheticChats(20, 1_700_000_000_000_000))).toEqual([])
  })

  it('match the folding types (what the server writes is what the schemas describe)', () => {
    expectTypeOf<Chat & { update_timestamp: string }>().toExtend<ExportedChat>()
    expectTypeOf<ConversionItem>().toExtend<ExportedConversion>()
    expectTypeOf<DepartmentEventItem>().toExtend<ExportedDepartmentEvent>()
    expectTypeOf<AgentSpan>().toExtend<ExportedAgentSpan>()
    // AgentEventItem types value as string | number; the schema ties it to field_name (checked above).
  })
})

describe('validateImportItem', () => {
  const chat = examples('chats')[0]!

  it('names the attribute, what was expected and what came', () => {
    expect(validateImportItem('chats', { ...chat, rating: 'excellent' }, KEEP)).toEqual([
      {
        path: 'rating',
        expected: 'one of "good", "bad" or null',
        got: '"excellent"',
        message: 'rating: expected one of "good", "bad" or null, got "excellent"',
      },
    ])
    expect(
      validateImportItem('chats', { ...chat, duration: 'abc' }, KEEP).map((p) => p.message),
    ).toEqual(['duration: expected a non-negative integer or null, got "abc"'])
  })

  it('reaches into arrays and history entries by their type', () => {
    const engagements = [{ ...(chat.engagements as object[])[0], assigned: 'yes' }]
    const history = [...(chat.history as object[])]
    history[2] = { ...history[2], msg: 5 }
    history[3] = { ...history[3], type: 'chat.unknown' }
    const messages = validateImportItem('chats', { ...chat, engagements, history }, KEEP).map(
      (p) => p.message,
    )
    expect(messages).toContain('engagements[0].assigned: expected true or false, got "yes"')
    expect(messages).toContain('history[2].msg: expected a string, got 5')
    expect(
      messages.find((m) => m.startsWith('history[3].type: expected one of "chat.memberjoin"')),
    ).toMatch(/got "chat.unknown"$/)
  })

  it('says which attribute is missing, and what a timestamp should look like', () => {
    const { id: _id, ...withoutId } = chat
    expect(
      validateImportItem('chats', { ...withoutId, timestamp: 'yesterday' }, KEEP).map(
        (p) => p.message,
      ),
    ).toEqual([
      'id: expected a non-empty string of at most 200 characters, got nothing (the attribute is missing)',
      'timestamp: expected an ISO-8601 UTC timestamp such as 2020-12-22T04:54:16Z, got "yesterday"',
    ])
    expect(validateImportItem('chats', 5, KEEP).map((p) => p.message)).toEqual([
      'item: expected an object, got 5',
    ])
    expect(
      validateImportItem('chats', { ...chat, type: 'call' }, KEEP).map((p) => p.message),
    ).toEqual(['type: expected one of "chat" or "offline_msg", got "call"'])
  })

  it('keeps or refuses unknown attributes, at any depth, as told', () => {
    const visitor = { ...(chat.visitor as object), shoe_size: 44 }
    const item = { ...chat, note: 'x', visitor }
    expect(validateImportItem('chats', item, KEEP)).toEqual([])
    expect(validateImportItem('chats', item, REFUSE).map((p) => p.message)).toEqual([
      'visitor.shoe_size: expected no attribute of this name (unknown attributes are refused), got 44',
      'note: expected no attribute of this name (unknown attributes are refused), got "x"',
    ])
  })

  it('lets the store set update_timestamp and deleted on import', () => {
    const { update_timestamp: _u, deleted: _d, ...bare } = chat
    expect(validateImportItem('chats', bare, REFUSE)).toEqual([])
  })

  it('checks each agent event value against its field_name', () => {
    const event = {
      id: 'R6vTSXc.agent:980824.WEuQDQ',
      agent_id: 980824,
      field_name: 'status',
      previous_value: 'offline',
      value: 'busy',
      timestamp: '2018-04-29T10:26:40.957650Z',
    }
    expect(validateImportItem('agent_events', event, REFUSE).map((p) => p.message)).toEqual([
      'value: expected one of "offline", "online", "away" or "invisible", got "busy"',
    ])
    expect(
      validateImportItem(
        'agent_events',
        { ...event, field_name: 'engagements', previous_value: 0, value: 2 },
        REFUSE,
      ),
    ).toEqual([])
  })
})

describe('exportItemJsonSchema', () => {
  it('describes every attribute of a chat, without requiring what fields can leave out', () => {
    const schema = exportItemJsonSchema('chats', { projection: true }) as {
      oneOf: { properties: object; required: string[] }[]
    }
    expect(schema.oneOf).toHaveLength(2)
    expect(schema.oneOf[0]!.required).toEqual(['id'])
    expect(Object.keys(schema.oneOf[0]!.properties)).toEqual(
      expect.arrayContaining(Object.keys(examples('chats')[0]!)),
    )
    expect(JSON.stringify(schema)).not.toContain('"required":["agent"')
  })
})
