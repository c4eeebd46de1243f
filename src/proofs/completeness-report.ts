/** The completeness report as a table, and what makes it a failure. @module */
import type { CompletenessReport } from './completeness.js'
import { reportTable } from './proof-support.js'

/** The report as a Markdown table. */
export function completenessTable(r: CompletenessReport): string {
  return reportTable([
    ['store', r.backend],
    ['batches acknowledged', r.batchesAcked],
    ['versions written (acknowledged)', r.versionsWritten],
    ['chats', r.chats],
    ['write errors (non-200)', r.writeErrors],
    ['pages fetched', r.pagesFetched],
    ['export errors (non-200), by status', exportErrors(r)],
    ['**lost**', r.lost],
    ['**duplicated** (along next_page)', r.duplicated],
    ['**out of order**', r.outOfOrder],
    ['**cross-account**', r.crossAccount],
    ['re-fetches / missing on re-fetch', `${r.refetches} / ${r.refetchMissing}`],
    ['restarts from end_time alone / max items repeated', `${r.restarts} / ${r.maxRestartRepeat}`],
    [
      'freshness p50 / p99 / max (ms)',
      `${r.freshnessP50Ms} / ${r.freshnessP99Ms} / ${r.freshnessMaxMs}`,
    ],
    ['negative control (naive whole-second cursor): lost', r.naiveLost],
  ])
}

function exportErrors(r: CompletenessReport): string {
  const statuses = Object.entries(r.exportErrorStatuses)
  if (statuses.length === 0) return String(r.exportErrors)
  return `${r.exportErrors} (${statuses.map(([status, n]) => `${status}: ${n}`).join(', ')})`
}

/**
 * Why the report fails (empty when it passes). `maxRepeat` is the bound on items a restart from
 * end_time alone may repeat (semantics.md §2: one).
 */
export function completenessFailures(r: CompletenessReport, maxRepeat = 1): string[] {
  const failures: string[] = []
  if (r.lost > 0) failures.push(`${r.lost} acknowledged versions lost`)
  if (r.refetchMissing > 0) failures.push(`${r.refetchMissing} items missing from a first answer`)
  if (r.duplicated > 0) failures.push(`${r.duplicated} versions repeated along next_page`)
  if (r.outOfOrder > 0) failures.push(`${r.outOfOrder} items out of order`)
  if (r.crossAccount > 0) failures.push(`${r.crossAccount} items of another account`)
  if (r.maxRestartRepeat > maxRepeat) {
    failures.push(`a restart from end_time alone repeated ${r.maxRestartRepeat} items`)
  }
  if (r.versionsWritten === 0) failures.push('nothing was written')
  if (r.naiveLost === 0) failures.push('the negative control lost nothing: the checker is blind')
  return failures
}
