/**
 * The reference document's example chats and agent timeline, reproduced field by field from
 * event sequences (spec/examples/*.jsonl).
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import type { IngestEvent } from '../../src/domain/events.js'
import { ingestEventSchema } from '../../src/domain/events.js'
import type { FoldOutput } from '../../src/domain/fold/index.js'
import { MemoryFoldState, foldEvent } from '../../src/domain/fold/index.js'

const EXAMPLES = new URL('../fixtures/examples', import.meta.url).pathname

function jsonl(name: string): any[] {
  return readFileSync(`${EXAMPLES}/${name}`, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line))
}

let seq = 0
function ev(raw: Record<string, unknown>): IngestEvent {
  seq += 1
  return ingestEventSchema.parse({ id: `ref-${seq}`, ...raw })
}

async function foldAll(events: IngestEvent[]): Promise<FoldOutput[]> {
  const state = new MemoryFoldState()
  const outputs: FoldOutput[] = []
  for (const event of events) {
    const result = await foldEvent(state, event)
    if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`)
    state.writeChats(result.output.chats)
    outputs.push(result.output)
  }
  return outputs
}

const AGENT = 383486450414
const VISITOR = { id: '9339545.11mjg3Gvk0uhEiK', name: 'Visitor 25396546' }
const SESSION = {
  browser: 'Chrome',
  city: 'Sydney',
  country_code: 'AU',
  country_name: 'Australia',
  id: '201222.9339545.7MmWjNbx50y3nMJBz',
  ip: '13.55.49.175',
  platform: 'Mac OS',
  region: 'New South Wales',
  start_date: '2020-12-22T04:50:58Z',
  user_agent:
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.88 Safari/537.36',
}
const WEBPATH = [
  {
    from: '',
    timestamp: '2020-12-22T04:50:58Z',
    title: 'Zendesk',
    to: 'https://subdomain.zendesk.com/hc/en-us',
  },
]

/** A proactive chat: the agent invites, both join, the agent writes, tags, both leave, end. */
function referenceEvents(): IngestEvent[] {
  const chat1 = '2012.9339545.SJs7biGpcbveH'
  const chat2 = '2012.9339545.SJsAIFAY09HB1'
  const started = (chat_id: string, timestamp: string, visitorName: string, extra: object) =>
    ev({
      type: 'chat.started',
      chat_id,
      timestamp,
      visitor: { ...VISITOR, name: visitorName },
      session: SESSION,
      started_by: 'agent',
      proactive: true,
      webpath: WEBPATH,
      ...extra,
    })
  const join = (chat_id: string, timestamp: string, member: 'visitor' | 'agent') =>
    ev({
      type: 'chat.member_joined',
      chat_id,
      timestamp,
      member,
      source: 'chat.invite',
      ...(member === 'agent'
        ? { agent_id: AGENT, name: 'David Foo' }
        : { name: 'Visitor 25396546' }),
    })
  const leave = (chat_id: string, timestamp: string, member: 'visitor' | 'agent') =>
    ev({
      type: 'chat.member_left',
      chat_id,
      timestamp,
      member,
      ...(member === 'agent' ? { agent_id: AGENT } : {}),
    })
  return [
    ev({
      type: 'agent.upserted',
      timestamp: '2020-12-01T00:00:00Z',
      agent_id: AGENT,
      display_name: 'New Staff',
      full_name: 'New Staff',
    }),
    // Chat 1: the visitor writes last and is left unanswered: dropped, abandon_time 29.434 s.
    started(chat1, '2020-12-22T04:54:16Z', 'Visitor 25396546', { zendesk_ticket_id: 83 }),
    join(chat1, '2020-12-22T04:54:15.000Z', 'visitor'),
    join(chat1, '2020-12-22T04:54:15.989Z', 'agent'),
    ev({
      type: 'chat.message',
      chat_id: chat1,
      timestamp: '2020-12-22T04:54:18Z',
      sender: 'agent',
      agent_id: AGENT,
      msg: 'deded',
    }),
    ev({
      type: 'chat.message',
      chat_id: chat1,
      timestamp: '2020-12-22T04:54:30.000Z',
      sender: 'visitor',
      msg: 'hello',
      msg_id: '1608612869871',
    }),
    leave(chat1, '2020-12-22T04:54:59.434Z', 'agent'),
    leave(chat1, '2020-12-22T04:54:59.434Z', 'visitor'),
    ev({ type: 'chat.ended', chat_id: chat1, timestamp: '2020-12-22T04:54:59.434Z' }),
    // Chat 2: one agent message and two tag changes.
    started(chat2, '2020-12-22T05:04:56Z', 'Joel', {
      zendesk_ticket_id: 84,
      session: { ...SESSION, id: '201222.9339535.7MmWjNbx50y3nMJBz' },
    }),
    join(chat2, '2020-12-22T05:04:55Z', 'visitor'),
    join(chat2, '2020-12-22T05:04:55Z', 'agent'),
    ev({
      type: 'chat.message',
      chat_id: chat2,
      timestamp: '2020-12-22T05:04:59Z',
      sender: 'agent',
      agent_id: AGENT,
      msg: 'hello again',
    }),
    ev({
      type: 'chat.tags_changed',
      chat_id: chat2,
      timestamp: '2020-12-22T05:05:02Z',
      agent_id: AGENT,
      tags: ['one'],
    }),
    ev({
      type: 'chat.tags_changed',
      chat_id: chat2,
      timestamp: '2020-12-22T05:05:04Z',
      agent_id: AGENT,
      tags: ['one', 'goodbye_survey'],
    }),
    leave(chat2, '2020-12-22T05:05:35.003Z', 'agent'),
    leave(chat2, '2020-12-22T05:05:36Z', 'visitor'),
    ev({ type: 'chat.ended', chat_id: chat2, timestamp: '2020-12-22T05:05:36Z' }),
  ]
}

/** Last emitted version of each chat. */
function latestChats(outputs: FoldOutput[]): Map<string, any> {
  const chats = new Map<string, any>()
  for (const output of outputs) for (const chat of output.chats) chats.set(chat.id, chat)
  return chats
}

describe('reference chats (spec/examples/chats.jsonl)', () => {
  it('reproduces both chats field by field from their events', async () => {
    const chats = latestChats(await foldAll(referenceEvents()))
    const expected = jsonl('chats.jsonl')
    expect(chats.size).toBe(expected.length)
    for (const reference of expected) {
      const actual = structuredClone(chats.get(reference.id))
      expect(actual, reference.id).toBeDefined()
      const { update_timestamp: _u, ...want } = reference
      // Zendesk's sub-second values carry float noise from subtracting epoch-second doubles
      // (29.43400001525879 for 29.434); ours are exact to the microsecond.
      if (want.abandon_time === null) expect(actual.abandon_time).toBeNull()
      else expect(actual.abandon_time).toBeCloseTo(want.abandon_time, 6)
      actual.abandon_time = want.abandon_time
      want.engagements.forEach((engagement: any, k: number) => {
        expect(actual.engagements[k].duration).toBeCloseTo(engagement.duration, 6)
        actual.engagements[k].duration = engagement.duration
      })
      expect(actual).toStrictEqual(want)
    }
  })

  it('emits a chat on every event that changes it, and the chat timestamp never moves', async () => {
    const outputs = await foldAll(referenceEvents())
    const versions = outputs
      .flatMap((o) => o.chats)
      .filter((c) => c.id === '2012.9339545.SJs7biGpcbveH')
    // started, 2 joins, 2 messages, 2 leaves, ended
    expect(versions).toHaveLength(8)
    expect(new Set(versions.map((c) => c.timestamp))).toEqual(new Set(['2020-12-22T04:54:16Z']))
  })
})

describe('reference agent timeline (spec/examples/agent_timeline.jsonl)', () => {
  it('reproduces the spans from status events', async () => {
    const status = (agent_id: number, timestamp: string, s: string) =>
      ev({ type: 'agent.status_changed', agent_id, timestamp, status: s })
    const outputs = await foldAll([
      status(1730415, '2018-04-29T10:26:40.957650Z', 'away'),
      status(1730415, '2018-04-29T10:27:46.662921Z', 'invisible'),
      status(1730415, '2018-04-29T10:27:46.956531Z', 'away'),
      status(980824, '2018-04-29T11:02:33.286461Z', 'online'),
      status(1730415, '2018-04-29T13:13:44.086969Z', 'offline'),
      status(980824, '2018-04-29T14:00:07.403712Z', 'offline'),
    ])
    const spans = outputs.flatMap((o) => o.agent_timeline)
    expect(spans).toStrictEqual(jsonl('agent_timeline.jsonl'))
    // Every status change is also an agent event, with the previous value.
    const events = outputs.flatMap((o) => o.agent_events)
    expect(events.map((e) => [e.agent_id, e.previous_value, e.value])).toEqual([
      [1730415, 'offline', 'away'],
      [1730415, 'away', 'invisible'],
      [1730415, 'invisible', 'away'],
      [980824, 'offline', 'online'],
      [1730415, 'away', 'offline'],
      [980824, 'online', 'offline'],
    ])
    expect(events[0]!.timestamp).toBe('2018-04-29T10:26:40.957650Z')
    for (const e of events)
      expect(e.id).toMatch(new RegExp(`^[0-9A-Za-z]{7}\\.agent:${e.agent_id}\\.[0-9A-Za-z]{6}$`))
  })
})
