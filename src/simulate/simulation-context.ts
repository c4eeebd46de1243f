/**
 * The state one simulation run shares between its parts (routing, the conversation script,
 * arrivals, outcomes): the seeded streams, the time cursor and agenda, the directory, the events
 * emitted by the action being run, and the agents, chats and queues of the run.
 *
 * Every part is a set of functions taking this context as first argument, so what a function may
 * touch is visible in its signature and a part can be driven alone in a test.
 * @module
 */
import type { EventOf, IngestEvent, IngestEventType } from '../domain/events.js'
import { formatIso, type Micros } from '../domain/time.js'
import { LocalTime } from './arrival-curve.js'
import { DepartmentQueues } from './department-queues.js'
import type { AgentProfile, Directory, TopicFamily } from './directory.js'
import { EventQueue, type ActionKind, type ScheduledAction } from './event-queue.js'
import { TextGenerator, type ConversationTopic } from './messages.js'
import { Rng, deriveSeed } from './rng.js'
import type { AgentStatus } from './shifts.js'
import { DEFAULT_RATES, type SimulateOptions, type SimulationRates } from './simulate-options.js'
import { VisitorFactory, type VisitorIdentity } from './visitors.js'

export const SECOND: Micros = 1_000_000
export const MINUTE: Micros = 60 * SECOND
export const HOUR: Micros = 60 * MINUTE
export const DAY: Micros = 24 * HOUR

/** An agent as the run sees them: their profile plus what they are doing now. */
export interface AgentState {
  profile: AgentProfile
  status: AgentStatus
  /** Chats counted against capacity: assigned (not yet accepted) and joined. */
  engagements: Set<string>
  lastAssignedAt: Micros
  /** The shift ended while chats were open: log off once the last one ends. */
  offlineWhenFree: boolean
}

/** Where a chat is: waiting in a queue (or offered), in conversation, or over. */
export type ChatPhase = 'queued' | 'talking' | 'ended'

/** One chat under way (or ended and still open to late changes). */
export interface ChatState {
  id: string
  identity: VisitorIdentity
  departmentId: number | null
  topic: ConversationTopic
  phase: ChatPhase
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

/**
 * Where routing hands a chat on to the conversation script. Injected rather than imported so that
 * routing does not depend on the script (which depends on routing for transfers and leaves), and
 * so a test can drive routing with stand-ins.
 */
export interface ChatHandoffs {
  /** An agent accepted the chat (already joined): the conversation begins. */
  accepted(ctx: SimulationContext, chat: ChatState, agent: AgentState): void
  /** The visitor gave up waiting in the queue and leaves. */
  visitorLeaves(ctx: SimulationContext, chat: ChatState): void
}

/**
 * The shared state of one run. Construction draws from the run's streams in a fixed order, and
 * every later draw goes through `rng` (or the visitor and text generators) in the order the
 * agenda runs actions, which is what makes a run reproducible.
 */
export class SimulationContext {
  readonly options: SimulateOptions
  readonly directory: Directory
  readonly rates: SimulationRates
  /** The run's main stream; the visitor and text generators have their own. */
  readonly rng: Rng
  readonly visitors: VisitorFactory
  readonly text: TextGenerator
  readonly local: LocalTime
  /** Average arrivals per hour on a weekday. */
  readonly perHour: number
  readonly handoffs: ChatHandoffs
  readonly agents = new Map<number, AgentState>()
  readonly chats = new Map<string, ChatState>()
  readonly queues: DepartmentQueues
  /** Chat ids still in use, so a new one never repeats them. */
  readonly chatIds = new Set<string>()
  /** Recent visitors who may come back (bounded). */
  readonly returning: VisitorIdentity[] = []
  /** Visitors in a chat now, who cannot start another. */
  readonly busyVisitors = new Set<string>()
  /** The instant of the action being run: every emitted event carries it. */
  now: Micros
  /** The next Support ticket number an offline message may get. */
  nextTicket: number
  private readonly agenda = new EventQueue()
  private readonly out: IngestEvent[] = []
  private readonly idPrefix: string
  private seq = 0

  constructor(options: SimulateOptions, handoffs: ChatHandoffs) {
    const runSeed = deriveSeed(options.seed, 'run', options.start)
    this.options = options
    this.directory = options.directory
    this.handoffs = handoffs
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
    this.queues = new DepartmentQueues(options.directory.departments.map((d) => d.id))
  }

  /** The next event id: `<prefix>-<n>`, counting from 0 over the whole run. */
  nextId(): string {
    return `${this.idPrefix}-${this.seq++}`
  }

  /** Schedules `run` at `at`, or now if `at` is past (the agenda never goes back in time). */
  schedule(at: Micros, kind: ActionKind, run: () => void): void {
    this.agenda.push(Math.max(at, this.now), kind, run)
  }

  /** Schedules `run` after `seconds` (rounded to whole milliseconds, like client clocks). */
  after(seconds: number, kind: ActionKind, run: () => void): void {
    this.schedule(this.now + Math.max(1, Math.round(seconds * 1000)) * 1000, kind, run)
  }

  /** Removes and returns the earliest scheduled action, or undefined when none is left. */
  nextAction(): ScheduledAction | undefined {
    return this.agenda.pop()
  }

  /** Records an event at the current instant, with the next id. */
  emit<T extends IngestEventType>(
    type: T,
    fields: Omit<EventOf<T>, 'id' | 'timestamp' | 'type'>,
  ): void {
    const event = { id: this.nextId(), timestamp: formatIso(this.now), type, ...fields }
    this.out.push(event as unknown as IngestEvent)
  }

  /** The events recorded since the last call, oldest first; the buffer is emptied. */
  takeEvents(): IngestEvent[] {
    return this.out.splice(0)
  }

  /** A department's name as agents say it; chats without a department are "Support". */
  departmentName(id: number | null): string {
    return this.directory.departments.find((d) => d.id === id)?.name ?? 'Support'
  }

  /** The script family of a department; a chat without one gets any family (a draw). */
  topicFamily(departmentId: number | null): TopicFamily {
    const d = this.directory.departments.find((x) => x.id === departmentId)
    return d?.topics ?? this.rng.pick(['support', 'sales', 'billing'] as const)
  }
}
