/**
 * Records each request of an account in the request journal (src/admin/request-journal.ts): the
 * export and ingest APIs, and the admin API's actions (its reads are left out, so watching the
 * journal does not fill it). Headers and bodies are never recorded; `access_token` is removed from
 * the query.
 * @module
 */
import type { MiddlewareHandler } from 'hono'
import type { RequestJournal } from '../admin/request-journal.js'
import type { Clock } from '../domain/clock.js'
import { formatIso } from '../domain/time.js'

/** The tail of an export page: `"count":N,"end_id":X,"end_time":T` (see export/export-page.ts). */
const PAGE_TAIL =
  /"count":\d+,"end_id":(null|"(?:[^"\\]|\\.)*"|-?\d+),"end_time":(null|\d+(?:\.\d+)?)/

type CursorAfter = { end_time: number | null; end_id: string | null }

/** The end cursor written in a page's tail, or null when the text is not a page's tail. */
function tailCursor(text: string): CursorAfter | null {
  const tail = PAGE_TAIL.exec(text)
  if (!tail) return null
  return {
    end_time: tail[2] === 'null' ? null : Number(tail[2]),
    end_id: tail[1] === 'null' ? null : String(JSON.parse(tail[1] ?? 'null')),
  }
}

/** The journal middleware. */
export function journalRequests(journal: RequestJournal, clock: Clock): MiddlewareHandler {
  return async function journalRequest(c, next) {
    const started = performance.now()
    const at = clock.now()
    await next()
    const path = c.req.path
    const isAdmin = path.startsWith('/api/chat-export/v1/admin/')
    if (isAdmin && c.req.method === 'GET') return
    const vars = c.var as { token?: { accountId: number }; account?: { id: number } }
    const accountId = vars.token?.accountId ?? vars.account?.id
    if (accountId === undefined) return
    const url = new URL(c.req.url)
    url.searchParams.delete('access_token')
    const fault = (c.var as { fault?: string }).fault ?? null
    const declared = Number(c.res.headers.get('content-length') ?? NaN)
    const startTime = url.searchParams.get('start_time')
    const startId = url.searchParams.get('start_id')
    const status = c.res.status
    const record = (bytes: number, cursorAfter: CursorAfter | null) => {
      journal.record({
        at: formatIso(at),
        accountId,
        method: c.req.method,
        path,
        query: url.search.slice(1),
        status,
        bytes: Number.isFinite(bytes) ? bytes : 0,
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        fault,
        cursorBefore:
          startTime === null && startId === null
            ? null
            : { start_time: startTime, start_id: startId },
        // A faulted page never moves a cursor.
        cursorAfter: fault === null ? cursorAfter : null,
      })
    }
    // An uncompressed export page, unfaulted: the route said what it sent. Copying a page of
    // megabytes through a tee and reading it again cost 6–9 ms of CPU a page (issue 14's bench).
    const page = (c.var as { exportPage?: { bytes: number; endTime: string; endId: string } })
      .exportPage
    if (page !== undefined && fault === null && status === 200) {
      record(page.bytes, { end_time: Number(page.endTime), end_id: page.endId })
      return
    }
    // A reset's body never ends; any other is read from a copy in the background, so the journal
    // never delays the response (pages stream out through the send guard meanwhile).
    if (fault?.startsWith('reset') || c.res.body === null) {
      record(declared, null)
      return
    }
    const wantsTail = c.req.method === 'GET' && status === 200 && !isAdmin
    void c.res
      .clone()
      .arrayBuffer()
      .then(
        (body) => {
          const buffer = Buffer.from(body)
          const text = wantsTail
            ? buffer.subarray(Math.max(0, buffer.length - 4096)).toString('utf8')
            : undefined
          record(buffer.length, text === undefined ? null : tailCursor(text))
        },
        () => record(declared, null),
      )
  }
}
