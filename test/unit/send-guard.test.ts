/**
 * The bytes-in-flight bound refuses a page before it is built (issue 13, finding 5): `admit`
 * reserves the room a page will probably take, so concurrent builds cannot all pass the check
 * and a refused request costs no build.
 */
import type { Context } from 'hono'
import { describe, expect, it } from 'vitest'
import { createSendGuard } from '../../src/http/send-guard.js'
import { AppError } from '../../src/domain/errors.js'

/** A context without a socket: `send` learns the page's size and holds nothing. */
const noSocket = {
  env: {},
  body: () => new Response(null),
} as unknown as Context

async function overloaded(fn: () => Promise<unknown>): Promise<boolean> {
  try {
    await fn()
    return false
  } catch (err) {
    return err instanceof AppError && err.code === 'OVERLOADED'
  }
}

describe('send guard admission', () => {
  const limits = { sendTimeoutSeconds: 60, maxBytesInFlight: 1500, overloadRetryAfterSeconds: 1 }

  it('reserves the estimated page, so a second page being built is refused before its build', async () => {
    const guard = createSendGuard(limits)
    // Learn the stream's size per item from one page: 10 items of 100 bytes.
    const first = await guard.admit('chats', 10)
    guard.send(noSocket, first, { stream: 'chats', count: 10, body: new Uint8Array(1000) }, {})
    expect(guard.bytesInFlight).toBe(0)

    const building = await guard.admit('chats', 10)
    expect(guard.bytesInFlight).toBe(1000)
    expect(await overloaded(() => guard.admit('chats', 10))).toBe(true)
    // A small page still fits beside it.
    const small = await guard.admit('chats', 2)
    small.release()
    building.release()
    building.release()
    expect(guard.bytesInFlight).toBe(0)
    expect(await overloaded(async () => (await guard.admit('chats', 10)).release())).toBe(false)
  })

  it('admits a page alone even when it is larger than the bound', async () => {
    const guard = createSendGuard(limits)
    const first = await guard.admit('chats', 10)
    guard.send(noSocket, first, { stream: 'chats', count: 10, body: new Uint8Array(5000) }, {})
    const alone = await guard.admit('chats', 10)
    expect(guard.bytesInFlight).toBe(5000)
    alone.release()
  })

  it('keeps estimates per stream', async () => {
    const guard = createSendGuard(limits)
    const chats = await guard.admit('chats', 10)
    guard.send(noSocket, chats, { stream: 'chats', count: 10, body: new Uint8Array(1200) }, {})
    const held = await guard.admit('chats', 10)
    // agent_timeline has no estimate yet: its first page reserves nothing and is admitted.
    expect(
      await overloaded(async () => (await guard.admit('agent_timeline', 1000)).release()),
    ).toBe(false)
    held.release()
  })

  it('counts the items a page would hold before refusing it for its whole limit', async () => {
    let now = 0
    const guard = createSendGuard(limits, () => now)
    // 100 bytes per item; a page of 10 items is held (1000 bytes in flight).
    const first = await guard.admit('chats', 10)
    guard.send(noSocket, first, { stream: 'chats', count: 10, body: new Uint8Array(1000) }, {})
    const building = await guard.admit('chats', 10)
    let counted = 0
    const count = (key: string, items: number) => ({
      key: () => key,
      items: () => {
        counted += 1
        return Promise.resolve(items)
      },
    })
    // limit 1000 (100 000 bytes) does not fit; the account has 3 items after the cursor: it does.
    const small = await guard.admit('chats', 1000, count('a', 3))
    expect(counted).toBe(1)
    expect(guard.bytesInFlight).toBe(1300)
    small.release()
    // A page that fits at its limit is not counted.
    ;(await guard.admit('chats', 4, count('b', 4))).release()
    expect(counted).toBe(1)
    // A page that really holds its limit is still refused, after its count.
    expect(await overloaded(() => guard.admit('chats', 1000, count('c', 1000)))).toBe(true)
    expect(counted).toBe(2)
    // Asked again within a second, the same page is refused on the kept count; later, counted.
    expect(await overloaded(() => guard.admit('chats', 1000, count('c', 1000)))).toBe(true)
    expect(counted).toBe(2)
    now = 1000
    expect(await overloaded(() => guard.admit('chats', 1000, count('c', 1000)))).toBe(true)
    expect(counted).toBe(3)
    building.release()
  })
})
