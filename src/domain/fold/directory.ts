/**
 * The directory: names and settings that exported objects carry but events only reference by id
 * (agents, departments, goals). Filled by the `*.upserted` events.
 * @module
 */

export interface AgentInfo {
  display_name: string
  full_name: string
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
