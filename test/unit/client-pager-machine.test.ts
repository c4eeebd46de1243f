import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { PagerConfig, PagerEvent, PagerState } from '../../src/client/pager-machine.js'
import { isTerminal, transition } from '../../src/client/pager-machine.js'
import type { Sleep } from '../../src/client/index.js'
import { ExportClient, ExportHttpError } from '../../src/client/index.js'
import type { Fault } from './client-fake-server.js'
import { FakeExportServer, chat } from './client-fake-server.js'

/**
 * Model-based test of the pager state machine: random event sequences are applied both to the
 * real transition function and to a deliberately simple model of the documented behaviour.
 */
interface Model {
  kind: PagerState['kind']
  url: string
  retry: number
  urls: number
}

interface Real {
  state: PagerState
  config: PagerConfig
}

const BACKOFF = { initialMs: 100, maxMs: 1000, multiplier: 2 }

function check(model: Model, real: Real): void {
  expect(real.state.kind).toBe(model.kind)
  expect(real.state.url).toBe(model.url)
  if (real.state.kind === 'fetching' || real.state.kind === 'backing-off') {
    expect(real.state.retry).toBe(model.retry)
    expect(real.state.retry).toBeLessThanOrEqual(real.config.maxRetries)
  }
}

class Apply implements fc.Command<Model, Real> {
  constructor(
    readonly event: PagerEvent,
    readonly label: string,
  ) {}
  check(): boolean {
    return true
  }
  run(model: Model, real: Real): void {
    const before = real.state
    const event =
      this.event.type === 'page'
        ? { ...this.event, nextPage: `https://x.test/p${model.urls + 1}` }
        : this.event
    real.state = transition(before, event, real.config)
    const { maxRetries, follow } = real.config
    if (isTerminal(before)) {
      // Terminal states absorb every event.
      expect(real.state).toBe(before)
      return
    }
    switch (event.type) {
      case 'start':
        if (model.kind === 'idle') Object.assign(model, { kind: 'fetching', retry: 0 })
        break
      case 'page':
        if (model.kind === 'fetching') {
          model.urls++
          model.url = event.nextPage
          model.retry = 0
          model.kind = !event.caughtUp ? 'fetching' : follow ? 'caught-up' : 'done'
        }
        break
      case 'retryable-error':
        if (model.kind === 'fetching') {
          if (model.retry + 1 > maxRetries) {
            model.kind = 'failed'
          } else {
            model.retry++
            model.kind = 'backing-off'
            const state = real.state as Extract<PagerState, { kind: 'backing-off' }>
            const ceiling = Math.min(BACKOFF.maxMs, BACKOFF.initialMs * 2 ** (model.retry - 1))
            const floor = event.retryAfterMs ?? 0
            expect(state.delayMs).toBeGreaterThanOrEqual(floor)
            expect(state.delayMs).toBeLessThanOrEqual(Math.max(floor, ceiling))
            expect(state.error).toBe(event.error)
          }
        }
        break
      case 'fatal-error':
        if (model.kind === 'fetching') model.kind = 'failed'
        break
      case 'wake':
        if (model.kind === 'backing-off') model.kind = 'fetching'
        else if (model.kind === 'caught-up') Object.assign(model, { kind: 'fetching', retry: 0 })
        break
      case 'abort':
        model.kind = 'failed'
        break
      case 'stop':
        model.kind = 'done'
        break
    }
    if (model.kind === 'failed' && real.state.kind === 'failed') {
      const expected =
        event.type === 'abort' ? event.reason : 'error' in event ? event.error : undefined
      expect(real.state.error).toBe(expected)
    }
    check(model, real)
  }
  toString(): string {
    return this.label
  }
}

const errorArb = fc.constantFrom(new Error('a'), new Error('b'))
const commandArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant(new Apply({ type: 'start' }, 'start')) },
  {
    weight: 6,
    arbitrary: fc
      .boolean()
      .map(
        (caughtUp) =>
          new Apply({ type: 'page', nextPage: '', caughtUp }, `page(caughtUp=${caughtUp})`),
      ),
  },
  {
    weight: 5,
    arbitrary: fc
      .tuple(errorArb, fc.option(fc.integer({ min: 0, max: 5000 }), { nil: undefined }))
      .map(
        ([error, retryAfterMs]) =>
          new Apply({ type: 'retryable-error', error, retryAfterMs }, `retryable(${retryAfterMs})`),
      ),
  },
  {
    weight: 1,
    arbitrary: errorArb.map((error) => new Apply({ type: 'fatal-error', error }, 'fatal')),
  },
  { weight: 6, arbitrary: fc.constant(new Apply({ type: 'wake' }, 'wake')) },
  { weight: 1, arbitrary: errorArb.map((reason) => new Apply({ type: 'abort', reason }, 'abort')) },
  { weight: 1, arbitrary: fc.constant(new Apply({ type: 'stop' }, 'stop')) },
)

describe('pager state machine (model-based)', () => {
  it('matches the model for any sequence of events', () => {
    fc.assert(
      fc.property(
        fc.commands([commandArb], { maxCommands: 60 }),
        fc.integer({ min: 0, max: 4 }),
        fc.boolean(),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (commands, maxRetries, follow, r) => {
          const config: PagerConfig = { maxRetries, follow, backoff: BACKOFF, random: () => r }
          const model: Model = { kind: 'idle', url: 'https://x.test/p0', retry: 0, urls: 0 }
          const real: Real = { state: { kind: 'idle', url: 'https://x.test/p0' }, config }
          fc.modelRun(() => ({ model, real }), commands)
        },
      ),
      { numRuns: 500 },
    )
  })
})

/**
 * The whole client against the fake server over loopback: any data (with timestamp ties), any
 * limit and any sequence of transient faults. Every item arrives exactly once and in order, every
 * fault costs exactly one wait, and a 429 wait is never shorter than its Retry-After.
 */
describe('ExportClient under random faults (property)', () => {
  const faultArb: fc.Arbitrary<Fault> = fc.oneof(
    fc
      .integer({ min: 0, max: 20 })
      .map((s): Fault => ({ kind: 'status', status: 429, retryAfter: String(s) })),
    fc.constantFrom(500, 502, 503).map((status): Fault => ({ kind: 'status', status })),
    fc.constant<Fault>({ kind: 'drop' }),
    fc.constant<Fault>({ kind: 'cut-body' }),
  )

  it('delivers every item exactly once, in order, honouring Retry-After', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 25 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(faultArb, { maxLength: 6 }),
        async (gaps, limit, faults) => {
          const server = await FakeExportServer.start()
          try {
            // Gaps of 0 µs put several items on one position: ties across page boundaries.
            let position = 1_608_615_725_999_998
            gaps.forEach((gap, i) => {
              position += gap
              server.put('chats', chat(`c${String(i).padStart(2, '0')}`), position)
            })
            server.faults.push(...faults)
            const waits: number[] = []
            const sleep: Sleep = (ms) => {
              waits.push(ms)
              return Promise.resolve()
            }
            const client = new ExportClient({
              baseUrl: server.baseUrl,
              token: server.token,
              limit,
              sleep,
              random: () => 0.3,
              maxRetries: 10,
            })
            const ids: unknown[] = []
            let pages = 0
            for await (const page of client.pages('chats')) {
              pages++
              ids.push(...page.items.map((c) => c.id))
              expect(page.caughtUp).toBe(page.count < limit)
            }
            expect(ids).toEqual(server.ordered('chats').map((c) => c.id))
            expect(pages).toBe(Math.floor(gaps.length / limit) + 1)
            expect(server.requests).toHaveLength(pages + faults.length)
            expect(waits).toHaveLength(faults.length)
            faults.forEach((fault, i) => {
              if (fault.kind === 'status' && fault.retryAfter !== undefined) {
                expect(waits[i]).toBeGreaterThanOrEqual(Number(fault.retryAfter) * 1000)
              }
            })
          } finally {
            await server.close()
          }
        },
      ),
      { numRuns: 40 },
    )
  })

  it('never retries a 4xx other than 429, whatever came before it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(faultArb, { maxLength: 3 }),
        fc.constantFrom(400, 401, 403, 404, 405, 409, 422),
        async (before, status) => {
          const server = await FakeExportServer.start()
          try {
            server.put('chats', chat('only'))
            server.faults.push(...before, { kind: 'status', status })
            const client = new ExportClient({
              baseUrl: server.baseUrl,
              token: server.token,
              sleep: () => Promise.resolve(),
            })
            const error = await (async () => {
              for await (const _ of client.pages('chats')) {
                // unreachable: the first successful response comes after the 4xx
              }
            })().catch((e: unknown) => e)
            expect(error).toBeInstanceOf(ExportHttpError)
            expect((error as ExportHttpError).status).toBe(status)
            expect(server.requests).toHaveLength(before.length + 1)
          } finally {
            await server.close()
          }
        },
      ),
      { numRuns: 30 },
    )
  })
})
