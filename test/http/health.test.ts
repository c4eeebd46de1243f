/** Health, readiness and metrics endpoints; metrics never carry tokens or account names. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Harness, TestAccount } from '../support/harness.js'
import { exampleItems, startHarness } from '../support/harness.js'

describe('operations endpoints', () => {
  let h: Harness
  let a: TestAccount
  beforeAll(async () => {
    h = await startHarness()
    a = await h.account('ops-secret-name')
    await h.importLines(a.readWrite, 'chats', exampleItems('chats'))
  })
  afterAll(() => h.close())

  it('healthz and readyz answer without a token', async () => {
    expect((await h.get('/healthz')).status).toBe(200)
    expect(await (await h.get('/readyz')).json()).toEqual({ status: 'ready' })
  })

  it('metrics count requests and served items, without secrets', async () => {
    await h.get('/api/v2/chat/incremental/chats', a.owner)
    const text = await (await h.get('/metrics')).text()
    expect(text).toMatch(/chat_export_items_served_total\{stream="chats"\} 2/)
    expect(text).toMatch(/chat_export_http_requests_total\{route="[^"]+",status="200"\}/)
    expect(text).not.toContain(a.owner)
    expect(text).not.toContain('ops-secret-name')
  })
})

describe('openapi.json', () => {
  it('describes every route the app serves', async () => {
    const { createApp } = await import('../../src/http/app.js')
    const { pino } = await import('pino')
    const { systemClock } = await import('../../src/domain/clock.js')
    const app = createApp({
      store: {} as never,
      clock: systemClock(),
      logger: pino({ level: 'silent' }),
      metrics: (await import('../../src/observability/metrics.js')).createMetrics(),
      ingestEvents: () => Promise.resolve({}),
    })
    const doc = await (await app.request('/openapi.json')).json()
    const documented = new Set(Object.keys(doc.paths))
    const served = new Set<string>()
    for (const route of app.routes) {
      if (route.path.includes('*')) continue
      const path = route.path.replace(':stream', '{stream}').replace(':resource', '{stream}')
      if (path.includes('{stream}') && path.startsWith('/api/v2')) {
        for (const s of [
          'chats',
          'conversions',
          'department_events',
          'agent_timeline',
          'agent_events',
        ]) {
          served.add(path.replace('{stream}', s))
        }
      } else {
        served.add(path)
      }
    }
    for (const path of served) expect(documented, path).toContain(path)
  })
})

describe('openapi.json item schemas', () => {
  let h: Harness
  let a: TestAccount
  beforeAll(async () => {
    h = await startHarness()
    a = await h.account('openapi')
    for (const stream of ['chats', 'conversions', 'department_events', 'agent_timeline'] as const)
      await h.importLines(a.readWrite, stream, exampleItems(stream))
  })
  afterAll(() => h.close())

  type Node = Record<string, any>

  /** The paths of `value` (at any depth) that `node` does not describe. */
  function undescribed(node: Node | undefined, value: unknown, path: string): string[] {
    if (node === undefined) return [path]
    const alternatives: Node[] | undefined = node.oneOf ?? node.anyOf
    if (alternatives !== undefined) {
      const fits = alternatives.filter((alt) =>
        value === null
          ? alt.type === 'null'
          : alt.type !== 'null' &&
            Object.entries(alt.properties ?? {}).every(
              ([name, p]: [string, any]) =>
                !('const' in p) || (value as Record<string, unknown>)[name] === p.const,
            ),
      )
      return fits.length === 1 ? undescribed(fits[0], value, path) : [`${path} (no branch)`]
    }
    if (Array.isArray(value)) {
      if (node.type !== 'array') return [`${path} (array not allowed)`]
      return value.flatMap((v, i) => undescribed(node.items, v, `${path}[${i}]`))
    }
    if (typeof value === 'object' && value !== null) {
      if (node.type !== 'object') return [`${path} (object not allowed)`]
      return Object.entries(value).flatMap(([k, v]) =>
        undescribed(node.properties?.[k], v, `${path}.${k}`),
      )
    }
    const allowed: string[] = Array.isArray(node.type) ? node.type : [node.type]
    const type = value === null ? 'null' : Number.isInteger(value) ? 'integer' : typeof value
    const fits = allowed.includes(type) || (type === 'integer' && allowed.includes('number'))
    return fits ? [] : [`${path} (${type} not allowed)`]
  }

  it('are generated from the item schemas and describe every attribute served', async () => {
    const doc = await h.getJson('/openapi.json', a.owner)
    const schemas = doc.components.schemas
    const chat = schemas.Chat
    expect(chat.oneOf.map((m: Node) => m.properties.type.const)).toEqual(['chat', 'offline_msg'])
    expect(Object.keys(chat.oneOf[0].properties)).toContain('engagements')
    expect(chat.oneOf[0].properties.rating).toEqual({
      anyOf: [{ type: 'string', enum: ['good', 'bad'] }, { type: 'null' }],
    })
    const page = doc.paths['/api/v2/chat/incremental/chats'].get.responses[200]
    expect(page.content['application/json'].schema.properties.chats.items).toEqual({
      $ref: '#/components/schemas/Chat',
    })
    for (const [stream, name, fields] of [
      ['chats', 'Chat', '?fields=chats(*)'],
      ['conversions', 'Conversion', '?fields=conversions(*)'],
      ['department_events', 'DepartmentEvent', ''],
      ['agent_timeline', 'AgentTimelineSpan', ''],
    ] as const) {
      const body = await h.getJson(`/api/v2/chat/incremental/${stream}${fields}`, a.owner)
      expect(body[stream].length, stream).toBeGreaterThan(0)
      const missing = body[stream].flatMap((item: unknown) =>
        undescribed(schemas[name], item, stream),
      )
      expect(missing, stream).toEqual([])
    }
  })
})
