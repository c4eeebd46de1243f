/**
 * An agent's working day as a list of status changes: log in (sometimes invisible for a few
 * minutes first), a short break, lunch, sometimes a stretch of invisible admin work, another short
 * break, and log off. Times carry some jitter so the team does not move in lockstep.
 * @module
 */
import type { Micros } from '../domain/time.js'
import type { AgentProfile } from './directory.js'
import type { Rng } from './rng.js'

export type AgentStatus = 'online' | 'away' | 'invisible' | 'offline'

export interface StatusChange {
  at: Micros
  status: AgentStatus
}

const MINUTE: Micros = 60_000_000
const HOUR: Micros = 60 * MINUTE

function minutes(rng: Rng, min: number, max: number): Micros {
  return Math.round(rng.uniform(min, max) * 60_000) * 1000
}

/**
 * The status changes of `agent` on the local day starting at `dayStart`, in time order; empty on
 * a day off (weekends for agents who do not work them, and a few sick or holiday days).
 */
export function planShift(
  rng: Rng,
  agent: AgentProfile,
  dayStart: Micros,
  weekend: boolean,
): StatusChange[] {
  // Draw the same number of values on every day so one agent's day off does not reshuffle the
  // rest of the run.
  const works = weekend ? agent.worksWeekends : true
  const absent = rng.chance(0.05)
  const startJitter = minutes(rng, -12, 12)
  const endJitter = minutes(rng, -5, 20)
  const startsInvisible = rng.chance(0.3)
  const loginDelay = minutes(rng, 2, 6)
  // Break windows (minutes into the shift), placed by the agent's phase so that colleagues on
  // the same shift do not all leave at once; the windows cannot overlap.
  const phase = agent.breakPhase
  const break1At = minutes(rng, 90, 95) + Math.round(phase * 55 * 60_000) * 1000
  const break1Length = minutes(rng, 8, 15)
  const lunchAt = minutes(rng, 195, 200) + Math.round(phase * 70 * 60_000) * 1000
  const lunchLength = minutes(rng, 30, 45)
  const admin = rng.chance(0.35)
  const adminAt = minutes(rng, 320, 335)
  const adminLength = minutes(rng, 10, 25)
  const break2At = minutes(rng, 370, 375) + Math.round(phase * 40 * 60_000) * 1000
  const break2Length = minutes(rng, 8, 14)
  if (!works || (absent && !weekend)) return []

  const start = dayStart + Math.round(agent.shift.startHour * HOUR) + startJitter
  const end = start + Math.round(agent.shift.hours * HOUR) + endJitter
  const changes: StatusChange[] = []
  if (startsInvisible) {
    changes.push({ at: start, status: 'invisible' }, { at: start + loginDelay, status: 'online' })
  } else {
    changes.push({ at: start, status: 'online' })
  }
  const pause = (offset: Micros, length: Micros, status: AgentStatus) => {
    // Only pauses that end well before the shift does; a break right before logging off is
    // just leaving early.
    if (start + offset + length < end - 15 * MINUTE) {
      changes.push(
        { at: start + offset, status },
        { at: start + offset + length, status: 'online' },
      )
    }
  }
  pause(break1At, break1Length, 'away')
  pause(lunchAt, lunchLength, 'away')
  if (admin) pause(adminAt, adminLength, 'invisible')
  pause(break2At, break2Length, 'away')
  changes.push({ at: end, status: 'offline' })
  return changes
}
