/**
 * Seeded randomness for the simulation: distributions (exponential, log-normal, weighted picks) on
 * top of the injected {@link Random}, plus seed derivation so that independent parts of a run
 * (directory, day, faker) each get their own stream and adding a draw in one part does not shift
 * the others.
 * @module
 */
import { seededRandom, type Random } from '../domain/clock.js'

/** The alphabet of Zendesk's random id parts: digits, upper case, lower case. */
export const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/**
 * Mixes a seed with salts into a new 32-bit seed (FNV-1a over the salts' text, then murmur3's
 * finaliser), so `deriveSeed(7, 'directory')` and `deriveSeed(7, 'day', 3)` are unrelated streams.
 */
export function deriveSeed(seed: number, ...salts: (string | number)[]): number {
  let h = 0x811c9dc5 ^ (seed >>> 0)
  // Numbers above 2^32 (µs timestamps) are hashed through their decimal text, digit by digit.
  const text = salts.map(String).join('\u0000')
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= Math.floor(seed / 0x100000000) >>> 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Distributions over one seeded stream. Every method consumes draws in a fixed order. */
export class Rng {
  private readonly source: Random

  constructor(source: Random | number) {
    this.source = typeof source === 'number' ? seededRandom(source) : source
  }

  /** A float in [0, 1). */
  next(): number {
    return this.source.next()
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  /** A float in [min, max). */
  uniform(min: number, max: number): number {
    return min + this.next() * (max - min)
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)]
    if (item === undefined) throw new Error('Rng.pick needs a non-empty list')
    return item
  }

  /** One value of `[value, weight]` pairs, with probability proportional to its weight. */
  weighted<T>(entries: readonly (readonly [T, number])[]): T {
    const total = entries.reduce((sum, [, w]) => sum + w, 0)
    let r = this.next() * total
    for (const [value, weight] of entries) {
      r -= weight
      if (r < 0) return value
    }
    const last = entries[entries.length - 1]
    if (last === undefined) throw new Error('Rng.weighted needs a non-empty list')
    return last[0]
  }

  /** An exponential variate with the given mean (time between Poisson events). */
  exponential(mean: number): number {
    // 1 - next() is in (0, 1], so the logarithm is finite.
    return -Math.log(1 - this.next()) * mean
  }

  /** A standard normal variate (Box–Muller; one of the pair is discarded to keep draws simple). */
  normal(mean = 0, sd = 1): number {
    const u = 1 - this.next()
    const v = this.next()
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  /**
   * A log-normal variate with the given median: human delays (reply times, patience) are skewed,
   * mostly short with a long tail, which a log-normal captures with two intuitive knobs.
   */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(this.normal(0, sigma))
  }

  /** `length` characters of base62. */
  base62(length: number): string {
    let out = ''
    for (let i = 0; i < length; i++) out += BASE62[Math.floor(this.next() * 62)]
    return out
  }

  /** `length` decimal digits, the first one non-zero. */
  digits(length: number): string {
    let out = String(this.int(1, 9))
    for (let i = 1; i < length; i++) out += String(this.int(0, 9))
    return out
  }

  /** A new array with the items in random order (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = [...items]
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1))
      const a = out[i] as T
      out[i] = out[j] as T
      out[j] = a
    }
    return out
  }
}

/** Clamps `value` into [min, max]. */
export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value))
}
