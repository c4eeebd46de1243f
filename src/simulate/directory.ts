/**
 * The simulated account's directory: agents (with the shift, capacity and departments the
 * simulation uses), departments and goals. It depends on the seed only, so consecutive runs with the
 * same seed (day after day) see the same team.
 * @module
 */
import { seededFaker } from './seeded-faker.js'
import type { IngestEvent } from '../domain/events.js'
import { formatIso, type Micros } from '../domain/time.js'
import { newAgentId, newVisitorId, uniqueId } from './ids.js'
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
  const faker = seededFaker(deriveSeed(seed, 'directory-names'))

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

/** When the simulated team's records say they were created: fixed, so every run publishes the same records. */
const RECORDS_SINCE = '2015-01-05T09:00:00Z'

type Json = Record<string, unknown>

/** The REST records of a directory, by resource, in the order they are published. */
export interface DirectoryRecords {
  roles: Json[]
  skills: Json[]
  departments: Json[]
  agents: Json[]
  goals: Json[]
  shortcuts: Json[]
  triggers: Json[]
  bans: Json[]
}

/** Lower-case letters and digits only: a name as an email's local part. */
function slug(name: string): string {
  return name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '')
}

/** The conversion page of a goal, by what its name says it is. */
function goalPath(name: string): string {
  const lower = name.toLowerCase()
  if (/cart/.test(lower)) return '/cart'
  if (/order|purchase|checkout/.test(lower)) return '/checkout/thank-you'
  if (/newsletter|sign/.test(lower)) return '/newsletter/thanks'
  return `/${slug(name) || 'goal'}`
}

/**
 * The REST directory records the simulated account publishes (chat-rest-api.md §3), consistent
 * with the chats the simulation produces: agent ids are the ones chats, engagements and the agent
 * timeline use; department ids the chats' `department_id`; goal ids the conversions' `goal_id`;
 * department members and agent departments agree. Skills, roles, shortcuts, triggers and bans
 * complete the account. Deterministic per seed, and drawn from their own random stream, so the
 * team itself (names, shifts) is what `createDirectory` made.
 */
export function directoryRecords(directory: Directory): DirectoryRecords {
  const rng = new Rng(deriveSeed(directory.seed, 'directory-records'))
  const domain = new URL(directory.siteUrl).hostname.replace(/^www\./, '')
  const ids = new Set<number>()
  const newId = () => uniqueId(ids, () => rng.int(10_000, 99_999_999))

  const admin = { id: newId(), name: 'Administrator' }
  const member = { id: newId(), name: 'Agent' }
  const owner = directory.agents[0]?.id
  const roles: Json[] = [
    {
      ...admin,
      description: 'Full access to the account',
      enabled: true,
      members_count: owner === undefined ? 0 : 1,
      permissions: {
        visitors_seen: 'account',
        proactive_chatting: 'listen-join',
        edit_visitor_information: true,
        edit_visitor_notes: true,
        edit_chat_tags: true,
        view_past_chats: 'account',
        manage_bans: 'account',
        access_analytics: 'account',
        view_monitor: 'account',
        edit_department_agents: 'account',
        set_agent_chat_limit: 'account',
        manage_shortcuts: 'account',
      },
    },
    {
      ...member,
      description: 'Serves chats in their departments',
      enabled: true,
      members_count: Math.max(0, directory.agents.length - 1),
      permissions: {
        visitors_seen: 'department',
        proactive_chatting: 'own',
        edit_visitor_information: true,
        edit_visitor_notes: true,
        edit_chat_tags: true,
        view_past_chats: 'department',
        manage_bans: 'none',
        access_analytics: 'none',
        view_monitor: 'none',
        edit_department_agents: 'none',
        set_agent_chat_limit: 'none',
        manage_shortcuts: 'none',
      },
    },
  ]

  // A language every agent speaks, and one skill per topic of the departments they serve.
  const topics = [...new Set(directory.departments.map((d) => d.topics))]
  const skillIds = new Map<string, number>([['english', newId()]])
  for (const topic of topics) skillIds.set(topic, newId())
  const topicsOf = (a: AgentProfile) =>
    directory.departments.filter((d) => a.departmentIds.includes(d.id)).map((d) => d.topics)
  const agentSkills = (a: AgentProfile) =>
    [...skillIds]
      .filter(([name]) => name === 'english' || topicsOf(a).includes(name as TopicFamily))
      .map(([, id]) => id)
  const skills: Json[] = [...skillIds].map(([name, id]) => ({
    id,
    name,
    description: name === 'english' ? 'Chats in English' : `${name} questions`,
    enabled: true,
    members: directory.agents.filter((a) => agentSkills(a).includes(id)).map((a) => a.id),
  }))

  const departments: Json[] = directory.departments.map((d) => ({
    id: d.id,
    name: d.name,
    description: `${d.name} team`,
    enabled: true,
    members: directory.agents.filter((a) => a.departmentIds.includes(d.id)).map((a) => a.id),
    settings: {
      chat_enabled: true,
      solved_ticket_reassignment_strategy: '',
      support_group_id: null,
    },
  }))

  const emails = new Set<string>()
  const agents: Json[] = directory.agents.map((a, index) => {
    const lastName = a.fullName.slice(a.firstName.length).trim()
    let local = [slug(a.firstName), slug(lastName)].filter((x) => x !== '').join('.') || 'agent'
    if (emails.has(local)) local = `${local}${index + 1}`
    emails.add(local)
    const isOwner = a.id === owner
    return {
      id: a.id,
      first_name: a.firstName,
      last_name: lastName,
      display_name: a.displayName,
      email: `${local}@${domain}`,
      enabled: true,
      role_id: isOwner ? admin.id : member.id,
      roles: { administrator: isOwner, owner: isOwner },
      departments: a.departmentIds,
      enabled_departments: a.departmentIds,
      skills: agentSkills(a),
      create_date: RECORDS_SINCE,
      last_login: null,
      login_count: 0,
      scope: 'all',
    }
  })

  const goals: Json[] = directory.goals.map((g) => ({
    id: g.id,
    name: g.name,
    description: '',
    enabled: true,
    attribution_model: g.attributionModel,
    attribution_period: g.attributionPeriodDays,
    settings: {
      conditions: [{ type: 'url', operator: 'contains', value: goalPath(g.name) }],
    },
  }))

  const billing = directory.departments.find((d) => d.topics === 'billing')
  const shortcuts: Json[] = [
    {
      id: 'goodbye',
      name: 'goodbye',
      message: 'Thanks for chatting with us. Was this chat helpful?',
      options: 'Yes/No',
      tags: ['goodbye_survey'],
      scope: 'all',
      departments: [],
      agents: [],
    },
    {
      id: 'greeting',
      name: 'greeting',
      message: 'Hi, thanks for reaching out! How can I help you today?',
      options: '',
      tags: [],
      scope: 'all',
      departments: [],
      agents: [],
    },
    {
      id: 'refunds',
      name: 'refunds',
      message: `Refunds go back to the original payment method within 5 to 10 working days: ${directory.siteUrl}/refunds`,
      options: '',
      tags: ['refund'],
      scope: billing ? 'department' : 'all',
      departments: billing ? [billing.id] : [],
      agents: [],
    },
  ]

  const triggers: Json[] = [
    {
      id: newId(),
      name: 'Checkout Page',
      description: 'Offer help to visitors who stay on the cart page',
      enabled: true,
      definition: {
        event: 'page_enter',
        condition: ['and', ['icontains', '@visitor_page_url', '/cart'], ['stillOnPage', 60]],
        actions: [['sendMessageToVisitor', 'Shop', 'Any questions about your order? We are here.']],
        version: 1,
        editor: 'advanced',
      },
    },
    {
      id: newId(),
      name: 'Welcome',
      description: 'Greets a visitor who requests a chat',
      enabled: true,
      definition: {
        event: 'chat_requested',
        condition: ['and'],
        actions: [['sendMessageToVisitor', 'Shop', 'Thanks! An agent will be with you shortly.']],
        version: 1,
        editor: 'advanced',
      },
    },
  ]

  const ip = () => `203.0.113.${rng.int(1, 254)}`
  const bans: Json[] = [
    {
      id: newId(),
      reason: 'Spammer',
      created_at: RECORDS_SINCE,
      type: 'ip_address',
      ip_address: ip(),
    },
    {
      id: newId(),
      reason: 'Abusive language',
      created_at: RECORDS_SINCE,
      type: 'ip_address',
      ip_address: ip(),
    },
    {
      id: newId(),
      reason: 'Repeated spam',
      created_at: RECORDS_SINCE,
      type: 'visitor',
      visitor_id: newVisitorId(rng, directory.accountNumber),
      visitor_name: 'Visitor 31337',
    },
  ]

  return { roles, skills, departments, agents, goals, shortcuts, triggers, bans }
}

/**
 * The directory events that publish the account's records (see {@link directoryRecords}), all
 * stamped `at`, with ids from `nextId`: roles, skills, departments, agents, goals, shortcuts,
 * triggers, bans, then the routing settings. Each record event is a `*.created`, which replaces a record of the same id, so every run
 * of a seed may publish them again.
 */
export function directoryEvents(
  directory: Directory,
  at: Micros,
  nextId: () => string,
): IngestEvent[] {
  const timestamp = formatIso(at)
  const records = directoryRecords(directory)
  const events: IngestEvent[] = []
  const publish = <T extends IngestEvent['type']>(type: T, key: string, list: Json[]) => {
    for (const record of list) {
      events.push({ id: nextId(), timestamp, type, [key]: record } as unknown as IngestEvent)
    }
  }
  publish('role.created', 'role', records.roles)
  publish('skill.created', 'skill', records.skills)
  publish('department.created', 'department', records.departments)
  publish('agent.created', 'agent', records.agents)
  publish('goal.created', 'goal', records.goals)
  publish('shortcut.created', 'shortcut', records.shortcuts)
  publish('trigger.created', 'trigger', records.triggers)
  publish('ban.created', 'ban', records.bans)
  // Routing as the simulation routes: each chat assigned to one agent, up to the agent's own limit.
  events.push({
    id: nextId(),
    timestamp,
    type: 'routing_settings.updated',
    routing_settings: {
      routing_mode: 'assigned',
      chat_limit: { enabled: true, limit: 3, limit_type: 'agent', allow_agent_override: true },
    },
  })
  return events
}
