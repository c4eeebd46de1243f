/**
 * The knobs of a simulation run: the period, the team's directory, traffic, and the rates of every
 * outcome. Kept apart from the simulation itself so callers (driver, demo, CLI) can name options
 * without pulling in the engine.
 * @module
 */
import type { Micros } from '../domain/time.js'
import type { Directory } from './directory.js'

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

/** The rates a run uses where `SimulateOptions.rates` overrides none. */
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

/** What one run simulates: whose account, which period, how busy, and any changed rates. */
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
  /**
   * The average rate from a given instant on, overriding `arrivalsPerHour` (read when each next
   * arrival is drawn): lets a live demo run busier than the history it seeded.
   */
  arrivalsPerHourAt?: (at: Micros) => number
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
