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

function overloaded(fn: () => unknown): boolean {
  try {
    fn()
    return false
  } catch (err) {
    return err instanceof AppError && err.code === 'OVERLOADED'
  }
}

describe('send guard admission', () => {
  const limits = { sendTimeoutSeconds: 60, maxBytesInFlight: 1500, overloadRetryAfterSeconds: 1 }

  it('reserves the estimated page, so a second page being built is refused before its build', () => {
    const guard = createSendGuard(limits)
    // Learn the stream's size per item from one page: 10 items of 100 bytes.
    const first = guard.admit('chats', 10)
    guard.send(noSocket, first, { stream: 'chats', count: 10, body: new Uint8Array(1000) }, {})
    expect(guard.bytesInFlight).toBe(0)

    const building = guard.admit('chats', 10)
    expect(guard.bytesInFlight).toBe(1000)
    expect(overloaded(() => guard.admit('chats', 10))).toBe(true)
    // A small page still fits beside it.
    const small = guard.admit('chats', 2)
    small.release()
    building.release()
    building.release()
    expect(guard.bytesInFlight).toBe(0)
    expect(overloaded(() => guard.admit('chats', 10).release())).toBe(false)
  })

  it('admits a page alone even when it is larger than the bound', () => {
    const guard = createSendGuard(limits)
    const first = guard.admit('chats', 10)
    guard.send(noSocket, first, { stream: 'chats', count: 10, body: new Uint8Array(5000) }, {})
    const alone = guard.admit('chats', 10)
    expect(guard.bytesInFlight).toBe(5000)
    alone.release()
  })

  it('keeps estimates per stream', () => {
    const guard = createSendGuard(limits)
    const chats = guard.admit('chats', 10)
    guard.send(noSocket, chats, { stream: 'chats', count: 10, body: new Uint8Array(1200) }, {})
    const held = guard.admit('chats', 10)
    // agent_timeline has no estimate yet: its first page reserves nothing and is admitted.
    expect(overloaded(() => guard.admit('agent_timeline', 1000).release())).toBe(false)
    held.release()
  })
})
