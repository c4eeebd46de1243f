import { describe, expect, it } from 'vitest'
import { AppError } from '../../src/domain/errors.js'
import { renderBans, renderList, renderRecord } from '../../src/domain/rest/render.js'
import {
  defaultAccount,
  defaultAccountRouting,
  RESOURCES,
} from '../../src/domain/rest/resources.js'
import {
  buildCreated,
  buildUpdated,
  expandDottedKeys,
  parseWriteBody,
} from '../../src/domain/rest/write-body.js'

const NOW = 1_710_000_000_123_456
const ctx = { accountId: 7, allocatedId: 101, now: NOW }

function refusal(fn: () => unknown): AppError {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(AppError)
    return e as AppError
  }
  throw new Error('expected a refusal')
}

describe('write bodies', () => {
  it('creates a department from defaults and the body; 0/1 become booleans', () => {
    const d = buildCreated(RESOURCES.department, { name: 'Sales', enabled: 0 }, ctx)
    expect(d).toEqual({
      id: 101,
      name: 'Sales',
      description: '',
      enabled: false,
      members: [],
      settings: {
        chat_enabled: true,
        solved_ticket_reassignment_strategy: '',
        support_group_id: null,
      },
    })
    expect(Object.keys(d)).toEqual(['id', 'name', 'description', 'enabled', 'members', 'settings'])
  })

  it("accepts zenpy's dotted keys and its resource envelope", () => {
    expect(expandDottedKeys({ 'settings.chat_enabled': false, 'a.b.c': 1 })).toEqual({
      settings: { chat_enabled: false },
      a: { b: { c: 1 } },
    })
    const agent = buildCreated(
      RESOURCES.agent,
      { email: 'Ann@Example.com', password: 'secret1' },
      ctx,
    )
    const renamed = buildUpdated(RESOURCES.agent, agent, { 'agent.display_name': 'Ann' })
    expect(renamed['display_name']).toBe('Ann')
    const dept = buildCreated(RESOURCES.department, { name: 'Sales' }, ctx)
    expect(
      buildUpdated(RESOURCES.department, dept, { 'settings.chat_enabled': false })['settings'],
    ).toEqual({
      chat_enabled: false,
      solved_ticket_reassignment_strategy: '',
      support_group_id: null,
    })
    const account = defaultAccount(7, NOW)
    expect(
      buildUpdated(RESOURCES.account, account, { account: { billing: { city: 'Oslo' } } })[
        'billing'
      ],
    ).toMatchObject({ city: 'Oslo', cycle: 1 })
  })

  it('never stores the agent password, but requires and checks it on create', () => {
    const agent = buildCreated(RESOURCES.agent, { email: 'a@b.c', password: 'secret1' }, ctx)
    expect(agent).not.toHaveProperty('password')
    expect(
      refusal(() => buildCreated(RESOURCES.agent, { email: 'a@b.c' }, ctx)).description,
    ).toMatch(/agent\.password is required/)
    expect(
      refusal(() => buildCreated(RESOURCES.agent, { email: 'a@b.c', password: 'x' }, ctx))
        .description,
    ).toMatch(/agent\.password/)
  })

  it('ignores echoed read-only fields, refuses unknown ones naming them', () => {
    const d = buildCreated(RESOURCES.department, { id: 5, name: 'X' }, ctx)
    expect(d['id']).toBe(101)
    const e = refusal(() => buildCreated(RESOURCES.department, { name: 'X', colour: 'red' }, ctx))
    expect(e.code).toBe('INVALID_RESOURCE')
    expect(e.status).toBe(400)
    expect(e.description).toMatch(/"colour" is not a field of a department/)
    const nested = refusal(() =>
      buildCreated(RESOURCES.department, { name: 'X', 'settings.bogus': 1 }, ctx),
    )
    expect(nested.description).toMatch(/department\.settings\.bogus/)
  })

  it('names the field with a wrong type, a missing required field, or a value out of range', () => {
    expect(refusal(() => buildCreated(RESOURCES.goal, { name: 3 }, ctx)).description).toMatch(
      /^goal\.name is not valid/,
    )
    expect(refusal(() => buildCreated(RESOURCES.skill, {}, ctx)).description).toMatch(
      /skill\.name is required/,
    )
    expect(
      refusal(() =>
        buildUpdated(RESOURCES.account_routing, defaultAccountRouting(), {
          chat_limit: { limit: 21 },
        }),
      ).description,
    ).toMatch(/^data\.chat_limit\.limit is not valid/)
    expect(
      refusal(() =>
        buildCreated(
          RESOURCES.goal,
          {
            name: 'G',
            settings: { conditions: [{ type: 'url', operator: 'equals', value: 'shop' }] },
          },
          ctx,
        ),
      ).description,
    ).toMatch(/goal\.settings\.conditions\.0\.value .*http/)
    expect(refusal(() => parseWriteBody([1], RESOURCES.goal)).code).toBe('INVALID_RESOURCE')
  })

  it('a shortcut id is its name and cannot be renamed', () => {
    const s = buildCreated(RESOURCES.shortcut, { name: 'goodbye', message: 'Bye' }, ctx)
    expect(s['id']).toBe('goodbye')
    expect(
      refusal(() => buildUpdated(RESOURCES.shortcut, s, { name: 'other' })).description,
    ).toMatch(/cannot change/)
    expect(
      refusal(() => buildCreated(RESOURCES.shortcut, { name: 'a/b', message: 'x' }, ctx)).code,
    ).toBe('INVALID_RESOURCE')
  })

  it('a ban is an IP ban or a visitor ban by the key given', () => {
    const ip = buildCreated(RESOURCES.ban, { ip_address: '192.123.123.5', reason: 'Spammer' }, ctx)
    expect(ip).toEqual({
      id: 101,
      reason: 'Spammer',
      created_at: '2024-03-09T16:00:00Z',
      type: 'ip_address',
      ip_address: '192.123.123.5',
    })
    const visitor = buildCreated(RESOURCES.ban, { visitor_id: '7.abc', visitor_name: 'V' }, ctx)
    expect(visitor['type']).toBe('visitor')
    expect(renderBans([visitor, ip])).toEqual({ ip_address: [ip], visitor: [visitor] })
    expect(renderBans([])).toEqual({ ip_address: [], visitor: [] })
  })
})

describe('renderers', () => {
  it('serve booleans and numeric-string plan limits whatever the stored record had', () => {
    const account = defaultAccount(7, NOW)
    const stored = { ...account, plan: { ...account.plan, sla: 1, max_departments: 2 } }
    const wire = renderRecord('account', stored)
    expect((wire['plan'] as Record<string, unknown>)['sla']).toBe(true)
    expect((wire['plan'] as Record<string, unknown>)['max_departments']).toBe('2')
  })
  it('orders lists by id, integer ids numerically, string ids by text', () => {
    const a = buildCreated(RESOURCES.skill, { name: 'a' }, { ...ctx, allocatedId: 10 })
    const b = buildCreated(RESOURCES.skill, { name: 'b' }, { ...ctx, allocatedId: 9 })
    expect(renderList('skill', [a, b]).map((s) => s['id'])).toEqual([9, 10])
    expect(renderList('skill', [])).toEqual([])
  })
})
