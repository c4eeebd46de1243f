/**
 * Fault injection for people who test connectors: make the server answer 429 (with Retry-After),
 * 500, 503, answer slowly, or drop the connection — on request (a header) or at random (seeded).
 * Off unless `serve --faults ...` enables it.
 *
 *   --faults header                       honour `X-Chat-Export-Fault` on each request
 *   --faults "429=0.1,500=0.05,slow=0.1,drop=0.02,seed=7,delay=2000"   random faults
 *   (both can be combined: "header,429=0.1")
 *
 * Header values: `429`, `429;retry-after=3`, `500`, `503`, `delay=1500`, `drop`.
 * Faults apply to the export and ingest APIs only, never before authentication: a fault never
 * writes anything (it answers before the handler runs).
 * @module
 */
import type { MiddlewareHandler } from 'hono'
import type { Random } from '../domain/clock.js'
import { seededRandom } from '../domain/clock.js'
import { AppError } from '../domain/errors.js'
import type { FaultPlan } from '../domain/fault-plan.js'

type Fault =
  | { kind: 'status'; status: 429 | 500 | 503; retryAfter: number }
  | { kind: 'delay'; ms: number }
  | { kind: 'drop' }

function fromHeader(value: string, plan: FaultPlan): Fault {
  const [head, ...params] = value.split(';').map((s) => s.trim())
  const retry = params.find((p) => p.startsWith('retry-after='))
  const retryAfter = retry ? Math.max(0, Number(retry.split('=')[1])) : plan.retryAfterSeconds
  if (head === '429' || head === '500' || head === '503') {
    return { kind: 'status', status: Number(head) as 429 | 500 | 503, retryAfter }
  }
  if (head === 'drop') return { kind: 'drop' }
  if (head?.startsWith('delay=')) {
    const ms = Number(head.slice(6))
    if (Number.isFinite(ms) && ms >= 0 && ms <= 60_000) return { kind: 'delay', ms }
  }
  throw new AppError(
    'INVALID_PARAMETER',
    `X-Chat-Export-Fault "${value}" is not understood. Use 429, 429;retry-after=N, 500, 503, delay=MS (≤ 60000) or drop.`,
  )
}

function atRandom(plan: FaultPlan, random: Random): Fault | undefined {
  const r = random.next()
  const { r429, r500, r503, slow, drop } = plan.rates
  let edge = r429
  if (r < edge) return { kind: 'status', status: 429, retryAfter: plan.retryAfterSeconds }
  if (r < (edge += r500)) return { kind: 'status', status: 500, retryAfter: 0 }
  if (r < (edge += r503)) return { kind: 'status', status: 503, retryAfter: plan.retryAfterSeconds }
  if (r < (edge += slow)) return { kind: 'delay', ms: plan.delayMs }
  if (r < (edge += drop)) return { kind: 'drop' }
  return undefined
}

/** The fault middleware. */
export function injectFaults(plan: FaultPlan): MiddlewareHandler {
  const random = seededRandom(plan.seed)
  return async function faults(c, next) {
    const header = plan.header ? c.req.header('x-chat-export-fault') : undefined
    const fault = header ? fromHeader(header, plan) : atRandom(plan, random)
    if (!fault) return next()
    switch (fault.kind) {
      case 'delay':
        await new Promise((resolve) => setTimeout(resolve, fault.ms))
        return next()
      case 'drop': {
        // Destroy the socket without an answer, as a crashed proxy or a network cut would.
        const incoming = (c.env as { incoming?: { socket?: { destroy(): void } } } | undefined)
          ?.incoming
        incoming?.socket?.destroy()
        throw new AppError('INJECTED_FAULT', 'Connection dropped on purpose (fault injection).')
      }
      case 'status':
        if (fault.status === 429) {
          throw new AppError(
            'RATE_LIMITED',
            `This user has exceeded an allotted request count. Try again in ${fault.retryAfter} seconds (injected fault).`,
            { retryAfterSeconds: fault.retryAfter },
          )
        }
        if (fault.status === 503) {
          throw new AppError('STORE_UNAVAILABLE', 'The store cannot serve now (injected fault).', {
            retryAfterSeconds: fault.retryAfter,
          })
        }
        throw new AppError(
          'INJECTED_FAULT',
          'The server failed on purpose (injected fault). Retry.',
        )
    }
  }
}
