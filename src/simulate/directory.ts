/**
 * The simulated account's directory: agents (with the shift, capacity and departments the
 * simulation uses), departments and goals. It depends on the seed only, so consecutive runs with the
 * same seed (day after day) see the same team.
 * @module
 */
import { Faker, base, en } from '@faker-js/faker'
import type { EventOf, IngestEvent } from '../domain/events.js'
import { formatIso, type Micros } from '../domain/time.js'
import { newAgentId, uniqueId } from './ids.js'
import { Rng, deriveSeed } from './rng.js'

/** When an agent works, in the business's local hours. */
export interface ShiftPattern {
  name: 'early' | 'day' | 'late'
  /** Local hour the shift begins (0–23, fractions allowed). */
  startHour: number
  /** Length in hours, breaks included. */
  hours: number
}

export interface AgentProfile {
  id: number
  /** What visitors see, e.g. "David F." or "David". */
  displayName: string
  fullName: string
  firstName: string
  /** Departments whose queues this agent serves (at least one). */
  departmentIds: number[]
  /** Maximum concurrent chats (assigned or joined). */
  capacity: number
  shift: ShiftPattern
  worksWeekends: boolean
  /** Multiplier on reply delays: 0.8 is a quick typist, 1.3 a slow one. */
  pace: number
  /** 0–1: where in the break windows this agent takes breaks, so colleagues stagger them. */
  breakPhase: number
}

/** Which script family a department's conversations use. */
export type TopicFamily = 'sales' | 'support' | 'billing'

export interface DepartmentProfile {
  id: number
  name: string
  /** Relative share of visitors who pick this department in the pre-chat form. */
  share: number
  topics: TopicFamily
}

export interface GoalProfile {
  id: number
  name: string
  attributionModel: 'first_touch' | 'last_touch'
  attributionPeriodDays: number
  /** Probability that a served chat leads to this conversion (given `after` happened, if set). */
  afterChatShare: number
  /** Relative weight among conversions by visitors who never chatted. */
  backgroundWeight: number
  /** A goal that must convert first (a purchase follows an add-to-cart). */
  after: number | null
}

export interface Directory {
  seed: number
  accountNumber: number
  /** The website visitors browse, for webpaths and referrers. */
  siteUrl: string
  agents: AgentProfile[]
  departments: DepartmentProfile[]
  goals: GoalProfile[]
}

export interface DirectoryOptions {
  seed: number
  /** The account number that appears inside chat, visitor and session ids (e.g. 9339545). */
  accountNumber: number
  /** Number of agents; default 8. */
  agents?: number
  /** Department names; default Sales, Support, Billing. */
  departments?: readonly string[]
  /** Goal names; default "add to cart", "place order", "newsletter signup". */
  goals?: readonly string[]
}

const SHIFTS: readonly ShiftPattern[] = [
  { name: 'early', startHour: 6.5, hours: 8 },
  { name: 'day', startHour: 9, hours: 8 },
  { name: 'late', startHour: 13.5, hours: 8.5 },
]

const DEPARTMENT_SHARES: Record<string, number> = { support: 0.45, sales: 0.35, billing: 0.2 }

function topicsFor(name: string): TopicFamily {
  const lower = name.toLowerCase()
  if (/sale|shop|order|pre/.test(lower)) return 'sales'
  if (/bill|pay|invoice|account/.test(lower)) return 'billing'
  return 'support'
}

/**
 * Builds a directory deterministically from `seed`: agent names from faker, ids in Zendesk's
 * ranges, shifts staggered so that the team covers roughly 06:30–22:00 local time on weekdays, and
 * every department served by agents on more than one shift where the team is big enough.
 *
 * @example
 * const directory = createDirectory({ seed: 7, accountNumber: 9339545 })
 * directory.agents[0] // { id: 383486450414, displayName: 'David F.', capacity: 3, … }
 */
export function createDirectory(options: DirectoryOptions): Directory {
  const { seed, accountNumber } = options
  const agentCount = options.agents ?? 8
  const departmentNames = options.departments ?? ['Sales', 'Support', 'Billing']
  const goalNames = options.goals ?? ['add to cart', 'place order', 'newsletter signup']
  if (!Number.isSafeInteger(accountNumber) || accountNumber <= 0) {
    throw new Error(`accountNumber must be a positive integer, got ${accountNumber}`)
  }
  if (!Number.isInteger(agentCount) || agentCount < 1) {
    throw new Error(`agents must be a positive integer, got ${agentCount}`)
  }
  const rng = new Rng(deriveSeed(seed, 'directory'))
  // A seeded faker per purpose keeps names stable when another purpose draws more values. The
  // `base` locale supplies the locale-independent data (domain suffixes) that `en` leaves out.
  const faker = new Faker({ locale: [en, base], seed: deriveSeed(seed, 'directory-names') })

  const departmentIds = new Set<number>()
  const departments: DepartmentProfile[] = departmentNames.map((name) => {
    const topics = topicsFor(name)
    return {
      id: uniqueId(departmentIds, () => rng.int(100_000, 999_999_999)),
      name,
      share: DEPARTMENT_SHARES[name.toLowerCase()] ?? 0.2,
      topics,
    }
  })

  const agentIds = new Set<number>()
  const agents: AgentProfile[] = []
  for (let i = 0; i < agentCount; i++) {
    const firstName = faker.person.firstName()
    const lastName = faker.person.lastName()
    const primary = departments.length > 0 ? departments[i % departments.length] : undefined
    const memberOf = primary === undefined ? [] : [primary.id]
    if (departments.length > 1 && rng.chance(0.35)) {
      const other = rng.pick(departments.filter((d) => d.id !== primary?.id))
      memberOf.push(other.id)
    }
    const shift = SHIFTS[Math.floor(i / Math.max(1, departments.length)) % SHIFTS.length]
    agents.push({
      id: uniqueId(agentIds, () => newAgentId(rng)),
      displayName: rng.chance(0.5) ? firstName : `${firstName} ${lastName.charAt(0)}.`,
      fullName: `${firstName} ${lastName}`,
      firstName,
      departmentIds: memberOf,
      capacity: rng.weighted([
        [2, 1],
        [3, 3],
        [4, 1],
      ]),
      shift: shift ?? SHIFTS[1]!,
      // Roughly one agent in four covers weekends, and always the first, so weekends are staffed.
      worksWeekends: i % 4 === 0,
      pace: rng.uniform(0.75, 1.35),
      // Golden-ratio steps spread any number of agents evenly over the windows.
      breakPhase: (i * 0.618034) % 1,
    })
  }

  const goalIds = new Set<number>()
  const goals: GoalProfile[] = []
  for (const [index, name] of goalNames.entries()) {
    const lower = name.toLowerCase()
    const isCart = /cart/.test(lower)
    const isOrder = /order|purchase|checkout/.test(lower)
    const cart = goals.find((g) => /cart/.test(g.name.toLowerCase()))
    goals.push({
      id: uniqueId(goalIds, () => rng.int(1000, 9999)),
      name,
      attributionModel: index === 0 ? 'last_touch' : rng.pick(['first_touch', 'last_touch']),
      attributionPeriodDays: rng.pick([1, 7, 14, 30]),
      afterChatShare: isCart ? 0.12 : isOrder ? 0.5 : 0.04,
      backgroundWeight: isCart ? 5 : isOrder ? 3 : 2,
      after: isOrder && cart ? cart.id : null,
    })
  }

  return {
    seed,
    accountNumber,
    siteUrl: `https://www.${faker.internet.domainWord()}.com`,
    agents,
    departments,
    goals,
  }
}

/**
 * The `agent.upserted`, `department.upserted` and `goal.upserted` events that introduce the
 * directory's names to the server, all stamped `at`, with ids from `nextId`.
 */
export function directoryEvents(
  directory: Directory,
  at: Micros,
  nextId: () => string,
): IngestEvent[] {
  const timestamp = formatIso(at)
  const events: IngestEvent[] = []
  for (const d of directory.departments) {
    const event: EventOf<'department.upserted'> = {
      id: nextId(),
      timestamp,
      type: 'department.upserted',
      department_id: d.id,
      name: d.name,
    }
    events.push(event)
  }
  for (const a of directory.agents) {
    const event: EventOf<'agent.upserted'> = {
      id: nextId(),
      timestamp,
      type: 'agent.upserted',
      agent_id: a.id,
      display_name: a.displayName,
      full_name: a.fullName,
    }
    events.push(event)
  }
  for (const g of directory.goals) {
    const event: EventOf<'goal.upserted'> = {
      id: nextId(),
      timestamp,
      type: 'goal.upserted',
      goal_id: g.id,
      name: g.name,
      attribution_model: g.attributionModel,
      attribution_period_days: g.attributionPeriodDays,
    }
    events.push(event)
  }
  return events
}
