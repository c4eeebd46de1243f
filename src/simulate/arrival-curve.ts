/**
 * When visitors arrive: a non-homogeneous Poisson process whose rate follows the business's local
 * hour of day (quiet at night, a morning ramp, a lunch-time dip, an afternoon peak, an evening
 * tail) and is lower at weekends. Arrival times are drawn by thinning (Lewis & Shedler): candidate
 * gaps at the peak rate, each kept with probability rate(t) / peak.
 * @module
 */
import type { Micros } from '../domain/time.js'
import type { Rng } from './rng.js'

const HOUR: Micros = 3_600_000_000
const DAY: Micros = 24 * HOUR

/** Relative traffic per local hour 0–23 on a weekday (interpolated linearly within the hour). */
const WEEKDAY_SHAPE = [
  0.12, 0.08, 0.06, 0.05, 0.06, 0.12, 0.3, 0.65, 1.15, 1.65, 1.95, 2.05, 1.8, 1.9, 2.05, 1.95, 1.65,
  1.3, 1.0, 0.9, 0.75, 0.55, 0.38, 0.22,
]
const MEAN = WEEKDAY_SHAPE.reduce((a, b) => a + b, 0) / WEEKDAY_SHAPE.length
const PEAK = Math.max(...WEEKDAY_SHAPE) / MEAN

/** Weekend traffic relative to a weekday at the same hour. */
export const WEEKEND_FACTOR = 0.45

/** Local time helpers for a business `offsetMinutes` east of UTC. */
export class LocalTime {
  private readonly offset: Micros

  constructor(offsetMinutes: number) {
    this.offset = offsetMinutes * 60_000_000
  }

  /** Local midnight at or before `at`, as a UTC instant. */
  dayStart(at: Micros): Micros {
    const local = at + this.offset
    return local - (((local % DAY) + DAY) % DAY) - this.offset
  }

  /** Local hour of day as a fraction, 0 ≤ h < 24. */
  hourOfDay(at: Micros): number {
    return (at - this.dayStart(at)) / HOUR
  }

  /** Saturday or Sunday, locally. */
  isWeekend(at: Micros): boolean {
    const localDay = Math.floor((at + this.offset) / DAY)
    // 1970-01-01 was a Thursday: day 2 → Saturday, 3 → Sunday.
    const weekday = (((localDay + 4) % 7) + 7) % 7
    return weekday === 0 || weekday === 6
  }
}

/** Traffic at `at` relative to the day's average (1 = an average weekday hour). */
export function trafficFactor(local: LocalTime, at: Micros): number {
  const h = local.hourOfDay(at)
  const i = Math.floor(h)
  const a = WEEKDAY_SHAPE[i % 24] ?? 1
  const b = WEEKDAY_SHAPE[(i + 1) % 24] ?? 1
  const shape = (a + (b - a) * (h - i)) / MEAN
  return local.isWeekend(at) ? shape * WEEKEND_FACTOR : shape
}

/**
 * The next arrival strictly after `after` for a process averaging `perHour` arrivals per weekday
 * hour, or `Infinity` when the rate is zero.
 */
export function nextArrival(rng: Rng, local: LocalTime, after: Micros, perHour: number): Micros {
  if (!(perHour > 0)) return Infinity
  const peakPerMicro = (perHour * PEAK) / HOUR
  let t = after
  for (;;) {
    t += Math.max(1000, Math.round(rng.exponential(1 / peakPerMicro) / 1000) * 1000)
    if (rng.next() * PEAK * perHour <= trafficFactor(local, t) * perHour) return t
  }
}
