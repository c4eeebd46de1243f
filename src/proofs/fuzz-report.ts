/** The fuzz report as tables, and what makes it a failure. @module */
import { markdownTable } from '../bench/table.js'
import type { FuzzReport } from './fuzz.js'
import { reportTable } from './proof-support.js'

/** The report as Markdown: the figures, one row per route, then the requests that broke a property. */
export function fuzzTable(r: FuzzReport): string {
  const summary = reportTable([
    [
      'cases per route / routes / in all',
      `${r.casesPerRoute} / ${Object.keys(r.routes).length} / ${r.cases}`,
    ],
    ['2xx / 4xx / 5xx', `${r.status2xx} / ${r.status4xx} / ${r.status5xx}`],
    ['**5xx**', r.unknown5xx],
    ['**stack trace or SQL in a body**', r.leaks],
    ['**error not in the documented shape**', r.badErrorShape],
    ["**another account's item in a read**", r.crossAccount],
    ["control: the other account's reads naming its own items", r.crossAccountControl],
    [`**no answer within 30 s**`, r.hangs],
    ['not sent (client refused the header) or closed unanswered', r.clientRefused],
    ['slowest request (ms)', r.slowestRequestMs],
    ['/healthz samples', r.healthzSamples],
    ['/healthz p50 / p99 / max (ms)', `${r.healthzP50Ms} / ${r.healthzP99Ms} / ${r.healthzMaxMs}`],
    ['/healthz over 100 ms', r.healthzOver100Ms],
    ["the fuzzer's own event loop blocked at most (ms)", r.fuzzerLoopMaxMs],
    [
      'generating / sending (s)',
      `${(r.generateMs / 1000).toFixed(1)} / ${(r.runMs / 1000).toFixed(1)}`,
    ],
  ])
  const routes = markdownTable(
    ['route', 'cases', '2xx', '3xx', '4xx', '5xx', 'not answered', 'mean ms', 'max ms'],
    Object.entries(r.routes).map(([route, t]) => ({
      route,
      cases: t.cases,
      '2xx': t.status2xx,
      '3xx': t.status3xx,
      '4xx': t.status4xx,
      '5xx': t.status5xx,
      'not answered': t.notAnswered,
      'mean ms': (t.totalMs / Math.max(1, t.cases - t.notAnswered)).toFixed(1),
      'max ms': t.maxMs,
    })),
  )
  const stalls = r.stalls
    .map((s) => `- /healthz ${s.ms} ms while in flight: ${s.inFlight.join(' | ') || '(nothing)'}`)
    .join('\n')
  const serverStalls = r.serverStalls
    .map(
      (s) =>
        `- held ${s.blockedMs} ms (process CPU ${s.cpuMs} ms, GC ${s.gcMs} ms); serving: ${s.inFlight.join(' | ') || '(nothing)'}`,
    )
    .join('\n')
  const stallText =
    (stalls ? `\n\nSlowest /healthz answers:\n\n${stalls}` : '') +
    (serverStalls
      ? `\n\nThe server's event loop held 50 ms or more (its own stall log, longest first):\n\n${serverStalls}`
      : '')
  const unanswered = r.unanswered.length
    ? `\n\nNot sent or not answered (first ones):\n\n${r.unanswered.map((u) => `- ${u}`).join('\n')}`
    : ''
  const tables = `${summary}\n\n${routes}${stallText}${unanswered}`
  if (r.violations.length === 0) return tables
  const examples = r.violations
    .map(
      (v) =>
        `- ${v.kind} (${v.route}): ${v.method} ${v.path} ${v.body ? `body ${JSON.stringify(v.body)}` : ''} → ${v.status} ${v.answer}`,
    )
    .join('\n')
  return `${tables}\n\nReproducing requests (first of each kind):\n\n${examples}`
}

/**
 * Why the report fails (empty when it passes). `healthzBudgetMs` is the /healthz bound (the
 * issue's 100 ms; a loaded shared machine may need a looser bound in tests).
 */
export function fuzzFailures(r: FuzzReport, healthzBudgetMs = 100): string[] {
  const failures: string[] = []
  if (r.unknown5xx > 0) failures.push(`${r.unknown5xx} answers were 5xx`)
  if (r.leaks > 0) failures.push(`${r.leaks} bodies held a stack trace or SQL`)
  if (r.badErrorShape > 0)
    failures.push(`${r.badErrorShape} errors were not JSON of the documented shape`)
  if (r.crossAccount > 0) failures.push(`${r.crossAccount} reads named another account's item`)
  if (r.crossAccountControl === 0 && r.cases > 0)
    failures.push("the cross-account check saw none of the other account's items in its own reads")
  if (r.hangs > 0) failures.push(`${r.hangs} requests had no answer within 30 s`)
  if (r.healthzMaxMs > healthzBudgetMs) failures.push(`/healthz waited ${r.healthzMaxMs} ms`)
  return failures
}
