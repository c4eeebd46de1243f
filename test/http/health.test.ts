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
