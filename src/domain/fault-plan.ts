/**
 * The fault-injection plan parsed from `serve --faults` (see src/http/faults.ts for what each fault
 * does). Pure parsing, so configuration can validate it at startup.
 * @module
 */

export interface FaultPlan {
  header: boolean
  rates: { r429: number; r500: number; r503: number; slow: number; drop: number }
  delayMs: number
  retryAfterSeconds: number
  seed: number
}

/** Parses the `--faults` value; throws with a message naming the bad part. */
export function parseFaultPlan(text: string): FaultPlan {
  const plan: FaultPlan = {
    header: false,
    rates: { r429: 0, r500: 0, r503: 0, slow: 0, drop: 0 },
    delayMs: 2000,
    retryAfterSeconds: 1,
    seed: 1,
  }
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    if (part === 'header') {
      plan.header = true
      continue
    }
    const [key, value] = part.split('=')
    const n = Number(value)
    if (value === undefined || !Number.isFinite(n) || n < 0) {
      throw new Error(`"${part}" is not KEY=NUMBER`)
    }
    const rate = (r: number) => {
      if (r > 1) throw new Error(`rate "${part}" must be between 0 and 1`)
      return r
    }
    switch (key ?? '') {
      case '429':
        plan.rates.r429 = rate(n)
        break
      case '500':
        plan.rates.r500 = rate(n)
        break
      case '503':
        plan.rates.r503 = rate(n)
        break
      case 'slow':
        plan.rates.slow = rate(n)
        break
      case 'drop':
        plan.rates.drop = rate(n)
        break
      case 'delay':
        plan.delayMs = n
        break
      case 'retry-after':
        plan.retryAfterSeconds = Math.max(1, Math.round(n))
        break
      case 'seed':
        plan.seed = n
        break
      default:
        throw new Error(
          `unknown key "${key}"; use header, 429, 500, 503, slow, drop, delay, retry-after or seed`,
        )
    }
  }
  return plan
}
