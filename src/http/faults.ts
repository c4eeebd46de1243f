/**
 * Fault injection for people who test connectors. Three sources, one engine
 * (src/domain/fault-script.ts decides, this middleware applies):
 *
 *   1. the `X-Chat-Export-Fault` header, with `serve --faults header`;
 *   2. the account's scripted faults, set at run time through the admin API
 *      (`/api/chat-export/v1/admin/accounts/{name}/faults`, docs/admin.md);
 *   3. random faults, seeded: `serve --faults "429=0.1,500=0.05,slow=0.1,drop=0.02,seed=7"`.
 *
 * Header values: `429`, `429;retry-after=3`, `500`, `502`, `503`, `504`, `delay=1500`, `drop`,
 * `reset-mid-body`, `truncate`, `malformed`, `wrong-count`.
 *
 * Faults apply to the export and ingest APIs only, after authentication. They never change stored
 * data: status, latency and reset-before-body faults answer before the handler runs, and faults that
 * damage a body apply to GET (read-only) requests only, after the handler built the page. A faulted
 * page is never a valid page, so a client that validates what it reads never moves its cursor.
 * @module
 */
import type { Context, MiddlewareHandler } from 'hono'
import type { Random } from '../domain/clock.js'
import { seededRandom } from '../domain/clock.js'
import { AppError } from '../domain/errors.js'
import type { FaultPlan } from '../domain/fault-plan.js'
import { describeFault, isBodyFault, type Fault, type FaultScript } from '../domain/fault-script.js'
import { isStreamName } from '../domain/streams.js'
import type { AuthVariables } from './auth.js'

/** Where the middleware finds each account's scripted faults. */
export interface FaultScripts {
  /** The account's script, if it has one. */
  forAccount(accountId: number): FaultScript | undefined
}

export interface FaultSources {
  plan?: FaultPlan | undefined
  scripts?: FaultScripts | undefined
}

const HEADER_HELP =
  'Use 429, 429;retry-after=N, 500, 502, 503, 504, delay=MS (≤ 60000), drop, reset-mid-body, truncate, malformed or wrong-count.'

function fromHeader(value: string, plan: FaultPlan): Fault {
  const [head, ...params] = value.split(';').map((s) => s.trim())
  const retry = params.find((p) => p.startsWith('retry-after='))
  const retryAfter = retry ? Math.max(0, Number(retry.split('=')[1])) : plan.retryAfterSeconds
  switch (head ?? '') {
    case '429':
    case '503':
      return { kind: 'status', status: Number(head) as 429 | 503, retryAfterSeconds: retryAfter }
    case '500':
    case '502':
    case '504':
      return { kind: 'status', status: Number(head) as 500 | 502 | 504, retryAfterSeconds: 0 }
    case 'drop':
      return { kind: 'reset', when: 'before_body' }
    case 'reset-mid-body':
      return { kind: 'reset', when: 'mid_body' }
    case 'truncate':
      return { kind: 'body', damage: 'truncated' }
    case 'malformed':
      return { kind: 'body', damage: 'malformed' }
    case 'wrong-count':
      return { kind: 'body', damage: 'wrong_count' }
  }
  if (head?.startsWith('delay=')) {
    const ms = Number(head.slice(6))
    if (Number.isFinite(ms) && ms >= 0 && ms <= 60_000) return { kind: 'latency', ms }
  }
  throw new AppError(
    'INVALID_PARAMETER',
    `X-Chat-Export-Fault "${value}" is not understood. ${HEADER_HELP}`,
  )
}

function atRandom(plan: FaultPlan, random: Random): Fault | undefined {
  const r = random.next()
  const { r429, r500, r503, slow, drop } = plan.rates
  let edge = r429
  if (r < edge) return { kind: 'status', status: 429, retryAfterSeconds: plan.retryAfterSeconds }
  if (r < (edge += r500)) return { kind: 'status', status: 500, retryAfterSeconds: 0 }
  if (r < (edge += r503))
    return { kind: 'status', status: 503, retryAfterSeconds: plan.retryAfterSeconds }
  if (r < (edge += slow)) return { kind: 'latency', ms: plan.delayMs }
  if (r < (edge += drop)) return { kind: 'reset', when: 'before_body' }
  return undefined
}

/** The stream a request addresses: an export stream name, `ingest`, or undefined. */
export function streamOf(path: string): string | undefined {
  const last = path.split('/').filter(Boolean).at(-1) ?? ''
  if (isStreamName(last)) return last
  if (path.includes('/api/chat-export/v1/')) return last === 'events' ? 'ingest' : last
  return undefined
}

/** The fault middleware: decides, marks `c.var.fault`, and applies. */
export function injectFaults(
  sources: FaultSources,
): MiddlewareHandler<{ Variables: AuthVariables }> {
  const plan = sources.plan
  const random = seededRandom(plan?.seed ?? 1)
  return async function faults(c, next) {
    const header = plan?.header ? c.req.header('x-chat-export-fault') : undefined
    const request = { method: c.req.method, path: c.req.path, stream: streamOf(c.req.path) }
    let fault: Fault | undefined
    if (header && plan) fault = fromHeader(header, plan)
    fault ??= sources.scripts?.forAccount(c.var.token.accountId)?.decide(request)
    if (fault === undefined && plan) fault = atRandom(plan, random)
    // A body fault on a write would let the handler write: never (see the module comment).
    if (!fault || (isBodyFault(fault) && c.req.method !== 'GET')) return next()
    c.set('fault', describeFault(fault))
    return applyFault(c, fault, next)
  }
}

async function applyFault(c: Context, fault: Fault, next: () => Promise<void>): Promise<void> {
  switch (fault.kind) {
    case 'latency':
      await new Promise((resolve) => setTimeout(resolve, fault.ms))
      return next()
    case 'status':
      throw statusError(fault.status, fault.retryAfterSeconds)
    case 'reset':
      if (fault.when === 'before_body') {
        // Destroy the socket without an answer, as a crashed proxy or a network cut would.
        socketOf(c)?.destroy()
        throw new AppError('INJECTED_FAULT', 'Connection dropped on purpose (fault injection).')
      }
      await next()
      c.res = resetMidBody(c, new Uint8Array(await c.res.arrayBuffer()))
      return
    case 'body': {
      await next()
      if (c.res.status !== 200) return
      const text = await c.res.text()
      // Hono copies the old response's headers onto a new one: drop it first, or the page's
      // Content-Length would outlive the damage.
      c.res = undefined
      c.res = new Response(damage(text, fault.damage), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      })
    }
  }
}

function statusError(status: 429 | 500 | 502 | 503 | 504, retryAfterSeconds: number): AppError {
  switch (status) {
    case 429:
      return new AppError(
        'RATE_LIMITED',
        `This user has exceeded an allotted request count. Try again in ${retryAfterSeconds} seconds (injected fault).`,
        { retryAfterSeconds },
      )
    case 503:
      return new AppError('STORE_UNAVAILABLE', 'The store cannot serve now (injected fault).', {
        retryAfterSeconds,
      })
    case 502:
      return new AppError('INJECTED_BAD_GATEWAY', 'Bad gateway (injected fault). Retry.')
    case 504:
      return new AppError('INJECTED_GATEWAY_TIMEOUT', 'Gateway timeout (injected fault). Retry.')
    case 500:
      return new AppError('INJECTED_FAULT', 'The server failed on purpose (injected fault). Retry.')
  }
}

/** Damages a JSON page: cut in half, made unparseable at full length, or a `count` off by one. */
export function damage(text: string, how: 'truncated' | 'malformed' | 'wrong_count'): string {
  switch (how) {
    case 'truncated':
      return text.slice(0, Math.max(1, Math.floor(text.length / 2)))
    case 'malformed':
      // The first member's colon becomes '=': same length, not JSON.
      return text.replace(':', '=')
    case 'wrong_count':
      return text.replace(/"count":(\d+)/, (_, n: string) => `"count":${Number(n) + 1}`)
  }
}

/** Sends the first half of the body, then destroys the connection. */
function resetMidBody(c: Context, bytes: Uint8Array): Response {
  const half = bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2)))
  const socket = socketOf(c)
  let sent = false
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!sent) {
        sent = true
        controller.enqueue(half)
        return
      }
      // Give the first half time to leave, then cut the connection under the declared length.
      setTimeout(() => socket?.destroy(), 20)
    },
  })
  return new Response(stream, {
    status: 200,
    headers: { 'content-type': 'application/json', 'content-length': String(bytes.length) },
  })
}

function socketOf(c: Context): { destroy(): void } | undefined {
  return (c.env as { incoming?: { socket?: { destroy(): void } } } | undefined)?.incoming?.socket
}
