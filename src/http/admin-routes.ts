/**
 * The admin API under `/api/chat-export/v1/admin/` (docs/admin.md): reset and seed an account,
 * script faults, read the request journal (also live, as server-sent events), aggregates for the
 * console, and the manual clock.
 *
 * Who may call: the server admin token printed at start-up (every account, the clock), or an owner
 * token of the account named in the path (that account only).
 * @module
 */
import type { Context, MiddlewareHandler } from 'hono'
import { Hono } from 'hono'
import { streamSSE } from 'hono/streaming'
import { z } from 'zod'
import { accountStats, newestItems, type AccountStats } from '../admin/account-stats.js'
import type { AdminState } from '../admin/admin-state.js'
import { matches, type JournalEntry, type JournalFilter } from '../admin/request-journal.js'
import { resetAccount } from '../admin/seed-account.js'
import { issueToken, verifyToken } from '../auth/tokens.js'
import type { Clock } from '../domain/clock.js'
import { AppError } from '../domain/errors.js'
import { faultRuleJson, parseFaultRules } from '../domain/fault-script.js'
import { isStreamName } from '../domain/streams.js'
import { formatIso, isSupportedTime, parseIso, SUPPORTED_TIME_RANGE } from '../domain/time.js'
import type { Account, Store } from '../store/store.js'

export interface AdminRoutesOptions {
  store: Store
  clock: Clock
  admin: AdminState
}

/** Who is calling: the server admin, or the owner of one account. */
export type AdminCaller = { kind: 'server' } | { kind: 'owner'; accountId: number }

export interface AdminVariables {
  caller: AdminCaller
  account: Account
}

type AdminContext = Context<{ Variables: AdminVariables }>

/** How long the console's aggregates are reused. */
const STATS_TTL_MICROS = 3_000_000

/**
 * The most arrivals a seeded reset may simulate (`days × 24 × arrivals_per_hour`). A reset is one
 * write transaction, and on SQLite every other account's writes wait for it: the fuzz proof saw a
 * 31-day reset at 10 000 arrivals an hour hold them for 14.6 s, and one of 10 000 arrivals for 11.6 s. This keeps a reset to about two seconds.
 */
export const MAX_RESET_ARRIVALS = 2_000

const resetSchema = z
  .object({
    seed: z.number().int(),
    days: z.number().min(0).max(31).default(1),
    arrivals_per_hour: z.number().min(0).max(10_000).default(30),
  })
  .strict()

const clockSchema = z.union([
  z
    .object({
      advance_seconds: z
        .number()
        .positive()
        .max(366 * 86_400),
    })
    .strict(),
  z.object({ set: z.string() }).strict(),
])

function invalid(problem: string): AppError {
  return new AppError('INVALID_ADMIN_REQUEST', problem)
}

/** Parses a JSON body (empty allowed when `optional`). */
async function jsonBody(c: AdminContext, optional = false): Promise<unknown> {
  const text = await c.req.text()
  if (text.trim() === '') {
    if (optional) return undefined
    throw invalid('The request needs a JSON body (see docs/admin.md).')
  }
  try {
    return JSON.parse(text)
  } catch {
    throw invalid('The body is not JSON.')
  }
}

function issues(error: z.ZodError): string {
  const issue = error.issues[0]
  return `${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`
}

/** The admin authentication: server admin token or an owner token. */
function requireAdmin(
  store: Store,
  clock: Clock,
  admin: AdminState,
): MiddlewareHandler<{ Variables: AdminVariables }> {
  return async function authenticateAdmin(c, next) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '')
    // EventSource cannot send headers: the console's live journal passes the token in the query.
    const text = match?.[1] ?? c.req.query('access_token')
    if (!text) {
      throw new AppError(
        'UNAUTHORIZED',
        'No token was sent. Send "Authorization: Bearer <token>" with the server admin token printed at start-up or an owner token of the account.',
      )
    }
    if (admin.isAdminToken(text)) {
      c.set('caller', { kind: 'server' })
      return next()
    }
    const check = await verifyToken(store, text, clock.now())
    if (!check.ok) {
      throw new AppError(
        'UNAUTHORIZED',
        `The token ${check.reason === 'malformed' ? 'is neither the server admin token nor a chat-export token' : `is ${check.reason}`}. Use the admin token printed at start-up or an owner token.`,
      )
    }
    if (check.record.role !== 'owner') {
      throw new AppError(
        'ADMIN_FORBIDDEN',
        `The admin API takes owner tokens; this token's role is ${check.record.role}.`,
      )
    }
    c.set('caller', { kind: 'owner', accountId: check.record.accountId })
    return next()
  }
}

function requireServer(c: AdminContext, what: string): void {
  if (c.var.caller.kind !== 'server') {
    throw new AppError(
      'ADMIN_FORBIDDEN',
      `${what} needs the server admin token (printed when the server starts); an owner token administers its own account only.`,
    )
  }
}

function journalFilter(c: AdminContext): JournalFilter {
  const limit = c.req.query('limit')
  const n = limit === undefined ? undefined : Number(limit)
  if (n !== undefined && !(Number.isInteger(n) && n > 0)) {
    throw invalid(`limit must be a positive integer, not "${limit}".`)
  }
  return {
    path: c.req.query('path'),
    status: c.req.query('status'),
    faulted: c.req.query('faulted') === 'true' ? true : undefined,
    limit: n,
  }
}

/** The journal entry as JSON (snake_case, like the rest of the API). */
export function entryJson(entry: JournalEntry): Record<string, unknown> {
  return {
    id: entry.id,
    at: entry.at,
    method: entry.method,
    path: entry.path,
    query: entry.query,
    status: entry.status,
    bytes: entry.bytes,
    duration_ms: entry.durationMs,
    fault: entry.fault,
    cursor_before: entry.cursorBefore,
    cursor_after: entry.cursorAfter,
  }
}

/** The admin routes (mounted at /api/chat-export/v1/admin). */
export function adminRoutes(options: AdminRoutesOptions): Hono<{ Variables: AdminVariables }> {
  const { store, clock, admin } = options
  const app = new Hono<{ Variables: AdminVariables }>()
  app.use('*', requireAdmin(store, clock, admin))

  app.get('/accounts', async (c) => {
    const caller = c.var.caller
    const all = await store.listAccounts()
    const visible = caller.kind === 'server' ? all : all.filter((a) => a.id === caller.accountId)
    const accounts = await Promise.all(
      visible.map(async (a) => ({
        id: a.id,
        name: a.name,
        last_position: await store.lastPosition(a.id),
      })),
    )
    return c.json({ accounts, caller: caller.kind })
  })

  app.post('/accounts', async (c) => {
    requireServer(c, 'Creating an account')
    const parsed = z
      .object({ name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/) })
      .strict()
      .safeParse(await jsonBody(c))
    if (!parsed.success) {
      throw invalid(`Account: ${issues(parsed.error)} (lower-case letters, digits and dashes).`)
    }
    const existing = await store.getAccountByName(parsed.data.name)
    const account = existing ?? (await store.createAccount(parsed.data.name))
    // An owner token for the connector under test, shown once (like `tokens create`).
    const { token } = await issueToken(store, {
      accountId: account.id,
      role: 'owner',
      scopes: ['read', 'write'],
      label: 'admin-api',
      now: clock.now(),
    })
    return c.json({ id: account.id, name: account.name, created: !existing, token }, 201)
  })

  app.use('/accounts/:name/*', async function resolveAccount(c, next) {
    const name = c.req.param('name') ?? ''
    const account = await store.getAccountByName(name)
    const caller = c.var.caller
    if (caller.kind === 'owner' && account?.id !== caller.accountId) {
      // The same answer whether or not the account exists: an owner learns nothing of others.
      throw new AppError(
        'ADMIN_FORBIDDEN',
        `This owner token administers its own account only, not "${name}".`,
      )
    }
    if (!account) throw new AppError('ACCOUNT_NOT_FOUND', `There is no account named "${name}".`)
    c.set('account', account)
    return next()
  })

  app.post('/accounts/:name/reset', async (c) => {
    statsCache.clear()
    const raw = await jsonBody(c, true)
    let seed
    if (raw !== undefined && !(typeof raw === 'object' && raw && Object.keys(raw).length === 0)) {
      const parsed = resetSchema.safeParse(raw)
      if (!parsed.success) throw invalid(`Reset options: ${issues(parsed.error)}.`)
      const arrivals = parsed.data.days * 24 * parsed.data.arrivals_per_hour
      if (arrivals > MAX_RESET_ARRIVALS) {
        throw invalid(
          `Reset options: days × 24 × arrivals_per_hour is ${Math.round(arrivals)}, above the ${MAX_RESET_ARRIVALS} arrivals one reset may simulate (it is one transaction). ` +
            'Ask for fewer days or arrivals, or build a longer history with `chat-export simulate`, which posts events in batches.',
        )
      }
      seed = {
        seed: parsed.data.seed,
        days: parsed.data.days,
        arrivalsPerHour: parsed.data.arrivals_per_hour,
      }
    }
    const account = c.var.account
    const result = await resetAccount(store, account.id, clock.now(), seed)
    return c.json({
      account: account.name,
      seeded: seed !== undefined,
      events: result.events,
      last_position: await store.lastPosition(account.id),
    })
  })

  app.get('/accounts/:name/faults', (c) =>
    c.json({ faults: admin.script(c.var.account.id).list().map(faultRuleJson) }),
  )
  const parseRules = async (c: AdminContext) => {
    try {
      return parseFaultRules(await jsonBody(c))
    } catch (err) {
      if (err instanceof AppError) throw err
      throw invalid(`${(err as Error).message}. See docs/admin.md for the rule shape.`)
    }
  }
  app.put('/accounts/:name/faults', async (c) => {
    const rules = await parseRules(c)
    return c.json({ faults: admin.script(c.var.account.id).replace(rules).map(faultRuleJson) })
  })
  app.post('/accounts/:name/faults', async (c) => {
    const rules = await parseRules(c)
    const script = admin.script(c.var.account.id)
    return c.json({ faults: rules.map((rule) => faultRuleJson(script.add(rule))) }, 201)
  })
  app.delete('/accounts/:name/faults', (c) => {
    admin.script(c.var.account.id).clear()
    return c.json({ faults: [] })
  })

  app.get('/accounts/:name/requests', (c) =>
    c.json({
      requests: admin.journal.list(c.var.account.id, journalFilter(c)).map(entryJson),
    }),
  )
  app.get('/accounts/:name/requests/stream', (c) => {
    const filter = journalFilter(c)
    const accountId = c.var.account.id
    return streamSSE(c, async (sse) => {
      const queue: JournalEntry[] = []
      let wake: (() => void) | undefined
      const unsubscribe = admin.journal.subscribe(accountId, (entry) => {
        if (!matches(entry, filter)) return
        queue.push(entry)
        wake?.()
      })
      sse.onAbort(() => {
        unsubscribe()
        wake?.()
      })
      try {
        await sse.writeSSE({ event: 'ready', data: '{}' })
        while (!sse.aborted && !sse.closed) {
          const entry = queue.shift()
          if (entry) {
            await sse.writeSSE({
              event: 'request',
              id: String(entry.id),
              data: JSON.stringify(entryJson(entry)),
            })
            continue
          }
          // Wait for an entry, or 15 s for a comment that keeps proxies from closing the stream.
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, 15_000)
            wake = () => {
              clearTimeout(timer)
              resolve()
            }
          })
          wake = undefined
          if (queue.length === 0 && !sse.aborted) await sse.write(': keep-alive\n\n')
        }
      } finally {
        unsubscribe()
      }
    })
  })

  // The console polls: one scan per account and window every few seconds, shared by every tab.
  const statsCache = new Map<string, { at: number; stats: Promise<AccountStats> }>()
  const cachedStats = (accountId: number, hours: number): Promise<AccountStats> => {
    const key = `${accountId}:${hours}`
    const now = clock.now()
    const hit = statsCache.get(key)
    if (hit && now - hit.at < STATS_TTL_MICROS) return hit.stats
    const stats = accountStats(store, accountId, now, hours)
    statsCache.set(key, { at: now, stats })
    stats.catch(() => statsCache.delete(key))
    return stats
  }

  app.get('/accounts/:name/stats', async (c) => {
    const hours = Number(c.req.query('window_hours') ?? '48')
    if (!(Number.isInteger(hours) && hours >= 1 && hours <= 24 * 31)) {
      throw invalid('window_hours must be an integer from 1 to 744.')
    }
    return c.json(await cachedStats(c.var.account.id, hours))
  })

  app.get('/accounts/:name/tail', async (c) => {
    const stream = c.req.query('stream') ?? 'chats'
    if (!isStreamName(stream)) throw invalid(`stream: unknown stream "${stream}".`)
    const after = c.req.query('after')
    const last = await store.lastPosition(c.var.account.id)
    // Without `after`: the last ten minutes (the newest items, not the stream's first page).
    const afterPosition = after === undefined ? Math.max(0, last - 600_000_000) : parseIso(after)
    if (!isSupportedTime(afterPosition))
      throw invalid(`after must be an ISO time from ${SUPPORTED_TIME_RANGE}.`)
    return c.json({
      last_position: last > 0 ? formatIso(last) : null,
      items: await newestItems(store, c.var.account.id, stream, afterPosition),
    })
  })

  app.get('/clock', (c) =>
    c.json({ mode: admin.manualClock ? 'manual' : 'system', now: formatIso(clock.now()) }),
  )
  app.post('/clock', async (c) => {
    requireServer(c, 'Moving the clock')
    const manual = admin.manualClock
    if (!manual) {
      throw new AppError(
        'CLOCK_NOT_MANUAL',
        'The server runs on the wall clock. Start it with --clock manual to move time from the admin API.',
      )
    }
    const parsed = clockSchema.safeParse(await jsonBody(c))
    if (!parsed.success) throw invalid(`Clock: ${issues(parsed.error)}.`)
    if ('advance_seconds' in parsed.data) {
      manual.advance(Math.round(parsed.data.advance_seconds * 1e6))
    } else {
      const to = parseIso(parsed.data.set)
      if (!isSupportedTime(to))
        throw invalid(
          `set must be an ISO time such as 2024-01-01T00:00:00Z, from ${SUPPORTED_TIME_RANGE}.`,
        )
      // Time only moves forward: positions must keep increasing.
      if (to < manual.now())
        throw invalid('set must not be earlier than the clock (time only moves forward).')
      manual.set(to)
    }
    return c.json({ mode: 'manual', now: formatIso(clock.now()) })
  })

  return app
}
