/** The crash report as a table, and what makes it a failure. @module */
import { markdownTable } from '../bench/table.js'
import type { CrashReport } from './crash.js'

/** One row per store. */
export function crashTable(reports: CrashReport[]): string {
  return markdownTable(
    [
      'store',
      'SIGKILL cycles',
      'events acked',
      'chats',
      'acked lost',
      'integrity errors / checks',
      'position regressions',
      'out of order',
      'restart max (ms)',
    ],
    reports.map((r) => ({
      store: r.backend,
      'SIGKILL cycles': r.cycles,
      'events acked': r.eventsAcked,
      chats: r.chats,
      'acked lost': r.lostAcked,
      'integrity errors / checks':
        r.backend === 'sqlite'
          ? `${r.integrityErrors} / ${r.integrityChecks}`
          : 'n/a (server-side)',
      'position regressions': r.positionRegressions,
      'out of order': r.outOfOrder,
      'restart max (ms)': r.restartMsMax,
    })),
  )
}

/** Why a report fails (empty when it passes). */
export function crashFailures(r: CrashReport): string[] {
  const failures: string[] = []
  if (r.lostAcked > 0) failures.push(`${r.backend}: ${r.lostAcked} acknowledged chats lost`)
  if (r.integrityErrors > 0) failures.push(`${r.backend}: ${r.integrityErrors} integrity errors`)
  if (r.positionRegressions > 0) failures.push(`${r.backend}: positions went backwards`)
  if (r.outOfOrder > 0) failures.push(`${r.backend}: ${r.outOfOrder} items out of order`)
  if (r.eventsAcked === 0) failures.push(`${r.backend}: nothing was acknowledged`)
  return failures
}
