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
