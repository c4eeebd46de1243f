/**
 * Per-account request budget (the Chat API allows 200 requests per minute). Over budget: 429 with
 * an integer `Retry-After` (zenpy fails on anything else). Disabled when the limit is 0.
 * @module
 */
import type { MiddlewareHandler } from 'hono'
import type { Clock } from '../domain/clock.js'
import { AppError } from '../domain/errors.js'
import type { AuthVariables } from './auth.js'

/** Decides whether a request may go ahead; shared between instances when the store provides it. */
export interface RateLimiter {
  consume(key: string, now: number): Promise<{ allowed: boolean; retryAfterSeconds: number }>
}

const WINDOW_MICROS = 60_000_000

/** A fixed one-minute window per key, in process memory (one server process). */
export function memoryRateLimiter(limitPerMinute: number): RateLimiter {
  const windows = new Map<string, { start: number; used: number }>()
  return {
    consume(key, now) {
      const windowStart = now - (now % WINDOW_MICROS)
      let w = windows.get(key)
      if (!w || w.start !== windowStart) {
        w = { start: windowStart, used: 0 }
        windows.set(key, w)
        if (windows.size > 10_000) windows.clear() // old windows of idle keys
      }
      w.used++
      if (w.used <= limitPerMinute) return Promise.resolve({ allowed: true, retryAfterSeconds: 0 })
      const retryAfterSeconds = Math.max(1, Math.ceil((windowStart + WINDOW_MICROS - now) / 1e6))
      return Promise.resolve({ allowed: false, retryAfterSeconds })
    },
  }
}

/** Middleware applying the limiter per account (after authentication). */
export function rateLimit(
  limiter: RateLimiter,
  clock: Clock,
): MiddlewareHandler<{ Variables: AuthVariables }> {
  return async function limitRequests(c, next) {
    const decision = await limiter.consume(`account:${c.var.token.accountId}`, clock.now())
    if (!decision.allowed) {
      throw new AppError(
        'RATE_LIMITED',
        `This user has exceeded an allotted request count. Try again in ${decision.retryAfterSeconds} seconds (see the Retry-After header).`,
        { retryAfterSeconds: decision.retryAfterSeconds },
      )
    }
    await next()
  }
}
