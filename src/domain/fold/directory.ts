/**
 * The directory: names and settings that exported objects carry but events only reference by id
 * (agents, departments, goals). Filled by the `*.upserted` events, and kept in step with the REST
 * directory by every write of it (directory events, imports, REST writes): the functions below
 * derive these entries from a REST record, one rule for all of them.
 * @module
 */

export interface AgentInfo {
  display_name: string
  full_name: string
  /** The record's name parts (absent on entries from `agent.upserted`), so a partial update can rebuild `full_name`. */
  first_name?: string
  last_name?: string
}

export interface GoalInfo {
  name: string
  attribution_model: 'first_touch' | 'last_touch'
  attribution_period_days: number
}

/** Synchronous look-ups, preloaded by foldEvent with the entries one event needs. */
export interface Directory {
  agent(agentId: number): AgentInfo | undefined
  departmentName(departmentId: number): string | undefined
}

/** A directory over plain maps (tests, and foldEvent's preloaded entries). */
export function mapDirectory(
  agents: ReadonlyMap<number, AgentInfo>,
  departments: ReadonlyMap<number, string>,
): Directory {
  return {
    agent: (agentId) => agents.get(agentId),
    departmentName: (departmentId) => departments.get(departmentId),
  }
}

/** The name fields of an agent record (REST wire fields; any may be missing). */
export interface AgentNameFields {
  id?: unknown
  display_name?: unknown
  first_name?: unknown
  last_name?: unknown
  email?: unknown
}

const text = (value: unknown): string => (typeof value === 'string' ? value.trim() : '')

/**
 * The names chats show for an agent record: `display_name`, else the full name, else the email,
 * else "Agent <id>"; `full_name` is first and last name, else the display name.
 * @example agentInfoOf({ display_name: 'Ann', first_name: 'Ann', last_name: 'Lee' })
 *   // { display_name: 'Ann', full_name: 'Ann Lee', first_name: 'Ann', last_name: 'Lee' }
 */
export function agentInfoOf(record: AgentNameFields): AgentInfo {
  const first = text(record.first_name)
  const last = text(record.last_name)
  const full = [first, last].filter((s) => s !== '').join(' ')
  const display =
    text(record.display_name) ||
    full ||
    text(record.email) ||
    `Agent ${typeof record.id === 'number' ? record.id : ''}`
  return { display_name: display, full_name: full || display, first_name: first, last_name: last }
}

/** `agentInfoOf` of `current`'s names with `patch`'s name fields over them (a partial update). */
export function patchAgentInfo(current: AgentInfo | undefined, patch: AgentNameFields): AgentInfo {
  const next = agentInfoOf({
    id: patch.id,
    display_name: patch.display_name ?? current?.display_name,
    first_name: patch.first_name ?? current?.first_name,
    last_name: patch.last_name ?? current?.last_name,
    email: patch.email,
  })
  // An entry from agent.upserted has a full name but no parts: keep it unless the parts change.
  const partsKept = patch.first_name === undefined && patch.last_name === undefined
  if (current !== undefined && partsKept && current.first_name === undefined) {
    return { display_name: next.display_name, full_name: current.full_name }
  }
  return next
}

/** The goal settings conversions use, from a goal record (REST `attribution_period` is in days). */
export function goalInfoOf(
  record: { name?: unknown; attribution_model?: unknown; attribution_period?: unknown },
  current?: GoalInfo,
): GoalInfo {
  const model = record.attribution_model
  const period = record.attribution_period
  return {
    name: typeof record.name === 'string' ? record.name : (current?.name ?? ''),
    attribution_model:
      model === 'first_touch' || model === 'last_touch'
        ? model
        : (current?.attribution_model ?? 'last_touch'),
    attribution_period_days:
      typeof period === 'number' ? period : (current?.attribution_period_days ?? 30),
  }
}
