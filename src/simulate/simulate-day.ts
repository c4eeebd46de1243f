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
 * @module
 */
import type { EventOf, IngestEvent, IngestEventType } from '../domain/events.js'
import { formatIso, type Micros } from '../domain/time.js'
import { LocalTime, nextArrival, trafficFactor } from './arrival-curve.js'
import type { AgentProfile, Directory } from './directory.js'
import { directoryEvents } from './directory.js'
import { EventQueue, type ActionKind } from './event-queue.js'
import { msgIdAt, newChatId, newConversionId, newVisitorId, uniqueId } from './ids.js'
import { TextGenerator, type ConversationTopic } from './messages.js'
import { Rng, clamp, deriveSeed } from './rng.js'
import { planShift, type AgentStatus } from './shifts.js'
import { VisitorFactory, type VisitorIdentity } from './visitors.js'

const SECOND: Micros = 1_000_000
const MINUTE: Micros = 60 * SECOND
const HOUR: Micros = 60 * MINUTE
const DAY: Micros = 24 * HOUR

/** Probabilities and typical durations; every field has a realistic default. */
export interface SimulationRates {
  /** Visitors who give a name and email in the pre-chat form. */
  namedVisitorShare: number
  /** Visitors who pick no department. */
  noDepartmentShare: number
  /** Arrivals that are returning visitors (same visitor id, new session). */
  returningVisitorShare: number
  /** Arrivals (while agents are online) whose chat is opened by a trigger's message. */
  triggeredShare: number
  /** Invitations an online agent with spare capacity sends per hour at average traffic. */
  proactivePerAgentHour: number
  /** Invited visitors who answer. */
  proactiveReplyShare: number
  /** Visitors finding no agent online who leave an offline message (the rest just leave). */
  offlineMessageShare: number
  /** Served chats transferred to another department. */
  transferShare: number
  /** Assignments the agent lets time out. */
  assignmentTimeoutShare: number
  /** Served chats the agent tags while chatting. */
  tagShare: number
  /** Served chats the visitor rates. */
  ratingShare: number
  /** Raters who also leave a comment. */
  commentShare: number
  /** Rated chats whose rating the visitor changes later. */
  ratingChangeShare: number
  /** Ended chats that an agent tags again later (hours after). */
  lateTagShare: number
  /** Ended chats deleted later. */
  deleteShare: number
  /** Offline messages that create a Support ticket. */
  ticketShare: number
  /** Conversions per hour at average traffic by visitors who never chatted. */
  backgroundConversionsPerHour: number
  /** Median time a visitor waits in the queue before giving up, in seconds. */
  queuePatienceSeconds: number
  /** Median time a visitor waits for an agent's reply before leaving, in seconds. */
  replyPatienceSeconds: number
  /** Median agent reply delay with one chat, in seconds (grows with load). */
  agentReplySeconds: number
  /** Median delay before an assigned agent accepts, in seconds. */
  acceptSeconds: number
}

export const DEFAULT_RATES: Readonly<SimulationRates> = Object.freeze({
  namedVisitorShare: 0.4,
  noDepartmentShare: 0.15,
  returningVisitorShare: 0.15,
  triggeredShare: 0.07,
  proactivePerAgentHour: 0.35,
  proactiveReplyShare: 0.45,
  offlineMessageShare: 0.6,
  transferShare: 0.07,
  assignmentTimeoutShare: 0.05,
  tagShare: 0.55,
  ratingShare: 0.35,
  commentShare: 0.35,
  ratingChangeShare: 0.05,
  lateTagShare: 0.1,
  deleteShare: 0.015,
  ticketShare: 0.5,
  backgroundConversionsPerHour: 3,
  queuePatienceSeconds: 150,
  replyPatienceSeconds: 300,
  agentReplySeconds: 30,
  acceptSeconds: 7,
})

export interface SimulateOptions {
  /** Seed of this run. Together with `start` it fixes every draw. */
  seed: number
  /** Team, departments and goals (see createDirectory). */
  directory: Directory
  /** First simulated instant (µs). */
  start: Micros
  /** End of the simulated period (µs, exclusive); `Infinity` runs forever (consume lazily). */
  end: Micros
  /** Average arrivals per hour on a weekday (peaks are about twice that); default 20. */
  arrivalsPerHour?: number
  /** The business's local time as minutes east of UTC (shifts and traffic follow it); default 0. */
  utcOffsetMinutes?: number
  /**
   * After `end`: no new visitors or shift changes, but conversations under way run to their end
   * and agents then log off, so the period closes cleanly (events may be later than `end`).
   * Default false: nothing at or after `end` is emitted.
   */
  drain?: boolean
  /** Emit the directory's upsert events at `start` first; default true. */
  includeDirectory?: boolean
  /** Prefix of event ids; default `sim-<seed>-<start in base 36>`. Ids are `<prefix>-<n>`. */
  eventIdPrefix?: string
  /** Overrides of {@link DEFAULT_RATES}. */
  rates?: Partial<SimulationRates>
}

interface AgentState {
  profile: AgentProfile
  status: AgentStatus
  /** Chats counted against capacity: assigned (not yet accepted) and joined. */
  engagements: Set<string>
  lastAssignedAt: Micros
  /** The shift ended while chats were open: log off once the last one ends. */
  offlineWhenFree: boolean
}

type Phase = 'queued' | 'talking' | 'ended'

interface ChatState {
  id: string
  identity: VisitorIdentity
  departmentId: number | null
  topic: ConversationTopic
  phase: Phase
  /** Bumped whenever a pending timer should no longer fire (a join cancels the patience timer). */
  token: number
  visitorPresent: boolean
  /** Agents currently in the chat. */
  agents: Set<number>
  /** Agents who ever joined, in order. */
  servedBy: number[]
  /** The agent assigned and not yet accepted. */
  pendingAgent: number | null
  /** Agents who let this chat's assignment time out (not assigned again). */
  declinedBy: Set<number>
  enqueuedAt: Micros
  waitedLong: boolean
  /** Exchange index: -1 before the greeting. */
  turn: number
  exchanges: number
  transferAtTurn: number | null
  transferred: boolean
  /** The last message was the visitor's and no agent has answered yet. */
  awaitingReply: boolean
  dropped: boolean
  tags: string[]
  ratedInChat: boolean
  rating: 'good' | 'bad' | null
  deleted: boolean
  /** The next agent message should be a greeting (after a join). */
  needsGreeting: boolean
}

interface QueueState {
  incoming: string[]
  assigned: number
  lastIncoming: number
  lastAssigned: number
}

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
  return new DaySimulation(options).run()
}

class DaySimulation {
  private readonly rates: SimulationRates
  private readonly rng: Rng
  private readonly visitors: VisitorFactory
  private readonly text: TextGenerator
  private readonly local: LocalTime
  private readonly agenda = new EventQueue()
  private readonly agents = new Map<number, AgentState>()
  private readonly chats = new Map<string, ChatState>()
  private readonly queues = new Map<number | null, QueueState>()
  private readonly dirtyQueues = new Set<number | null>()
  /** The account-level sizes last emitted. */
  private accountQueue = { incoming: 0, assigned: 0 }
  private readonly chatIds = new Set<string>()
  private readonly returning: VisitorIdentity[] = []
  private readonly busyVisitors = new Set<string>()
  private readonly out: IngestEvent[] = []
  private readonly idPrefix: string
  private readonly perHour: number
  private seq = 0
  private now: Micros
  private nextTicket: number

  constructor(private readonly options: SimulateOptions) {
    const runSeed = deriveSeed(options.seed, 'run', options.start)
    this.rates = { ...DEFAULT_RATES, ...options.rates }
    this.rng = new Rng(deriveSeed(runSeed, 'world'))
    this.visitors = new VisitorFactory(options.directory, runSeed)
    this.text = new TextGenerator(new Rng(deriveSeed(runSeed, 'text')), this.visitors.catalogue)
    this.local = new LocalTime(options.utcOffsetMinutes ?? 0)
    this.idPrefix = options.eventIdPrefix ?? `sim-${options.seed}-${options.start.toString(36)}`
    this.perHour = options.arrivalsPerHour ?? 20
    this.now = options.start
    this.nextTicket = 80 + this.rng.int(0, 5000)
    for (const profile of options.directory.agents) {
      this.agents.set(profile.id, {
        profile,
        status: 'offline',
        engagements: new Set(),
        lastAssignedAt: 0,
        offlineWhenFree: false,
      })
    }
    for (const d of options.directory.departments) this.queues.set(d.id, emptyQueue())
    this.queues.set(null, emptyQueue())
  }

  *run(): Generator<IngestEvent, void, undefined> {
    const { start, end } = this.options
    if (this.options.includeDirectory ?? true) {
      yield* directoryEvents(this.options.directory, start, () => this.nextId())
    }
    this.schedule(start, 'agent', () => this.planDay(this.local.dayStart(start)))
    this.scheduleArrival(start)
    this.scheduleProactiveTick(start)
    this.scheduleBackgroundConversion(start)

    const drain = this.options.drain ?? false
    for (;;) {
      const action = this.agenda.pop()
      if (action === undefined) break
      if (action.at >= end) {
        if (!drain) break
        // Draining: only the rest of conversations already under way.
        if (action.kind !== 'chat') continue
      }
      this.now = action.at
      action.run()
      this.flushQueues()
      if (this.out.length > 0) {
        yield* this.out
        this.out.length = 0
      }
    }
    if (drain) {
      this.now = Math.max(this.now, end)
      for (const agent of this.agents.values()) {
        if (agent.status !== 'offline') this.emitStatus(agent, 'offline')
      }
      yield* this.out
      this.out.length = 0
    }
  }

  // ---------------------------------------------------------------- plumbing

  private nextId(): string {
    return `${this.idPrefix}-${this.seq++}`
  }

  private schedule(at: Micros, kind: ActionKind, run: () => void): void {
    this.agenda.push(Math.max(at, this.now), kind, run)
  }

  /** Schedules `run` after `seconds` (rounded to whole milliseconds, like client clocks). */
  private after(seconds: number, kind: ActionKind, run: () => void): void {
    this.schedule(this.now + Math.max(1, Math.round(seconds * 1000)) * 1000, kind, run)
  }

  private emit<T extends IngestEventType>(
    type: T,
    fields: Omit<EventOf<T>, 'id' | 'timestamp' | 'type'>,
  ): void {
    const event = { id: this.nextId(), timestamp: formatIso(this.now), type, ...fields }
    this.out.push(event as unknown as IngestEvent)
  }

  private queueOf(departmentId: number | null): QueueState {
    let q = this.queues.get(departmentId)
    if (q === undefined) {
      q = emptyQueue()
      this.queues.set(departmentId, q)
    }
    return q
  }

  /**
   * One `department.queue_sizes` per department whose counts changed during this action, then
   * the account's totals (`department_id: null`) if they changed. Chats without a department
   * count in the totals only.
   */
  private flushQueues(): void {
    if (this.dirtyQueues.size === 0) return
    for (const departmentId of this.dirtyQueues) {
      if (departmentId === null) continue
      const q = this.queueOf(departmentId)
      if (q.incoming.length === q.lastIncoming && q.assigned === q.lastAssigned) continue
      q.lastIncoming = q.incoming.length
      q.lastAssigned = q.assigned
      this.emit('department.queue_sizes', {
        department_id: departmentId,
        incoming: q.incoming.length,
        assigned: q.assigned,
      })
    }
    this.dirtyQueues.clear()
    let incoming = 0
    let assigned = 0
    for (const q of this.queues.values()) {
      incoming += q.incoming.length
      assigned += q.assigned
    }
    if (incoming !== this.accountQueue.incoming || assigned !== this.accountQueue.assigned) {
      this.accountQueue = { incoming, assigned }
      this.emit('department.queue_sizes', { department_id: null, incoming, assigned })
    }
  }

  private departmentName(id: number | null): string {
    return this.options.directory.departments.find((d) => d.id === id)?.name ?? 'Support'
  }

  // ---------------------------------------------------------------- agents

  private planDay(dayStart: Micros): void {
    const weekend = this.local.isWeekend(dayStart + 12 * HOUR)
    const dayRng = new Rng(deriveSeed(this.options.seed, 'day', dayStart))
    for (const agent of this.agents.values()) {
      let current: AgentStatus | null = null
      for (const change of planShift(dayRng, agent.profile, dayStart, weekend)) {
        if (change.at <= this.now) {
          // The run starts mid-shift: only the status in force now matters.
          current = change.status
        } else {
          this.schedule(change.at, 'agent', () => this.setStatus(agent, change.status))
        }
      }
      if (current !== null) this.setStatus(agent, current)
    }
    this.schedule(dayStart + DAY, 'agent', () => this.planDay(dayStart + DAY))
  }

  private emitStatus(agent: AgentState, status: AgentStatus): void {
    if (agent.status === status) return
    agent.status = status
    this.emit('agent.status_changed', { agent_id: agent.profile.id, status })
  }

  private setStatus(agent: AgentState, status: AgentStatus): void {
    if (status === 'offline' && agent.engagements.size > 0) {
      // Finish the chats first; stop taking new ones meanwhile.
      this.emitStatus(agent, 'away')
      agent.offlineWhenFree = true
      return
    }
    agent.offlineWhenFree = false
    this.emitStatus(agent, status)
    if (status === 'online') this.route()
  }

  /** An engagement of `agent` ended: maybe log off, else offer them the queue. */
  private agentFreed(agent: AgentState): void {
    if (agent.offlineWhenFree && agent.engagements.size === 0) {
      agent.offlineWhenFree = false
      this.emitStatus(agent, 'offline')
      return
    }
    this.route()
  }

  private servesDepartment(agent: AgentState, departmentId: number | null): boolean {
    return departmentId === null || agent.profile.departmentIds.includes(departmentId)
  }

  private hasCapacity(agent: AgentState): boolean {
    return agent.status === 'online' && agent.engagements.size < agent.profile.capacity
  }

  private departmentOnline(departmentId: number | null): boolean {
    for (const agent of this.agents.values()) {
      if (agent.status === 'online' && this.servesDepartment(agent, departmentId)) return true
    }
    return false
  }

  private replyDelay(agent: AgentState): number {
    const load = Math.max(1, agent.engagements.size)
    const median = this.rates.agentReplySeconds * agent.profile.pace * (1 + 0.45 * (load - 1))
    return clamp(this.rng.logNormal(median, 0.6), 3, 600)
  }

  private thinkDelay(): number {
    return clamp(this.rng.logNormal(28, 0.7), 3, 300)
  }

  // ---------------------------------------------------------------- routing

  private route(): void {
    const waiting: ChatState[] = []
    for (const q of this.queues.values()) {
      for (const id of q.incoming) {
        const chat = this.chats.get(id)
        if (chat !== undefined) waiting.push(chat)
      }
    }
    waiting.sort((a, b) => a.enqueuedAt - b.enqueuedAt)
    for (const chat of waiting) {
      let best: AgentState | undefined
      for (const agent of this.agents.values()) {
        if (!this.hasCapacity(agent) || !this.servesDepartment(agent, chat.departmentId)) continue
        if (chat.declinedBy.has(agent.profile.id)) continue
        if (
          best === undefined ||
          agent.engagements.size < best.engagements.size ||
          (agent.engagements.size === best.engagements.size &&
            agent.lastAssignedAt < best.lastAssignedAt)
        ) {
          best = agent
        }
      }
      if (best !== undefined) this.assign(chat, best)
    }
  }

  private enqueue(chat: ChatState, front = false): void {
    const q = this.queueOf(chat.departmentId)
    if (front) q.incoming.unshift(chat.id)
    else q.incoming.push(chat.id)
    this.dirtyQueues.add(chat.departmentId)
    chat.phase = 'queued'
  }

  private dequeue(chat: ChatState): void {
    const q = this.queueOf(chat.departmentId)
    const i = q.incoming.indexOf(chat.id)
    if (i >= 0) {
      q.incoming.splice(i, 1)
      this.dirtyQueues.add(chat.departmentId)
    }
  }

  /** Puts a chat in its department's queue and starts the visitor's patience clock. */
  private wait(chat: ChatState): void {
    chat.enqueuedAt = this.now
    chat.token++
    const token = chat.token
    this.enqueue(chat)
    const patience = clamp(this.rng.logNormal(this.rates.queuePatienceSeconds, 0.8), 20, 1200)
    this.after(patience, 'chat', () => {
      if (chat.token === token && chat.phase === 'queued') this.visitorLeaves(chat)
    })
    if (this.rng.chance(0.3)) {
      this.after(this.rng.uniform(40, 110), 'chat', () => {
        if (chat.token === token && chat.phase === 'queued' && chat.visitorPresent) {
          this.emitVisitorMessage(chat, this.text.nudge())
        }
      })
    }
    this.route()
  }

  private assign(chat: ChatState, agent: AgentState): void {
    this.dequeue(chat)
    const q = this.queueOf(chat.departmentId)
    q.assigned++
    this.dirtyQueues.add(chat.departmentId)
    chat.pendingAgent = agent.profile.id
    agent.engagements.add(chat.id)
    agent.lastAssignedAt = this.now
    this.emit('engagement.assigned', { chat_id: chat.id, agent_id: agent.profile.id })
    const timesOut = this.rng.chance(this.rates.assignmentTimeoutShare)
    const delay = timesOut ? 30 : clamp(this.rng.logNormal(this.rates.acceptSeconds, 0.6), 1, 25)
    const token = chat.token
    this.after(delay, 'chat', () => {
      if (chat.token !== token || chat.pendingAgent !== agent.profile.id) return
      if (timesOut || agent.status !== 'online') this.withdraw(chat, agent)
      else this.accept(chat, agent)
    })
  }

  /** An assignment the agent did not accept goes back to the head of the queue. */
  private withdraw(chat: ChatState, agent: AgentState): void {
    this.unassign(chat, agent)
    chat.declinedBy.add(agent.profile.id)
    // No engagement.ended: an engagement only begins when the agent accepts or joins.
    this.enqueue(chat, true)
    this.agentFreed(agent)
  }

  private unassign(chat: ChatState, agent: AgentState): void {
    const q = this.queueOf(chat.departmentId)
    q.assigned--
    this.dirtyQueues.add(chat.departmentId)
    chat.pendingAgent = null
    agent.engagements.delete(chat.id)
  }

  private accept(chat: ChatState, agent: AgentState): void {
    const q = this.queueOf(chat.departmentId)
    q.assigned--
    this.dirtyQueues.add(chat.departmentId)
    chat.pendingAgent = null
    chat.token++
    chat.phase = 'talking'
    if (this.now - chat.enqueuedAt > 2 * MINUTE) chat.waitedLong = true
    this.emit('engagement.accepted', { chat_id: chat.id, agent_id: agent.profile.id })
    this.join(chat, agent, undefined)
    chat.needsGreeting = true
    this.after(clamp(this.rng.logNormal(8, 0.5), 2, 40), 'chat', () => this.agentTurn(chat, agent))
  }

  private join(chat: ChatState, agent: AgentState, source: string | undefined): void {
    chat.agents.add(agent.profile.id)
    chat.servedBy.push(agent.profile.id)
    agent.engagements.add(chat.id)
    this.emit('chat.member_joined', {
      chat_id: chat.id,
      member: 'agent',
      agent_id: agent.profile.id,
      name: agent.profile.displayName,
      ...(source === undefined ? {} : { source }),
    })
  }

  // ---------------------------------------------------------------- arrivals

  private scheduleArrival(after: Micros): void {
    const at = nextArrival(this.rng, this.local, after, this.perHour)
    if (at < this.options.end) this.schedule(at, 'arrival', () => this.arrive())
  }

  private pickVisitor(named: boolean): VisitorIdentity {
    if (this.returning.length > 0 && this.rng.chance(this.rates.returningVisitorShare)) {
      const identity = this.rng.pick(this.returning)
      if (!this.busyVisitors.has(identity.visitor.id)) return identity
    }
    const identity = this.visitors.newVisitor(named)
    this.returning.push(identity)
    // A bounded pool keeps memory flat on endless runs.
    if (this.returning.length > 500) this.returning.shift()
    return identity
  }

  private pickDepartment(): number | null {
    const { departments } = this.options.directory
    if (departments.length === 0 || this.rng.chance(this.rates.noDepartmentShare)) return null
    return this.rng.weighted(departments.map((d) => [d.id, d.share] as const))
  }

  private familyOf(departmentId: number | null) {
    const d = this.options.directory.departments.find((x) => x.id === departmentId)
    return d?.topics ?? this.rng.pick(['support', 'sales', 'billing'] as const)
  }

  private arrive(): void {
    this.scheduleArrival(this.now)
    const identity = this.pickVisitor(this.rng.chance(this.rates.namedVisitorShare))
    let departmentId = this.pickDepartment()
    const browsing = clamp(this.rng.logNormal(4, 0.8), 0.5, 40) * MINUTE
    const sessionStart = this.now - Math.round(browsing / 1000) * 1000

    if (!this.departmentOnline(departmentId)) {
      // The department shows as offline in the form; some pick "no department" if anyone is on.
      if (departmentId !== null && this.departmentOnline(null) && this.rng.chance(0.5)) {
        departmentId = null
      } else {
        if (this.rng.chance(this.rates.offlineMessageShare)) {
          this.offlineMessage(identity, departmentId, sessionStart)
        }
        return
      }
    }
    this.busyVisitors.add(identity.visitor.id)
    const triggered = this.rng.chance(this.rates.triggeredShare)
    const chat = this.startChat(
      identity,
      departmentId,
      sessionStart,
      triggered ? 'trigger' : 'visitor',
      null,
    )
    if (triggered) {
      // A trigger greeted the visitor, who answers a little later. The trigger's own message is
      // not sent: it has no agent, and an agent message without agent_id cannot be folded.
      this.after(this.rng.uniform(8, 60), 'chat', () => {
        this.emitVisitorMessage(chat, this.text.opener(chat.topic))
        this.wait(chat)
      })
    } else {
      this.emitVisitorMessage(chat, this.text.opener(chat.topic))
      this.wait(chat)
    }
  }

  private newChatState(
    identity: VisitorIdentity,
    departmentId: number | null,
    product: string | null,
  ): ChatState {
    const id = uniqueId(this.chatIds, () =>
      newChatId(this.rng, this.options.directory.accountNumber, this.now),
    )
    const topic = this.text.topic(this.familyOf(departmentId), identity.visitor.email, product)
    const exchanges = this.rng.weighted([
      [1, 1],
      [2, 3],
      [3, 4],
      [4, 3],
      [5, 2],
      [6, 1],
    ])
    return {
      id,
      identity,
      departmentId,
      topic,
      phase: 'queued',
      token: 0,
      visitorPresent: true,
      agents: new Set(),
      servedBy: [],
      pendingAgent: null,
      declinedBy: new Set(),
      enqueuedAt: this.now,
      waitedLong: false,
      turn: -1,
      exchanges,
      transferAtTurn: this.rng.chance(this.rates.transferShare) ? this.rng.int(0, 1) : null,
      transferred: false,
      awaitingReply: false,
      dropped: false,
      tags: [],
      ratedInChat: false,
      rating: null,
      deleted: false,
      needsGreeting: false,
    }
  }

  private startChat(
    identity: VisitorIdentity,
    departmentId: number | null,
    sessionStart: Micros,
    startedBy: 'visitor' | 'agent' | 'trigger',
    product: string | null,
  ): ChatState {
    const chat = this.newChatState(identity, departmentId, product)
    this.chats.set(chat.id, chat)
    const referral = this.visitors.referral()
    this.emit('chat.started', {
      chat_id: chat.id,
      visitor: identity.visitor,
      session: this.visitors.session(identity, sessionStart),
      department_id: departmentId,
      started_by: startedBy,
      proactive: startedBy === 'agent',
      triggered: startedBy === 'trigger',
      webpath: this.visitors.webpath(sessionStart, this.now, referral, product),
      referrer_search_engine: referral.searchEngine,
      referrer_search_terms: referral.searchTerms,
      skills_requested: [],
      zendesk_ticket_id: null,
    })
    this.emit('chat.member_joined', {
      chat_id: chat.id,
      member: 'visitor',
      name: identity.visitor.name,
      ...(startedBy === 'agent' ? { source: 'chat.invite' } : {}),
    })
    return chat
  }

  private offlineMessage(
    identity: VisitorIdentity,
    departmentId: number | null,
    sessionStart: Micros,
  ): void {
    // The offline form asks for a name and an email.
    this.visitors.identify(identity)
    const id = uniqueId(this.chatIds, () =>
      newChatId(this.rng, this.options.directory.accountNumber, this.now),
    )
    const topic = this.text.topic(this.familyOf(departmentId), identity.visitor.email, null)
    const referral = this.visitors.referral()
    const ticket = this.rng.chance(this.rates.ticketShare) ? this.nextTicket++ : null
    this.emit('offline_message', {
      chat_id: id,
      visitor: identity.visitor,
      session: this.visitors.session(identity, sessionStart),
      department_id: departmentId,
      message: this.text.offlineMessage(topic),
      webpath: this.visitors.webpath(sessionStart, this.now, referral, null),
      zendesk_ticket_id: ticket,
    })
    this.after(3600, 'later', () => this.chatIds.delete(id))
  }

  // ---------------------------------------------------------------- proactive chats

  private scheduleProactiveTick(from: Micros): void {
    const at = from + 5 * MINUTE
    if (at < this.options.end) this.schedule(at, 'arrival', () => this.proactiveTick())
  }

  private proactiveTick(): void {
    this.scheduleProactiveTick(this.now)
    const traffic = Math.min(1.5, trafficFactor(this.local, this.now))
    const p = (this.rates.proactivePerAgentHour * traffic * 5) / 60
    for (const agent of this.agents.values()) {
      if (!this.hasCapacity(agent) || agent.engagements.size >= agent.profile.capacity - 1) continue
      if (!this.rng.chance(p)) continue
      // Somewhere within the next five minutes, if the agent is still free then.
      this.after(this.rng.uniform(0, 300), 'arrival', () => this.invite(agent))
    }
  }

  private invite(agent: AgentState): void {
    if (!this.hasCapacity(agent)) return
    const identity = this.pickVisitor(this.rng.chance(0.15))
    if (this.busyVisitors.has(identity.visitor.id)) return
    this.busyVisitors.add(identity.visitor.id)
    const product = this.rng.pick(this.visitors.catalogue.products)
    const departmentId = this.rng.chance(0.5) ? null : (agent.profile.departmentIds[0] ?? null)
    const sessionStart = this.now - Math.round(this.rng.uniform(1, 15) * 60_000) * 1000
    const chat = this.startChat(identity, departmentId, sessionStart, 'agent', product)
    chat.phase = 'talking'
    chat.transferAtTurn = null
    chat.turn = 0
    this.join(chat, agent, 'chat.invite')
    this.emitAgentMessage(chat, agent, this.text.invitation(product), '')
    if (this.rng.chance(this.rates.proactiveReplyShare)) {
      const token = chat.token
      this.after(this.rng.uniform(10, 90), 'chat', () => {
        if (chat.token !== token || !chat.visitorPresent) return
        this.emitVisitorMessage(chat, this.text.invitationReply(chat.topic))
        // The agent now asks for details, then the usual exchanges follow.
        chat.turn = -1
        chat.needsGreeting = false
        this.scheduleAgentReplyOrDrop(chat, agent)
      })
    } else {
      // No answer: the agent gives up, the visitor's widget closes a little later.
      this.after(this.rng.uniform(60, 180), 'chat', () => {
        if (chat.phase !== 'talking' || chat.awaitingReply) return
        if (this.rng.chance(0.2)) this.changeTags(chat, agent.profile.id, ['proactive_no_reply'])
        chat.token++
        this.agentLeaves(chat, agent)
        this.after(this.rng.uniform(1, 60), 'chat', () => this.visitorLeaves(chat))
      })
    }
  }

  // ---------------------------------------------------------------- conversation

  private emitVisitorMessage(chat: ChatState, msg: string): void {
    chat.awaitingReply = true
    this.emit('chat.message', {
      chat_id: chat.id,
      sender: 'visitor',
      msg,
      msg_id: msgIdAt(this.now),
      options: '',
    })
  }

  private emitAgentMessage(chat: ChatState, agent: AgentState, msg: string, options: string) {
    chat.awaitingReply = false
    this.emit('chat.message', {
      chat_id: chat.id,
      sender: 'agent',
      agent_id: agent.profile.id,
      msg,
      options,
    })
  }

  private changeTags(chat: ChatState, agentId: number, add: readonly string[]): void {
    const next = [...new Set([...chat.tags, ...add])].sort()
    if (next.length === chat.tags.length) return
    chat.tags = next
    this.emit('chat.tags_changed', { chat_id: chat.id, agent_id: agentId, tags: next })
  }

  /** The agent's next message, unless they left (transfer) or the chat ended meanwhile. */
  private agentTurn(chat: ChatState, agent: AgentState): void {
    if (chat.phase !== 'talking' || !chat.agents.has(agent.profile.id) || !chat.visitorPresent) {
      return
    }
    if (chat.needsGreeting) {
      chat.needsGreeting = false
      if (chat.transferred) {
        this.emitAgentMessage(
          chat,
          agent,
          this.text.transferGreeting(
            agent.profile.firstName,
            this.departmentName(chat.departmentId),
          ),
          '',
        )
        // Then straight on with the answer the visitor was waiting for.
        this.after(this.replyDelay(agent), 'chat', () => this.agentTurn(chat, agent))
        return
      }
      if (chat.turn === -1) {
        const first = chat.identity.firstName
        this.emitAgentMessage(
          chat,
          agent,
          this.text.greeting(chat.topic, agent.profile.firstName, first),
          '',
        )
        chat.turn = 0
        this.scheduleVisitorTurn(chat, agent)
        return
      }
    }
    if (chat.turn === -1) {
      // Proactive chat: the visitor asked their question; the agent asks for details.
      this.emitAgentMessage(chat, agent, this.text.ask(chat.topic), '')
      chat.turn = 0
      this.scheduleVisitorTurn(chat, agent)
      return
    }
    if (chat.transferAtTurn === chat.turn && !chat.transferred && this.tryTransfer(chat, agent)) {
      return
    }
    const reply = this.text.agentReply(chat.topic, chat.turn)
    this.emitAgentMessage(chat, agent, reply.msg, reply.options)
    if (chat.turn === 0 && this.rng.chance(this.rates.tagShare)) {
      const tags = this.rng
        .shuffle(chat.topic.tags)
        .slice(0, this.rng.int(1, chat.topic.tags.length))
      this.after(this.rng.uniform(2, 30), 'chat', () => {
        if (chat.phase === 'talking' && chat.agents.has(agent.profile.id)) {
          this.changeTags(chat, agent.profile.id, tags)
        }
      })
    }
    chat.turn++
    if (chat.turn >= chat.exchanges) this.closeConversation(chat, agent)
    else this.scheduleVisitorTurn(chat, agent)
  }

  private scheduleVisitorTurn(chat: ChatState, agent: AgentState): void {
    const token = chat.token
    this.after(this.thinkDelay(), 'chat', () => {
      if (chat.token !== token || chat.phase !== 'talking' || !chat.visitorPresent) return
      this.emitVisitorMessage(chat, this.text.visitorReply(chat.topic, chat.turn))
      this.scheduleAgentReplyOrDrop(chat, agent)
    })
  }

  /**
   * After a visitor message: the agent answers after a load-dependent delay, unless the visitor's
   * patience runs out first; then the visitor leaves with the message unanswered (a dropped chat).
   */
  private scheduleAgentReplyOrDrop(chat: ChatState, agent: AgentState): void {
    const reply = this.replyDelay(agent)
    const patience = clamp(this.rng.logNormal(this.rates.replyPatienceSeconds, 0.7), 15, 1800)
    const token = chat.token
    if (reply > patience) {
      this.after(patience, 'chat', () => {
        if (chat.token !== token || chat.phase !== 'talking' || !chat.awaitingReply) return
        chat.dropped = true
        this.visitorLeaves(chat)
      })
    } else {
      this.after(reply, 'chat', () => {
        if (chat.token === token) this.agentTurn(chat, agent)
      })
    }
  }

  private closeConversation(chat: ChatState, agent: AgentState): void {
    const token = chat.token
    const still = () => chat.token === token && chat.phase === 'talking' && chat.visitorPresent
    const present = () => chat.agents.has(agent.profile.id)
    // Every path ends with the visitor leaving, so no chat is left hanging.
    const leaveAfter = (min: number, max: number) =>
      this.after(this.rng.uniform(min, max), 'chat', () => {
        if (still()) this.visitorLeaves(chat)
      })
    const ending = this.rng.weighted([
      ['thanks', 55],
      ['silent', 25],
      ['agent', 20],
    ] as const)
    if (this.rng.chance(0.15)) this.changeTags(chat, agent.profile.id, ['resolved'])
    switch (ending) {
      case 'thanks':
        this.after(this.thinkDelay(), 'chat', () => {
          if (!still()) return
          this.emitVisitorMessage(chat, this.text.visitorThanks())
          this.after(clamp(this.replyDelay(agent) / 2, 2, 60), 'chat', () => {
            if (!still()) return
            if (present()) this.emitAgentMessage(chat, agent, this.text.agentClosing(), '')
            leaveAfter(3, 40)
          })
        })
        return
      case 'silent':
        leaveAfter(10, 120)
        return
      case 'agent':
        this.after(this.rng.uniform(20, 90), 'chat', () => {
          if (!still()) return
          if (!present()) return leaveAfter(2, 60)
          this.emitAgentMessage(chat, agent, this.text.agentClosing(), '')
          this.after(this.rng.uniform(5, 30), 'chat', () => {
            if (!still()) return
            this.agentLeaves(chat, agent)
            leaveAfter(2, 60)
          })
        })
        return
    }
  }

  /** Hands the chat to another department with an agent free, if there is one. */
  private tryTransfer(chat: ChatState, agent: AgentState): boolean {
    const targets = this.options.directory.departments.filter(
      (d) =>
        d.id !== chat.departmentId &&
        [...this.agents.values()].some(
          (a) => a !== agent && this.hasCapacity(a) && this.servesDepartment(a, d.id),
        ),
    )
    if (targets.length === 0) return false
    const target = this.rng.pick(targets)
    this.emitAgentMessage(chat, agent, this.text.transferNotice(target.name), '')
    // The visitor's question is pending again until the new agent answers it.
    chat.awaitingReply = true
    chat.transferred = true
    const token = chat.token
    this.after(this.rng.uniform(4, 20), 'chat', () => {
      if (chat.token !== token || chat.phase !== 'talking' || !chat.visitorPresent) return
      if (!chat.agents.has(agent.profile.id)) return
      this.emit('chat.transferred', {
        chat_id: chat.id,
        department_id: target.id,
        agent_id: agent.profile.id,
      })
      this.agentLeaves(chat, agent)
      chat.departmentId = target.id
      chat.declinedBy.clear()
      chat.declinedBy.add(agent.profile.id)
      this.wait(chat)
    })
    return true
  }

  private agentLeaves(chat: ChatState, agent: AgentState): void {
    if (!chat.agents.delete(agent.profile.id)) return
    agent.engagements.delete(chat.id)
    // The engagement ends as the agent leaves; ended first, as folding closes both on a leave.
    this.emit('engagement.ended', { chat_id: chat.id, agent_id: agent.profile.id })
    this.emit('chat.member_left', {
      chat_id: chat.id,
      member: 'agent',
      agent_id: agent.profile.id,
      reason: 'user_leave_chat',
    })
    if (!chat.visitorPresent && chat.agents.size === 0) this.endChat(chat)
    this.agentFreed(agent)
  }

  private visitorLeaves(chat: ChatState): void {
    if (!chat.visitorPresent || chat.phase === 'ended') return
    chat.token++
    if (chat.phase === 'queued') {
      this.dequeue(chat)
      if (chat.pendingAgent !== null) {
        const agent = this.agents.get(chat.pendingAgent)
        if (agent !== undefined) {
          this.unassign(chat, agent)
          this.agentFreed(agent)
        }
      }
    }
    // Some visitors rate before closing the widget.
    if (chat.servedBy.length > 0 && this.rng.chance(this.rates.ratingShare * 0.4)) {
      chat.ratedInChat = true
      this.rate(chat)
    }
    chat.visitorPresent = false
    this.emit('chat.member_left', {
      chat_id: chat.id,
      member: 'visitor',
      reason: 'user_leave_chat',
    })
    if (chat.agents.size === 0) {
      this.endChat(chat)
      return
    }
    // The agents notice and close the chat on their side.
    for (const agentId of [...chat.agents]) {
      const agent = this.agents.get(agentId)
      if (agent === undefined) continue
      this.after(this.rng.uniform(1, 25), 'chat', () => this.agentLeaves(chat, agent))
    }
  }

  private rate(chat: ChatState): void {
    const pBad = 0.12 + (chat.waitedLong ? 0.25 : 0) + (chat.dropped ? 0.4 : 0)
    chat.rating = this.rng.chance(pBad) ? 'bad' : 'good'
    this.emit('chat.rated', { chat_id: chat.id, rating: chat.rating })
  }

  // ---------------------------------------------------------------- after the chat

  private endChat(chat: ChatState): void {
    chat.phase = 'ended'
    chat.token++
    this.busyVisitors.delete(chat.identity.visitor.id)
    this.emit('chat.ended', { chat_id: chat.id })
    const served = chat.servedBy.length > 0 && chat.turn > 0
    const lastAgent = chat.servedBy[chat.servedBy.length - 1]

    if (served && !chat.ratedInChat && this.rng.chance(this.rates.ratingShare * 0.6)) {
      // The post-chat survey.
      this.after(this.rng.uniform(3, 90), 'chat', () => {
        if (!chat.deleted) this.rate(chat)
      })
    }
    if (served) {
      this.after(this.rng.uniform(100, 200), 'chat', () => {
        if (chat.deleted || chat.rating === null) return
        if (this.rng.chance(this.rates.commentShare)) {
          this.emit('chat.commented', {
            chat_id: chat.id,
            comment: this.text.comment(chat.rating === 'good'),
          })
        }
        if (this.rng.chance(this.rates.ratingChangeShare)) {
          const changed = chat.rating === 'good' ? 'bad' : 'good'
          this.after(this.rng.uniform(5, 120) * 60, 'later', () => {
            if (chat.deleted) return
            chat.rating = changed
            this.emit('chat.rated', { chat_id: chat.id, rating: changed })
          })
        }
      })
    }
    if (lastAgent !== undefined && this.rng.chance(this.rates.lateTagShare)) {
      const tag = this.rng.pick(['follow_up', 'escalated', 'vip', 'feedback', 'goodbye_survey'])
      this.after(this.rng.uniform(0.2, 6) * 3600, 'later', () => {
        if (!chat.deleted) this.changeTags(chat, lastAgent, [tag])
      })
    }
    if (this.rng.chance(this.rates.deleteShare)) {
      // Spam and test chats get cleaned up the same day.
      this.after(this.rng.uniform(0.1, 6) * 3600, 'later', () => {
        if (chat.deleted) return
        chat.deleted = true
        this.emit('chat.deleted', { chat_id: chat.id })
      })
    }
    if (served) this.conversionsAfterChat(chat)
    // Ended chats are kept only as long as a later change may refer to them; ids only matter
    // while a new id could share their time prefix.
    this.after(26 * 3600, 'later', () => {
      this.chats.delete(chat.id)
      this.chatIds.delete(chat.id)
    })
  }

  private conversionsAfterChat(chat: ChatState): void {
    const boost = chat.topic.family === 'sales' ? 1.6 : chat.topic.family === 'billing' ? 0.3 : 1
    const goals = this.options.directory.goals
    for (const goal of goals) {
      if (goal.after !== null) continue
      if (!this.rng.chance(Math.min(0.95, goal.afterChatShare * boost))) continue
      const delay = clamp(this.rng.logNormal(8 * 60, 1), 20, 6 * 3600)
      this.after(delay, 'later', () => {
        this.convert(goal.id, chat.identity.visitor.id, chat)
        for (const next of goals) {
          if (next.after !== goal.id || !this.rng.chance(next.afterChatShare)) continue
          this.after(this.rng.uniform(2, 30) * 60, 'later', () =>
            this.convert(next.id, chat.identity.visitor.id, chat),
          )
        }
      })
    }
  }

  private convert(goalId: number, visitorId: string, chat: ChatState | null): void {
    this.emit('conversion', {
      conversion_id: newConversionId(
        this.rng,
        this.options.directory.accountNumber,
        goalId,
        this.now,
      ),
      goal_id: goalId,
      visitor_id: visitorId,
      ...(chat === null || chat.deleted ? {} : { chat_id: chat.id }),
    })
  }

  private scheduleBackgroundConversion(after: Micros): void {
    const goals = this.options.directory.goals
    if (goals.length === 0) return
    const at = nextArrival(this.rng, this.local, after, this.rates.backgroundConversionsPerHour)
    if (at >= this.options.end) return
    this.schedule(at, 'arrival', () => {
      this.scheduleBackgroundConversion(this.now)
      const goal = this.rng.weighted(goals.map((g) => [g, g.backgroundWeight] as const))
      // Mostly visitors who never chatted; some returning chatters, not attributed by us.
      const visitorId =
        this.returning.length > 0 && this.rng.chance(0.3)
          ? this.rng.pick(this.returning).visitor.id
          : newVisitorId(this.rng, this.options.directory.accountNumber)
      this.convert(goal.id, visitorId, null)
    })
  }
}

function emptyQueue(): QueueState {
  return { incoming: [], assigned: 0, lastIncoming: 0, lastAssigned: 0 }
}
