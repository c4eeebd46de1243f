/**
 * Scripted faults: the one fault engine behind the admin API's per-account scripts, the
 * `X-Chat-Export-Fault` header and the random `--faults` plan (src/http/faults.ts applies what this
 * module decides). Pure: rules, their triggers and counters, no I/O.
 *
 *   rule = { match: { stream?, path?, method? },          which requests count
 *            trigger: next N | fail N then succeed | every Kth,
 *            fault: status 429/500/502/503/504 (+ retry_after) | latency | reset | body damage }
 *
 * "next N" and "fail N then succeed" both fault the next N matching requests (the second name is
 * how connector authors think of it: the N+1st succeeds); "every Kth" faults requests K, 2K, ...
 * A rule that has fired its N times stays listed (with `fired`) until replaced or cleared.
 * @module
 */
import { z } from 'zod'

/** What a faulted request gets. */
export type Fault =
  | { kind: 'status'; status: 429 | 500 | 502 | 503 | 504; retryAfterSeconds: number }
  | { kind: 'latency'; ms: number }
  | { kind: 'reset'; when: 'before_body' | 'mid_body' }
  | { kind: 'body'; damage: 'truncated' | 'malformed' | 'wrong_count' }

/** Faults that change a response body: only for GET (the handler runs; nothing may be written). */
export function isBodyFault(fault: Fault): boolean {
  return fault.kind === 'body' || (fault.kind === 'reset' && fault.when === 'mid_body')
}

/** A short label for journals and logs, e.g. `503`, `latency=1500`, `reset:mid_body`. */
export function describeFault(fault: Fault): string {
  switch (fault.kind) {
    case 'status':
      return fault.status === 429 || fault.status === 503
        ? `${fault.status};retry-after=${fault.retryAfterSeconds}`
        : String(fault.status)
    case 'latency':
      return `latency=${fault.ms}`
    case 'reset':
      return `reset:${fault.when}`
    case 'body':
      return `body:${fault.damage}`
  }
}

const faultSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('status'),
    status: z.union([
      z.literal(429),
      z.literal(500),
      z.literal(502),
      z.literal(503),
      z.literal(504),
    ]),
    retry_after: z.number().int().min(0).max(3600).optional(),
  }),
  z.object({ kind: z.literal('latency'), ms: z.number().int().min(0).max(60_000) }),
  z.object({ kind: z.literal('reset'), when: z.enum(['before_body', 'mid_body']) }),
  z.object({ kind: z.literal('body'), damage: z.enum(['truncated', 'malformed', 'wrong_count']) }),
])

const triggerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('next'), count: z.number().int().min(1).max(1_000_000) }),
  z.object({ type: z.literal('fail_then_succeed'), count: z.number().int().min(1).max(1_000_000) }),
  z.object({ type: z.literal('every'), k: z.number().int().min(1).max(1_000_000) }),
])

/** A rule as the admin API accepts it (JSON, snake_case). */
export const faultRuleSchema = z.object({
  match: z
    .object({
      /** An export stream name (chats, agent_timeline, ...) or `ingest`. */
      stream: z.string().min(1).max(64).optional(),
      /** A path prefix, e.g. `/api/v2/chat/incremental/chats`. */
      path: z.string().startsWith('/').max(512).optional(),
      method: z.enum(['GET', 'POST']).optional(),
    })
    .strict()
    .default({}),
  trigger: triggerSchema,
  fault: faultSchema,
})

export type FaultRuleInput = z.input<typeof faultRuleSchema>

/** A rule with its counters. */
export interface FaultRule {
  id: number
  match: { stream?: string; path?: string; method?: 'GET' | 'POST' }
  trigger: z.infer<typeof triggerSchema>
  fault: Fault
  /** Matching requests seen. */
  seen: number
  /** Times it faulted a request. */
  fired: number
}

/** The request a decision is made for. */
export interface FaultRequest {
  method: string
  path: string
  /** Export stream, `ingest`, or undefined for other routes. */
  stream: string | undefined
}

/** Parses a list of rules; throws Error with a message naming the bad rule and member. */
export function parseFaultRules(input: unknown): Omit<FaultRule, 'id' | 'seen' | 'fired'>[] {
  const list = Array.isArray(input) ? input : [input]
  return list.map((raw, index) => {
    const parsed = faultRuleSchema.safeParse(raw)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new Error(
        `fault rule #${index}: ${issue?.path.join('.') || '(rule)'}: ${issue?.message ?? 'invalid'}`,
      )
    }
    const { match, trigger, fault } = parsed.data
    const out: Fault =
      fault.kind === 'status'
        ? {
            kind: 'status',
            status: fault.status,
            retryAfterSeconds:
              fault.retry_after ?? (fault.status === 429 || fault.status === 503 ? 1 : 0),
          }
        : fault
    const cleanMatch: FaultRule['match'] = {}
    if (match.stream !== undefined) cleanMatch.stream = match.stream
    if (match.path !== undefined) cleanMatch.path = match.path
    if (match.method !== undefined) cleanMatch.method = match.method
    return { match: cleanMatch, trigger, fault: out }
  })
}

/** The scripted faults of one account, with their counters. */
export class FaultScript {
  private rules: FaultRule[] = []
  private nextId = 1

  list(): readonly FaultRule[] {
    return this.rules
  }

  /** Replaces every rule (counters start again). */
  replace(rules: Omit<FaultRule, 'id' | 'seen' | 'fired'>[]): readonly FaultRule[] {
    this.rules = []
    return rules.map((rule) => this.add(rule))
  }

  add(rule: Omit<FaultRule, 'id' | 'seen' | 'fired'>): FaultRule {
    const full: FaultRule = { ...rule, id: this.nextId++, seen: 0, fired: 0 }
    this.rules.push(full)
    return full
  }

  clear(): void {
    this.rules = []
  }

  /**
   * The fault for this request, if a rule fires (the first one that does; every matching rule
   * counts the request). Body faults never fire on requests other than GET.
   */
  decide(request: FaultRequest): Fault | undefined {
    let chosen: Fault | undefined
    for (const rule of this.rules) {
      if (!matches(rule, request)) continue
      if (isBodyFault(rule.fault) && request.method !== 'GET') continue
      rule.seen++
      const fires =
        rule.trigger.type === 'every'
          ? rule.seen % rule.trigger.k === 0
          : rule.fired < rule.trigger.count
      if (fires && chosen === undefined) {
        rule.fired++
        chosen = rule.fault
      }
    }
    return chosen
  }
}

function matches(rule: FaultRule, request: FaultRequest): boolean {
  const { stream, path, method } = rule.match
  if (method !== undefined && method !== request.method) return false
  if (stream !== undefined && stream !== request.stream) return false
  if (path !== undefined && !request.path.startsWith(path)) return false
  return true
}

/** A rule in the admin API's JSON shape. */
export function faultRuleJson(rule: FaultRule): Record<string, unknown> {
  const fault =
    rule.fault.kind === 'status'
      ? { kind: 'status', status: rule.fault.status, retry_after: rule.fault.retryAfterSeconds }
      : rule.fault
  return {
    id: rule.id,
    match: rule.match,
    trigger: rule.trigger,
    fault,
    seen: rule.seen,
    fired: rule.fired,
    label: describeFault(rule.fault),
  }
}
