/**
 * The simulation of a support team's chat activity, as ingest events.
 *
 * A discrete-event simulation: an agenda of timed actions (visitor arrivals, agents' shift changes,
 * each conversation's next step) is run in time order and each action emits the events of what
 * happens at that instant, so events come out in non-decreasing timestamp order. Everything random
 * is drawn from seeded streams: the same options give byte-identical events.
 *
 * What is modelled (knobs in {@link SimulationRates}):
 *
 * - arrivals: a Poisson process following the local hour of day (see arrival-curve.ts);
 * - agents: shifts with breaks and invisible stretches (shifts.ts), a capacity of concurrent
 *   chats, departments they serve; an agent whose shift ends mid-chat goes away and logs off when
 *   their last chat ends;
 * - routing ("assigned" mode): a FIFO queue per department (`null`: no department chosen);
 *   `engagement.assigned` to the least busy eligible online agent, who accepts a few seconds later
 *   (`engagement.accepted` + `chat.member_joined`) or lets it time out (back to the head of the
 *   queue); an engagement lasts from acceptance (or a proactive join) to `engagement.ended`, sent
 *   as the agent leaves; `department.queue_sizes` whenever a department's incoming/assigned
 *   counts change, and with `department_id: null` for the account's totals;
 * - conversations: greeting, questions and answers with reply delays that grow with the agent's
 *   load, tags, transfers to another department, goodbyes;
 * - outcomes: missed chats (nobody joins before the visitor gives up), dropped chats (the visitor
 *   leaves while waiting for a reply), offline messages (no agent online for the department),
 *   proactive chats (agent invitations, source `chat.invite`), triggered chats, ratings and
 *   comments (some after the chat ended), tags added later, occasional deletions, goal conversions
 *   after chats and by visitors who never chatted.
 *
 * Where each part lives, all sharing one {@link SimulationContext} passed explicitly:
 * simulation-context.ts (seeded streams, time cursor and agenda, event buffer, the run's agents,
 * chats and queues), routing.ts (availability, queues, assignment), conversation.ts (the script
 * from join to leave), arrivals.ts (visitors, triggers, proactive invitations), outcomes.ts
 * (ratings, comments, late changes, conversions, offline messages), simulate-options.ts (knobs).
 * This file checks the options and runs the agenda.
 * @module
 */
import type { IngestEvent } from '../domain/events.js'
import { scheduleArrival, scheduleProactiveTick } from './arrivals.js'
import { startConversation, visitorLeaves } from './conversation.js'
import { directoryEvents } from './directory.js'
import { scheduleBackgroundConversion } from './outcomes.js'
import { emitQueueSizes, emitStatus, planDay } from './routing.js'
import type { SimulateOptions } from './simulate-options.js'
import { SimulationContext } from './simulation-context.js'

export { DEFAULT_RATES, type SimulateOptions, type SimulationRates } from './simulate-options.js'

/**
 * Simulates the account's chat activity from `start` to `end` and yields the ingest events, in
 * non-decreasing timestamp order, each with a unique deterministic id.
 *
 * @example
 * const directory = createDirectory({ seed: 1, accountNumber: 9339545 })
 * const start = parseIso('2020-12-22T00:00:00Z')!
 * for (const event of simulate({ seed: 1, directory, start, end: start + 86_400_000_000 })) {
 *   console.log(event.timestamp, event.type)
 * }
 */
export function simulate(options: SimulateOptions): Generator<IngestEvent, void, undefined> {
  if (!Number.isFinite(options.start) || !Number.isInteger(options.start)) {
    throw new Error(`start must be an integer number of microseconds, got ${options.start}`)
  }
  if (!(options.end > options.start)) {
    throw new Error('end must be after start')
  }
  const perHour = options.arrivalsPerHour ?? 20
  if (!(perHour >= 0) || !Number.isFinite(perHour)) {
    throw new Error(`arrivalsPerHour must be a non-negative number, got ${perHour}`)
  }
  return run(options)
}

/** Runs the agenda in time order, yielding each action's events as soon as it has run. */
function* run(options: SimulateOptions): Generator<IngestEvent, void, undefined> {
  const ctx = new SimulationContext(options, { accepted: startConversation, visitorLeaves })
  const { start, end } = options
  if (options.includeDirectory ?? true) {
    yield* directoryEvents(options.directory, start, () => ctx.nextId())
  }
  ctx.schedule(start, 'agent', () => planDay(ctx, ctx.local.dayStart(start)))
  scheduleArrival(ctx, start)
  scheduleProactiveTick(ctx, start)
  scheduleBackgroundConversion(ctx, start)

  const drain = options.drain ?? false
  for (;;) {
    const action = ctx.nextAction()
    if (action === undefined) break
    if (action.at >= end) {
      if (!drain) break
      // Draining: only the rest of conversations already under way.
      if (action.kind !== 'chat') continue
    }
    ctx.now = action.at
    action.run()
    // Queue sizes once per action, so a burst of changes at one instant is one report.
    emitQueueSizes(ctx)
    yield* ctx.takeEvents()
  }
  if (drain) {
    ctx.now = Math.max(ctx.now, end)
    for (const agent of ctx.agents.values()) {
      if (agent.status !== 'offline') emitStatus(ctx, agent, 'offline')
    }
    yield* ctx.takeEvents()
  }
}
