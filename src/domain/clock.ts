/**
 * Injected time and randomness, so time rules and simulations are testable and reproducible.
 * Domain code never calls `Date.now()` or `Math.random()` itself.
 * @module
 */
import type { Micros } from './time.js'

/** A source of the current time in integer microseconds. */
export interface Clock {
  now(): Micros
}

/** The wall clock, in microseconds (millisecond resolution plus a monotonic sub-millisecond part). */
export function systemClock(): Clock {
  // performance.timeOrigin + performance.now() gives sub-millisecond resolution that never steps back
  // within a process; positions additionally guard against steps with max(now, last + 1).
  return {
    now: () =>
      Math.floor((globalThis.performance.timeOrigin + globalThis.performance.now()) * 1000),
  }
}

/** A clock that only moves when told to: for tests. */
export class ManualClock implements Clock {
  constructor(private current: Micros) {}
  now(): Micros {
    return this.current
  }
  set(micros: Micros): void {
    this.current = micros
  }
  advance(micros: Micros): void {
    this.current += micros
  }
}

/** A source of random bytes (tokens) and numbers (simulation); seeded in tests and demos. */
export interface Random {
  /** A float in [0, 1). */
  next(): number
}

/** Mulberry32: a tiny, fast, seedable PRNG, good enough for simulations (not for secrets). */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0
  return {
    next() {
      a = (a + 0x6d2b79f5) >>> 0
      let t = a
      t = Math.imul(t ^ (t >>> 15), t | 1)
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    },
  }
}
