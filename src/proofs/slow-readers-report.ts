/** The slow-readers report as a table, and what makes it a failure. @module */
import type { SlowReadersReport } from './slow-readers.js'
import { reportTable } from './proof-support.js'

/** The report as a Markdown table. */
export function slowReadersTable(r: SlowReadersReport): string {
  return reportTable([
    ['store', r.backend],
    ['readers (never reading) / rate (B/s each, 1–2×)', `${r.readers} (${r.stalled}) / ${r.rate}`],
    [
      'chats loaded (KB each) / full page (MB)',
      `${r.chats} (${r.chatKb}) / ${(r.pageBytes / 1e6).toFixed(1)}`,
    ],
    ['pages started / read to the end', `${r.pagesStarted} / ${r.pagesCompleted}`],
    ['503 OVERLOADED (retried after Retry-After)', r.overloaded503],
    ['dropped by the send timeout (of them never reading)', `${r.dropped} (${r.droppedStalled})`],
    ['reader connection errors', r.readerErrors],
    ['unexpected answers (writer errors, 5xx but 503 OVERLOADED)', r.unexpected.length],
    ['RSS at start (MB)', r.rssStartMb],
    [`**peak RSS** (MB, ${r.rssSamples} samples every 100 ms)`, r.rssPeakMb],
    ['peak RssAnon (MB; the rest of RSS is file pages: code, SQLite mmap)', r.anonPeakMb],
    ['VmHWM at the end (MB)', r.hwmMb],
    [
      'writers (a batch every, ms) / batches acknowledged / errors',
      `${r.writers} (${r.writeIntervalMs}) / ${r.writerBatchesAcked} / ${r.writerErrors}`,
    ],
    [
      'writer latency p50 / p99 / max (ms)',
      `${r.writerP50Ms} / ${r.writerP99Ms} / ${r.writerMaxMs}`,
    ],
    ['acknowledged writes lost', r.lostAcked],
    [
      '`/healthz` p50 / p99 / max (ms)',
      `${r.healthzP50Ms} / ${r.healthzP99Ms} / ${r.healthzMaxMs}`,
    ],
  ])
}

/**
 * Why the report fails (empty when it passes): peak RSS at or over `maxRssMb` (sampled VmRSS or
 * the kernel's VmHWM), any writer error, any lost acknowledged write, any 5xx but 503 OVERLOADED.
 */
export function slowReadersFailures(r: SlowReadersReport, maxRssMb = 400): string[] {
  const failures: string[] = []
  const peak = Math.max(r.rssPeakMb, r.hwmMb)
  if (peak >= maxRssMb) failures.push(`peak RSS ${peak} MB is not under ${maxRssMb} MB`)
  if (r.writerErrors > 0) failures.push(`${r.writerErrors} writer errors`)
  if (r.lostAcked > 0) failures.push(`${r.lostAcked} chats lost acknowledged messages`)
  if (r.unexpected.length > 0) failures.push(`unexpected answers: ${r.unexpected.join(', ')}`)
  if (r.healthzErrors > 0) failures.push(`${r.healthzErrors} /healthz failures`)
  if (r.writerBatchesAcked === 0) failures.push('nothing was written')
  if (r.pagesStarted === 0) failures.push('no page was served')
  return failures
}
