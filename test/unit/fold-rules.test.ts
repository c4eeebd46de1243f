/**
 * One focused test per rule of docs/derivation.md (R1–R20).
 */
import { beforeEach, describe, expect, it } from 'vitest'
import { ingestEventSchema } from '../../src/domain/events.js'
import type {
  Chat,
  FoldOutput,
  FoldResult,
  LiveChat,
  OfflineMessage,
} from '../../src/domain/fold/index.js'
import { MemoryFoldState, channelOf, foldEvent } from '../../src/domain/fold/index.js'

/** 2024-01-01T10:<mm:ss[.ffffff]>Z */
const T = (mmss: string) => `2024-01-01T10:${mmss}Z`

class Harness {
  readonly state = new MemoryFoldState()
  private n = 0

  async fold(raw: Record<string, unknown>): Promise<FoldResult> {
    this.n += 1
    const event = ingestEventSchema.parse({ id: `ev-${this.n}`, timestamp: T('00:00'), ...raw })
    const result = await foldEvent(this.state, event, { accountId: 77 })
    if (result.ok) this.state.writeChats(result.output.chats)
    return result
  }

  async ok(raw: Record<string, unknown>): Promise<FoldOutput> {
    const result = await this.fold(raw)
    if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`)
    return result.output
  }

  async error(raw: Record<string, unknown>): Promise<string> {
    const result = await this.fold(raw)
    if (result.ok) throw new Error(`expected ${String(raw.type)} to fail`)
    return result.error.code
  }

  chat(id = 'c1'): LiveChat {
    return this.state.getChat(id) as LiveChat
  }

  async start(extra: Record<string, unknown> = {}, chat_id = 'c1') {
    return this.ok({
      type: 'chat.started',
      chat_id,
      timestamp: T('00:00'),
      visitor: { id: '77.vk', name: 'Vee' },
      session: { id: 's1', start_date: T('00:00') },
      ...extra,
    })
  }

  vmsg(timestamp: string, chat_id = 'c1') {
    return this.ok({ type: 'chat.message', chat_id, timestamp, sender: 'visitor', msg: 'hi' })
  }

  amsg(timestamp: string, agent_id = 1, chat_id = 'c1') {
    return this.ok({
      type: 'chat.message',
      chat_id,
      timestamp,
      sender: 'agent',
      agent_id,
      msg: 'yo',
    })
  }

  join(timestamp: string, agent_id = 1, chat_id = 'c1', extra: Record<string, unknown> = {}) {
    return this.ok({
      type: 'chat.member_joined',
      chat_id,
      timestamp,
      member: 'agent',
      agent_id,
      ...extra,
    })
  }

  leave(timestamp: string, agent_id = 1, chat_id = 'c1') {
    return this.ok({ type: 'chat.member_left', chat_id, timestamp, member: 'agent', agent_id })
  }

  end(timestamp: string, chat_id = 'c1') {
    return this.ok({ type: 'chat.ended', chat_id, timestamp })
  }
}

let h: Harness
beforeEach(async () => {
  h = new Harness()
  await h.ok({ type: 'agent.upserted', agent_id: 1, display_name: 'Ann', full_name: 'Ann Smith' })
  await h.ok({ type: 'agent.upserted', agent_id: 2, display_name: 'Bob', full_name: 'Bob Jones' })
  await h.ok({ type: 'department.upserted', department_id: 10, name: 'Sales' })
  await h.ok({ type: 'department.upserted', department_id: 11, name: 'Support' })
})

describe('R1 errors and event order', () => {
  it('refuses events for a chat that has not started, and a second start', async () => {
    expect(await h.error({ type: 'chat.ended', chat_id: 'nope' })).toBe('unknown_chat')
    await h.start()
    expect(
      await h.error({
        type: 'chat.started',
        chat_id: 'c1',
        visitor: { id: '77.vk', name: 'V' },
        session: { id: 's', start_date: T('00:00') },
      }),
    ).toBe('duplicate_chat')
  })

  it('refuses an event earlier than the chat last event and leaves the chat unchanged', async () => {
    await h.start()
    await h.vmsg(T('00:05'))
    const before = h.chat()
    expect(
      await h.error({
        type: 'chat.message',
        chat_id: 'c1',
        timestamp: T('00:04'),
        sender: 'visitor',
        msg: 'x',
      }),
    ).toBe('out_of_order')
    expect(h.chat()).toStrictEqual(before)
    await h.vmsg(T('00:05')) // equal timestamps are in order
    expect(h.chat().count.visitor).toBe(2)
  })

  it('after chat.ended takes only tags, rating, comment and deletion', async () => {
    await h.start()
    await h.end(T('01:00'))
    expect(
      await h.error({
        type: 'chat.message',
        chat_id: 'c1',
        timestamp: T('01:01'),
        sender: 'visitor',
        msg: 'x',
      }),
    ).toBe('chat_ended')
    expect(await h.error({ type: 'chat.ended', chat_id: 'c1', timestamp: T('01:01') })).toBe(
      'chat_ended',
    )
    expect(
      await h.error({
        type: 'chat.member_joined',
        chat_id: 'c1',
        timestamp: T('01:01'),
        member: 'agent',
        agent_id: 1,
      }),
    ).toBe('chat_ended')
    await h.ok({ type: 'chat.tags_changed', chat_id: 'c1', timestamp: T('02:00'), tags: ['late'] })
    await h.ok({ type: 'chat.rated', chat_id: 'c1', timestamp: T('02:00'), rating: 'good' })
    await h.ok({ type: 'chat.commented', chat_id: 'c1', timestamp: T('02:00'), comment: 'ok' })
    await h.ok({ type: 'chat.deleted', chat_id: 'c1', timestamp: T('03:00') })
    expect(h.chat()).toMatchObject({ tags: ['late'], rating: 'good', comment: 'ok', deleted: true })
  })

  it('refuses everything after deletion, and live-chat events for an offline message', async () => {
    await h.start()
    await h.ok({ type: 'chat.deleted', chat_id: 'c1', timestamp: T('00:10') })
    expect(
      await h.error({ type: 'chat.rated', chat_id: 'c1', timestamp: T('00:11'), rating: 'bad' }),
    ).toBe('chat_deleted')
    expect(await h.error({ type: 'chat.deleted', chat_id: 'c1', timestamp: T('00:11') })).toBe(
      'chat_deleted',
    )
    await h.ok({
      type: 'offline_message',
      chat_id: 'o1',
      visitor: { id: '77.vk', name: 'Vee' },
      session: { id: 's', start_date: T('00:00') },
      message: 'call me',
    })
    expect(await h.error({ type: 'chat.ended', chat_id: 'o1', timestamp: T('00:20') })).toBe(
      'not_a_live_chat',
    )
  })

  it('refuses membership contradictions', async () => {
    await h.start()
    expect(
      await h.error({ type: 'chat.member_left', chat_id: 'c1', member: 'agent', agent_id: 1 }),
    ).toBe('member_state')
    expect(
      await h.error({
        type: 'chat.message',
        chat_id: 'c1',
        sender: 'agent',
        agent_id: 1,
        msg: 'x',
      }),
    ).toBe('member_state')
    await h.join(T('00:01'))
    expect(
      await h.error({
        type: 'chat.member_joined',
        chat_id: 'c1',
        timestamp: T('00:02'),
        member: 'agent',
        agent_id: 1,
      }),
    ).toBe('member_state')
    expect(
      await h.error({
        type: 'engagement.ended',
        chat_id: 'c1',
        timestamp: T('00:02'),
        agent_id: 2,
      }),
    ).toBe('member_state')
    await h.ok({
      type: 'chat.member_joined',
      chat_id: 'c1',
      timestamp: T('00:03'),
      member: 'visitor',
    })
    expect(
      await h.error({
        type: 'chat.member_joined',
        chat_id: 'c1',
        timestamp: T('00:03'),
        member: 'visitor',
      }),
    ).toBe('member_state')
    await h.ok({
      type: 'chat.member_left',
      chat_id: 'c1',
      timestamp: T('00:04'),
      member: 'visitor',
    })
    expect(
      await h.error({
        type: 'chat.message',
        chat_id: 'c1',
        timestamp: T('00:05'),
        sender: 'visitor',
        msg: 'x',
      }),
    ).toBe('member_state')
  })

  it('refuses unknown directory entries and missing agent ids', async () => {
    expect(
      await h.error({
        type: 'chat.started',
        chat_id: 'c1',
        visitor: { id: '77.vk', name: 'V' },
        session: { id: 's', start_date: T('00:00') },
        department_id: 99,
      }),
    ).toBe('unknown_department')
    await h.start()
    expect(
      await h.error({ type: 'chat.member_joined', chat_id: 'c1', member: 'agent', agent_id: 9 }),
    ).toBe('unknown_agent')
    expect(await h.error({ type: 'chat.member_joined', chat_id: 'c1', member: 'agent' })).toBe(
      'invalid_event',
    )
    expect(await h.error({ type: 'chat.transferred', chat_id: 'c1', department_id: 99 })).toBe(
      'unknown_department',
    )
    expect(
      await h.error({ type: 'conversion', conversion_id: 'x', goal_id: 5, visitor_id: '77.vk' }),
    ).toBe('unknown_goal')
  })

  it('treats a chat imported without fold state as unknown to events', async () => {
    h.state.writeChats([{ id: 'imported', type: 'chat' } as unknown as Chat])
    const result = await h.fold({ type: 'chat.ended', chat_id: 'imported' })
    expect(result.ok).toBe(false)
    if (!result.ok) expect(result.error).toMatchObject({ code: 'unknown_chat', eventId: 'ev-5' })
  })
})

describe('R2 timestamps', () => {
  it('writes whole-second timestamps and accepts joins just before the chat timestamp', async () => {
    await h.start({ timestamp: T('00:16.700000') })
    await h.ok({
      type: 'chat.member_joined',
      chat_id: 'c1',
      timestamp: T('00:15.989000'),
      member: 'visitor',
    })
    await h.vmsg(T('00:20.999999'))
    const chat = h.chat()
    expect(chat.timestamp).toBe(T('00:16'))
    expect(chat.history.map((e) => e.timestamp)).toEqual([T('00:15'), T('00:20')])
  })
})

describe('R3 history entries', () => {
  it('indexes entries, names members as they joined and sets the channel', async () => {
    await h.start({ department_id: 10 })
    await h.ok({
      type: 'chat.member_joined',
      chat_id: 'c1',
      timestamp: T('00:01'),
      member: 'visitor',
      name: 'Visitor 1',
      source: 'chat.invite',
    })
    await h.join(T('00:02'), 1, 'c1', { name: 'Annie' })
    await h.join(T('00:02'), 2)
    await h.vmsg(T('00:03'))
    await h.ok({
      type: 'chat.message',
      chat_id: 'c1',
      timestamp: T('00:04'),
      sender: 'agent',
      agent_id: 1,
      msg: 'yes',
      msg_id: 'm9',
      options: 'Yes/No',
    })
    await h.ok({
      type: 'chat.member_left',
      chat_id: 'c1',
      timestamp: T('00:05'),
      member: 'agent',
      agent_id: 2,
      reason: 'disconnected',
    })
    const channel = '#supportchat:77-vk'
    expect(h.chat().history).toStrictEqual([
      {
        channel,
        index: 0,
        name: 'Visitor 1',
        timestamp: T('00:01'),
        type: 'chat.memberjoin',
        department_id: 10,
        department_name: 'Sales',
        source: 'chat.invite',
      },
      { channel, index: 1, name: 'Annie', timestamp: T('00:02'), type: 'chat.memberjoin' },
      { channel, index: 2, name: 'Bob', timestamp: T('00:02'), type: 'chat.memberjoin' },
      {
        channel,
        index: 3,
        name: 'Visitor 1',
        timestamp: T('00:03'),
        type: 'chat.msg',
        msg: 'hi',
        options: '',
        sender_type: 'Visitor',
      },
      {
        channel,
        index: 4,
        name: 'Annie',
        timestamp: T('00:04'),
        type: 'chat.msg',
        agent_id: '1',
        msg: 'yes',
        msg_id: 'm9',
        options: 'Yes/No',
        sender_type: 'Agent',
      },
      {
        channel,
        index: 5,
        name: 'Bob',
        timestamp: T('00:05'),
        type: 'chat.memberleave',
        reason: 'disconnected',
      },
    ])
  })

  it('takes the account from the chat id when the visitor id has none', () => {
    expect(channelOf('9339545.11mjg3Gvk0uhEiK', 'x')).toBe('#supportchat:9339545-11mjg3Gvk0uhEiK')
    expect(channelOf('abc', '2012.9339545.SJs7biGpcbveH')).toBe('#supportchat:9339545-abc')
  })
})

describe('R4–R6 count, duration, response_time', () => {
  it('counts messages per side', async () => {
    await h.start()
    await h.join(T('00:01'))
    await h.vmsg(T('00:02'))
    await h.vmsg(T('00:03'))
    await h.amsg(T('00:04'))
    expect(h.chat().count).toEqual({ agent: 1, total: 3, visitor: 2 })
  })

  it('measures duration in whole seconds from first to last message', async () => {
    await h.start()
    await h.vmsg(T('00:02.900000'))
    expect(h.chat().duration).toBe(0)
    await h.join(T('00:05'))
    await h.amsg(T('00:14.100000'))
    expect(h.chat().duration).toBe(12)
  })

  it('measures waits from the first unanswered visitor message to the reply', async () => {
    await h.start()
    await h.vmsg(T('00:00'))
    await h.join(T('00:01'))
    expect(h.chat().response_time).toEqual({ avg: null, first: null, max: null })
    await h.vmsg(T('00:04'))
    await h.amsg(T('00:10'))
    await h.amsg(T('00:20'))
    await h.vmsg(T('01:00'))
    await h.amsg(T('01:05'))
    expect(h.chat().response_time).toEqual({ avg: 7.5, first: 10, max: 10 })
  })
})

describe('R7 agent_ids and agent_names', () => {
  it('lists each agent once, in order of first join, ids as strings', async () => {
    await h.start()
    await h.join(T('00:01'), 2)
    await h.join(T('00:02'), 1, 'c1', { name: 'Annie' })
    await h.leave(T('00:03'), 2)
    await h.join(T('00:04'), 2)
    expect(h.chat()).toMatchObject({ agent_ids: ['2', '1'], agent_names: ['Bob', 'Annie'] })
  })
})

describe('R8 missed', () => {
  it('is a visitor message with no agent joining before the end', async () => {
    await h.start()
    await h.vmsg(T('00:10'))
    expect(h.chat().missed).toBe(false)
    await h.end(T('00:40.250000'))
    expect(h.chat()).toMatchObject({ missed: true, dropped: false, abandon_time: 30.25 })
  })

  it('is false when the visitor never wrote or an agent joined', async () => {
    await h.start()
    await h.end(T('00:10'))
    expect(h.chat()).toMatchObject({ missed: false, abandon_time: null })
    await h.start({}, 'c2')
    await h.vmsg(T('00:10'), 'c2')
    await h.join(T('00:11'), 1, 'c2')
    await h.end(T('00:20'), 'c2')
    expect(h.chat('c2')).toMatchObject({ missed: false, dropped: true })
  })
})

describe('R9 dropped and abandon_time', () => {
  it('is an unanswered visitor run at the end with an agent in the chat', async () => {
    await h.start()
    await h.join(T('00:01'))
    await h.amsg(T('00:02'))
    await h.vmsg(T('00:30.000000'))
    await h.vmsg(T('00:40'))
    await h.end(T('00:59.434000'))
    expect(h.chat()).toMatchObject({ dropped: true, missed: false, abandon_time: 29.434 })
  })

  it('is false when the last visitor message was answered', async () => {
    await h.start()
    await h.join(T('00:01'))
    await h.vmsg(T('00:02'))
    await h.amsg(T('00:03'))
    await h.end(T('00:09'))
    expect(h.chat()).toMatchObject({ dropped: false, missed: false, abandon_time: null })
  })
})

describe('R10 end_timestamp and session.end_date', () => {
  it('are the chat.ended time, null before', async () => {
    await h.start()
    expect(h.chat().end_timestamp).toBeNull()
    expect(h.chat().session.end_date).toBeNull()
    await h.end(T('05:36.500000'))
    expect(h.chat().end_timestamp).toBe(T('05:36'))
    expect(h.chat().session.end_date).toBe(T('05:36'))
  })
})

describe('R11 tags', () => {
  it('keeps tags in order of addition and records sorted sets in history', async () => {
    await h.start()
    await h.join(T('00:01'))
    await h.ok({
      type: 'chat.tags_changed',
      chat_id: 'c1',
      timestamp: T('00:02'),
      agent_id: 1,
      tags: ['one'],
    })
    await h.ok({
      type: 'chat.tags_changed',
      chat_id: 'c1',
      timestamp: T('00:03'),
      agent_id: 1,
      tags: ['zeta', 'one', 'goodbye'],
    })
    const unchanged = await h.ok({
      type: 'chat.tags_changed',
      chat_id: 'c1',
      timestamp: T('00:04'),
      tags: ['goodbye', 'one', 'zeta'],
    })
    expect(unchanged.chats).toEqual([])
    await h.ok({ type: 'chat.tags_changed', chat_id: 'c1', timestamp: T('00:05'), tags: ['zeta'] })
    const chat = h.chat()
    expect(chat.tags).toEqual(['zeta'])
    expect(chat.history.filter((e) => e.type === 'chat.tag')).toMatchObject([
      { name: 'Ann', tags: [], new_tags: ['one'] },
      { name: 'Ann', tags: ['one'], new_tags: ['goodbye', 'one', 'zeta'] },
      { name: '', tags: ['goodbye', 'one', 'zeta'], new_tags: ['zeta'] },
    ])
  })

  it('appends new tags after the kept ones', async () => {
    await h.start()
    await h.ok({ type: 'chat.tags_changed', chat_id: 'c1', tags: ['one'] })
    await h.ok({ type: 'chat.tags_changed', chat_id: 'c1', tags: ['one', 'goodbye_survey'] })
    expect(h.chat().tags).toEqual(['one', 'goodbye_survey'])
  })
})

describe('R12 rating and comment', () => {
  it('records before and after, and ignores a repeat', async () => {
    await h.start()
    await h.ok({ type: 'chat.rated', chat_id: 'c1', timestamp: T('00:01'), rating: 'good' })
    await h.ok({ type: 'chat.rated', chat_id: 'c1', timestamp: T('00:02'), rating: 'bad' })
    expect(
      (await h.ok({ type: 'chat.rated', chat_id: 'c1', timestamp: T('00:03'), rating: 'bad' }))
        .chats,
    ).toEqual([])
    await h.ok({ type: 'chat.commented', chat_id: 'c1', timestamp: T('00:04'), comment: 'thanks' })
    const chat = h.chat()
    expect(chat).toMatchObject({ rating: 'bad', comment: 'thanks' })
    expect(chat.history.map((e) => [e.type, e.name])).toEqual([
      ['chat.rating', 'Vee'],
      ['chat.rating', 'Vee'],
      ['chat.comment', 'Vee'],
    ])
    expect(chat.history).toMatchObject([
      { rating: null, new_rating: 'good' },
      { rating: 'good', new_rating: 'bad' },
      { comment: null, new_comment: 'thanks' },
    ])
  })
})

describe('R13 transfers', () => {
  it('moves the chat to the department and marks the next join as a transfer', async () => {
    await h.start({ department_id: 10 })
    await h.join(T('00:01'), 1)
    await h.ok({
      type: 'chat.transferred',
      chat_id: 'c1',
      timestamp: T('00:02'),
      department_id: 11,
      agent_id: 2,
    })
    await h.leave(T('00:03'), 1)
    await h.join(T('00:04'), 1)
    await h.join(T('00:05'), 2)
    const chat = h.chat()
    expect(chat).toMatchObject({ department_id: 11, department_name: 'Support' })
    expect(chat.history[1]).toMatchObject({
      type: 'chat.transfer',
      name: 'Bob',
      prev_department_id: 10,
      department_id: 11,
      department_name: 'Support',
    })
    expect(chat.engagements.map((e) => [e.agent_id, e.started_by, e.department_id])).toEqual([
      ['1', 'visitor', 10],
      ['1', 'agent', 11],
      ['2', 'transfer', 11],
    ])
  })
})

describe('R14 engagements', () => {
  it('builds one engagement per join with ids, names, flags, duration and per-agent stats', async () => {
    await h.start({ started_by: 'agent', skills_requested: [3] })
    await h.ok({ type: 'engagement.assigned', chat_id: 'c1', timestamp: T('00:00'), agent_id: 1 })
    await h.join(T('00:01.500000'), 1, 'c1', { name: 'Annie' })
    await h.ok({ type: 'engagement.accepted', chat_id: 'c1', timestamp: T('00:02'), agent_id: 1 })
    await h.join(T('00:02'), 2)
    await h.vmsg(T('00:03'))
    await h.amsg(T('00:05'), 2)
    await h.amsg(T('00:09'), 1)
    await h.ok({ type: 'chat.rated', chat_id: 'c1', timestamp: T('00:10'), rating: 'good' })
    await h.leave(T('00:20.250000'), 2)
    await h.ok({ type: 'chat.commented', chat_id: 'c1', timestamp: T('00:21'), comment: 'ok' })
    expect(h.chat().engagements[0]!.duration).toBeNull()
    await h.end(T('00:31.500000'))
    const [first, second] = h.chat().engagements
    expect(first).toStrictEqual({
      accepted: true,
      agent_full_name: 'Ann Smith',
      agent_id: '1',
      agent_name: 'Ann',
      assigned: true,
      comment: 'ok',
      count: { agent: 1, total: 2, visitor: 1 },
      department_id: null,
      duration: 30,
      id: 'c1.1',
      rating: 'good',
      response_time: { avg: 6, first: 6, max: 6 },
      skills_fulfilled: true,
      skills_requested: [3],
      started_by: 'agent',
      timestamp: T('00:01'),
    })
    expect(second).toMatchObject({
      id: 'c1.2',
      agent_name: 'Bob',
      assigned: false,
      accepted: false,
      started_by: 'agent',
      count: { agent: 1, total: 2, visitor: 1 },
      response_time: { avg: 2, first: 2, max: 2 },
      duration: 18.25,
      rating: 'good',
      comment: null,
      skills_fulfilled: false,
    })
    expect(h.chat().skills_fulfilled).toBe(true)
  })

  it('ends an engagement at engagement.ended and rates the most recent one when none is open', async () => {
    await h.start()
    await h.join(T('00:01'))
    await h.ok({
      type: 'engagement.ended',
      chat_id: 'c1',
      timestamp: T('00:04.000001'),
      agent_id: 1,
    })
    await h.vmsg(T('00:05'))
    expect(h.chat().engagements[0]).toMatchObject({ duration: 3.000001, count: { total: 0 } })
    await h.end(T('00:06'))
    await h.ok({ type: 'chat.rated', chat_id: 'c1', timestamp: T('00:07'), rating: 'bad' })
    expect(h.chat().engagements[0]!.rating).toBe('bad')
  })
})

describe('R15 deleted', () => {
  it('re-exports the chat with deleted true', async () => {
    await h.start()
    const output = await h.ok({ type: 'chat.deleted', chat_id: 'c1', timestamp: T('00:01') })
    expect(output.chats).toHaveLength(1)
    expect(output.chats[0]!.deleted).toBe(true)
  })
})

describe('R16 conversions', () => {
  const DAY = 86_400_000
  const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z')
  const base = Date.UTC(2024, 0, 20)

  async function servedChat(
    id: string,
    startMs: number,
    agent = 1,
    department_id: number | null = null,
  ) {
    await h.ok({
      type: 'chat.started',
      chat_id: id,
      timestamp: iso(startMs),
      visitor: { id: '77.vk', name: 'Vee' },
      session: { id: 's', start_date: iso(startMs) },
      department_id,
    })
    await h.join(iso(startMs + 1000), agent, id)
    await h.end(iso(startMs + 60_000), id)
  }

  it('attributes last_touch to the latest served chat within the period and embeds it', async () => {
    await h.ok({
      type: 'goal.upserted',
      goal_id: 5,
      name: 'buy',
      attribution_model: 'last_touch',
      attribution_period_days: 7,
    })
    await servedChat('old', base - 10 * DAY, 1)
    await servedChat('recent', base - 2 * DAY, 2, 10)
    await h.ok({
      type: 'chat.started',
      chat_id: 'unserved',
      timestamp: iso(base - DAY),
      visitor: { id: '77.vk', name: 'Vee' },
      session: { id: 's', start_date: iso(base - DAY) },
    })
    const output = await h.ok({
      type: 'conversion',
      timestamp: iso(base),
      conversion_id: 'cv1',
      goal_id: 5,
      visitor_id: '77.vk',
    })
    expect(output.conversions).toStrictEqual([
      {
        attribution: {
          agent_id: 2,
          chat_id: 'recent',
          chat_timestamp: iso(base - 2 * DAY),
          department_id: 10,
        },
        goal_id: 5,
        goal_name: 'buy',
        id: 'cv1',
        timestamp: iso(base),
      },
    ])
    expect(output.chats.map((c) => c.id)).toEqual(['recent'])
    expect(h.chat('recent').conversions).toStrictEqual([
      {
        attribution: {
          agent_id: 2,
          agent_name: 'Bob',
          chat_id: 'recent',
          chat_timestamp: iso(base - 2 * DAY),
          department_id: 10,
          department_name: 'Sales',
        },
        goal_id: 5,
        goal_name: 'buy',
        id: 'cv1',
        timestamp: iso(base),
      },
    ])
  })

  it('attributes first_touch to the earliest chat, and none outside the period', async () => {
    await h.ok({
      type: 'goal.upserted',
      goal_id: 6,
      name: 'lead',
      attribution_model: 'first_touch',
      attribution_period_days: 30,
    })
    await servedChat('a', base - 10 * DAY, 1)
    await servedChat('b', base - 2 * DAY, 2)
    const first = await h.ok({
      type: 'conversion',
      timestamp: iso(base),
      conversion_id: 'cv2',
      goal_id: 6,
      visitor_id: '77.vk',
    })
    expect(first.conversions[0]!.attribution).toMatchObject({ chat_id: 'a', agent_id: 1 })
    const late = await h.ok({
      type: 'conversion',
      timestamp: iso(base + 40 * DAY),
      conversion_id: 'cv3',
      goal_id: 6,
      visitor_id: '77.vk',
    })
    expect(late.conversions[0]!.attribution).toEqual({
      agent_id: null,
      chat_id: null,
      chat_timestamp: null,
      department_id: null,
    })
    expect(late.chats).toEqual([])
  })

  it('keeps the last 20 conversions on a chat, replacing one with the same id', async () => {
    await h.ok({ type: 'goal.upserted', goal_id: 5, name: 'buy' })
    await servedChat('c', base - DAY)
    for (let i = 1; i <= 22; i++)
      await h.ok({
        type: 'conversion',
        timestamp: iso(base + i * 1000),
        conversion_id: `cv${i}`,
        goal_id: 5,
        visitor_id: '77.vk',
      })
    await h.ok({
      type: 'conversion',
      timestamp: iso(base + 30_000),
      conversion_id: 'cv22',
      goal_id: 5,
      visitor_id: '77.vk',
    })
    const ids = h.chat('c').conversions.map((c) => c.id)
    expect(ids).toHaveLength(20)
    expect(ids[0]).toBe('cv3')
    expect(ids[19]).toBe('cv22')
  })
})

describe('R17 agent events and timeline', () => {
  it('counts engagements from joins and accepts, and closes spans on every change', async () => {
    await h.ok({
      type: 'agent.status_changed',
      agent_id: 1,
      timestamp: T('00:00'),
      status: 'online',
    })
    await h.start()
    const joined = await h.join(T('00:10'), 1)
    expect(joined.agent_events).toMatchObject([
      {
        agent_id: 1,
        account_id: 77,
        field_name: 'engagements',
        previous_value: 0,
        value: 1,
        timestamp: '2024-01-01T10:00:10.000000Z',
      },
    ])
    expect(joined.agent_timeline).toStrictEqual([
      {
        agent_id: 1,
        duration: 10,
        engagement_count: 0,
        start_time: '2024-01-01T10:00:00.000000Z',
        status: 'online',
      },
    ])
    await h.start({ timestamp: T('00:11') }, 'c2')
    const accepted = await h.ok({
      type: 'engagement.accepted',
      chat_id: 'c2',
      timestamp: T('00:12.500000'),
      agent_id: 1,
    })
    expect(accepted.agent_events.map((e) => e.value)).toEqual([2])
    expect((await h.join(T('00:13'), 1, 'c2')).agent_events).toEqual([]) // already counted
    const away = await h.ok({
      type: 'agent.status_changed',
      agent_id: 1,
      timestamp: T('00:20'),
      status: 'away',
    })
    expect(away.agent_timeline).toStrictEqual([
      {
        agent_id: 1,
        duration: 7.5,
        engagement_count: 2,
        start_time: '2024-01-01T10:00:12.500000Z',
        status: 'online',
      },
    ])
    const ended = await h.end(T('00:30'))
    expect(ended.agent_events).toMatchObject([
      { field_name: 'engagements', previous_value: 2, value: 1 },
    ])
    expect(ended.agent_timeline).toMatchObject([
      { status: 'away', duration: 10, engagement_count: 2 },
    ])
  })

  it('makes no span while offline or of zero length, and refuses an earlier status', async () => {
    await h.start()
    const offlineJoin = await h.join(T('00:05'), 2)
    expect(offlineJoin.agent_events).toHaveLength(1)
    expect(offlineJoin.agent_timeline).toEqual([])
    await h.ok({
      type: 'agent.status_changed',
      agent_id: 2,
      timestamp: T('00:06'),
      status: 'online',
    })
    const same = await h.ok({
      type: 'agent.status_changed',
      agent_id: 2,
      timestamp: T('00:06'),
      status: 'away',
    })
    expect(same.agent_events).toHaveLength(1)
    expect(same.agent_timeline).toEqual([])
    const repeat = await h.ok({
      type: 'agent.status_changed',
      agent_id: 2,
      timestamp: T('00:07'),
      status: 'away',
    })
    expect(repeat).toMatchObject({ agent_events: [], agent_timeline: [] })
    expect(
      await h.error({
        type: 'agent.status_changed',
        agent_id: 2,
        timestamp: T('00:01'),
        status: 'online',
      }),
    ).toBe('out_of_order')
  })

  it('records an engagement change earlier than the agent last change at that change', async () => {
    await h.start()
    await h.ok({
      type: 'agent.status_changed',
      agent_id: 1,
      timestamp: T('00:10'),
      status: 'online',
    })
    const joined = await h.join(T('00:05'), 1)
    expect(joined.agent_events[0]!.timestamp).toBe('2024-01-01T10:00:10.000000Z')
    const off = await h.ok({
      type: 'agent.status_changed',
      agent_id: 1,
      timestamp: T('00:20'),
      status: 'offline',
    })
    expect(off.agent_timeline).toMatchObject([
      { start_time: '2024-01-01T10:00:10.000000Z', duration: 10, engagement_count: 1 },
    ])
  })
})

describe('R18 department events', () => {
  it('emits a change with the previous value, nothing when equal', async () => {
    const first = await h.ok({
      type: 'department.queue_sizes',
      department_id: 123,
      timestamp: '2017-12-02T00:00:00.312082Z',
      incoming: 2,
      assigned: 2,
    })
    expect(first.department_events).toStrictEqual([
      {
        department_id: 123,
        field_name: 'queue_sizes',
        id: first.department_events[0]!.id,
        timestamp: '2017-12-02T00:00:00.312082Z',
        value: { assigned: 2, incoming: 2 },
      },
    ])
    expect(first.department_events[0]!.id).toMatch(
      /^[0-9A-Za-z]{7}\.department:123\.[0-9A-Za-z]{6}$/,
    )
    const same = await h.ok({
      type: 'department.queue_sizes',
      department_id: 123,
      timestamp: '2017-12-02T00:00:30Z',
      incoming: 2,
      assigned: 2,
    })
    expect(same.department_events).toEqual([])
    const next = await h.ok({
      type: 'department.queue_sizes',
      department_id: 123,
      timestamp: '2017-12-02T00:01:00Z',
      incoming: 3,
      assigned: 2,
    })
    expect(next.department_events[0]).toMatchObject({
      previous_value: { assigned: 2, incoming: 2 },
      value: { assigned: 2, incoming: 3 },
    })
    const account = await h.ok({
      type: 'department.queue_sizes',
      department_id: null,
      timestamp: '2017-12-02T00:01:00Z',
      incoming: 1,
      assigned: 0,
    })
    expect(account.department_events[0]!.id).toMatch(/\.department:null\./)
    expect(
      await h.error({
        type: 'department.queue_sizes',
        department_id: 123,
        timestamp: '2017-12-02T00:00:59Z',
        incoming: 0,
        assigned: 0,
      }),
    ).toBe('out_of_order')
  })
})

describe('R19 item ids', () => {
  it('derives ids from the event id: the same event gives the same id, another a different one', async () => {
    const run = async (eventId: string) => {
      const result = await foldEvent(
        new MemoryFoldState(),
        ingestEventSchema.parse({
          id: eventId,
          type: 'agent.status_changed',
          agent_id: 980824,
          timestamp: T('00:00'),
          status: 'online',
        }),
      )
      if (!result.ok) throw new Error(result.error.message)
      return result.output.agent_events[0]!.id
    }
    expect(await run('e-1')).toBe(await run('e-1'))
    expect(await run('e-1')).not.toBe(await run('e-2'))
    expect(await run('e-1')).toMatch(/^[0-9A-Za-z]{7}\.agent:980824\.[0-9A-Za-z]{6}$/)
  })
})

describe('R20 when a chat is exported again', () => {
  it('returns the chat only when the exported object changed', async () => {
    expect((await h.start()).chats).toHaveLength(1)
    expect((await h.ok({ type: 'engagement.assigned', chat_id: 'c1', agent_id: 1 })).chats).toEqual(
      [],
    )
    expect((await h.join(T('00:01'))).chats).toHaveLength(1)
    expect(
      (
        await h.ok({
          type: 'engagement.assigned',
          chat_id: 'c1',
          timestamp: T('00:02'),
          agent_id: 1,
        })
      ).chats,
    ).toEqual([])
    expect(h.chat().engagements[0]!.assigned).toBe(true)
  })
})

describe('offline messages', () => {
  it('become offline_msg chats without history or metrics', async () => {
    const output = await h.ok({
      type: 'offline_message',
      chat_id: '2104.10414779.SVhDCJ9flq79a',
      timestamp: '2021-04-26T13:54:02Z',
      visitor: {
        id: '3.45678',
        name: 'Jiny',
        email: 'visitor_jiny@doe.com',
        phone: '+32178763521',
        notes: 'Test 2',
      },
      session: { id: 's', start_date: '2021-04-26T13:50:00Z' },
      message: 'Hi there!',
      department_id: 10,
    })
    const chat = output.chats[0] as OfflineMessage
    expect(chat).toMatchObject({
      type: 'offline_msg',
      id: '2104.10414779.SVhDCJ9flq79a',
      message: 'Hi there!',
      timestamp: '2021-04-26T13:54:02Z',
      department_id: 10,
      department_name: 'Sales',
      deleted: false,
      unread: false,
      tags: [],
      webpath: [],
      zendesk_ticket_id: null,
    })
    expect(chat).not.toHaveProperty('history')
    expect(chat).not.toHaveProperty('count')
  })
})

describe('engagement.ended after the agent left', () => {
  it('is a no-op, while one for an agent never engaged is an error', async () => {
    const state = new MemoryFoldState()
    const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 9, 0, s)).toISOString()
    const chat = '2601.1.ENDEDTWICE000'
    const events: any[] = [
      {
        id: 'a',
        type: 'agent.upserted',
        timestamp: t(0),
        agent_id: 7,
        display_name: 'A',
        full_name: 'A B',
      },
      {
        id: 'b',
        type: 'chat.started',
        timestamp: t(1),
        chat_id: chat,
        visitor: { id: '1.v', name: 'V', email: '', phone: '', notes: '' },
        session: {
          id: 's',
          start_date: t(1),
          browser: '',
          city: '',
          country_code: '',
          country_name: '',
          region: '',
          platform: '',
          ip: '',
          user_agent: '',
        },
        department_id: null,
        started_by: 'visitor',
        proactive: false,
        triggered: false,
        webpath: [],
        referrer_search_engine: '',
        referrer_search_terms: '',
        skills_requested: [],
        zendesk_ticket_id: null,
      },
      {
        id: 'c',
        type: 'chat.member_joined',
        timestamp: t(2),
        chat_id: chat,
        member: 'agent',
        agent_id: 7,
      },
      {
        id: 'd',
        type: 'chat.member_left',
        timestamp: t(3),
        chat_id: chat,
        member: 'agent',
        agent_id: 7,
        reason: 'user_leave_chat',
      },
      { id: 'e', type: 'engagement.ended', timestamp: t(3), chat_id: chat, agent_id: 7 },
    ]
    for (const event of events) {
      const result = await foldEvent(state, event)
      expect(result.ok, JSON.stringify(result)).toBe(true)
      if (result.ok) state.writeChats(result.output.chats)
    }
    const stranger = await foldEvent(state, {
      id: 'f',
      type: 'engagement.ended',
      timestamp: t(4),
      chat_id: chat,
      agent_id: 8,
    } as any)
    expect(stranger.ok).toBe(false)
  })
})
