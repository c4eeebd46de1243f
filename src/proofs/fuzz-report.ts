/** The fuzz report as tables, and what makes it a failure. @module */
import type { FuzzReport } from './fuzz.js'
import { reportTable } from './proof-support.js'

/** The report as Markdown: the figures, then the requests that broke a property. */
export function fuzzTable(r: FuzzReport): string {
  const summary = reportTable([
    ['cases', r.cases],
    [
      'by route',
      Object.entries(r.byRoute)
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    ],
    ['2xx / 4xx / 5xx', `${r.status2xx} / ${r.status4xx} / ${r.status5xx}`],
    ['**5xx**', r.unknown5xx],
    ['**stack trace or SQL in a body**', r.leaks],
    ['**error not in {error, description} shape**', r.badErrorShape],
    ['not sent (client refused the header) or closed unanswered', r.clientRefused],
    ['slowest request (ms)', r.slowestRequestMs],
    ['/healthz samples', r.healthzSamples],
    ['/healthz p50 / p99 / max (ms)', `${r.healthzP50Ms} / ${r.healthzP99Ms} / ${r.healthzMaxMs}`],
    ['/healthz over 100 ms', r.healthzOver100Ms],
    ["the fuzzer's own event loop blocked at most (ms)", r.fuzzerLoopMaxMs],
  ])
  const stalls = r.stalls
    .map((s) => `- /healthz ${s.ms} ms while in flight: ${s.inFlight.join(' | ') || '(nothing)'}`)
    .join('\n')
  const stallText = stalls ? `\n\nSlowest /healthz answers:\n\n${stalls}` : ''
  if (r.violations.length === 0) return summary + stallText
  const examples = r.violations
    .map(
      (v) =>
        `- ${v.kind}: ${v.method} ${v.path} ${v.body ? `body ${JSON.stringify(v.body)}` : ''} → ${v.status} ${v.answer}`,
    )
    .join('\n')
  return `${summary}${stallText}\n\nReproducing requests (first of each kind):\n\n${examples}`
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
  if (r.healthzMaxMs > healthzBudgetMs) failures.push(`/healthz waited ${r.healthzMaxMs} ms`)
  return failures
}
