/**
 * The Chat REST API outside the export, for the directory resources (chat-rest-api.md §1 rows
 * 1–18 and 24–35): account, agents, bans, departments, goals, roles, routing settings, shortcuts,
 * skills, triggers, visitors. Mounted under `/api/v2/chat` and the legacy `/api/v2`.
 *
 * Same tokens, roles and account isolation as the exports: reads need the `read` scope, writes the
 * `write` scope, both the owner or administrator role; every store call names the token's account.
 * Envelopes as §0: bare arrays ascending by id (200 `[]` when empty, never 404), bans as two arrays,
 * routing settings under `data`, single resources bare, 404 only for a missing single resource.
 * @module
 */
import type { Context, MiddlewareHandler } from 'hono'
import { Hono } from 'hono'
import { every } from 'hono/combine'
import type { Clock } from '../domain/clock.js'
import { AppError } from '../domain/errors.js'
import { parseIdWindow } from '../domain/rest/id-window.js'
import { clip } from '../domain/rest/id-window.js'
import { renderBans, renderData, renderList, renderRecord } from '../domain/rest/render.js'
import type { CollectionKind, DirectoryKind, ResourceSpec } from '../domain/rest/resources.js'
import {
  defaultAccount,
  defaultAccountRouting,
  RESOURCES,
  SINGLETON_ID,
} from '../domain/rest/resources.js'
import { buildCreated, buildUpdated } from '../domain/rest/write-body.js'
import {
  parseChatSearchQuery,
  parseSearchPage,
  SEARCH_PAGE_SIZE,
} from '../domain/rest/chat-search.js'
import {
  DEFAULT_CHAT_LIST_LIMIT,
  isLiveChat,
  MAX_CHAT_LIST_LIMIT,
  renderChat,
  searchResult,
} from '../domain/rest/chats.js'
import type {
  ChatReader,
  DirectoryEntry,
  DirectoryStore,
  DirectoryWriteTx,
} from '../store/directory-port.js'
import type { Store } from '../store/store.js'
import type { AuthVariables } from './auth.js'
import { authorize } from './auth.js'

type Json = Record<string, unknown>
type Ctx = Context<{ Variables: AuthVariables }>
type Handler = (c: Ctx) => Promise<Response>

export interface RestRoutesOptions {
  store: Store
  directory: DirectoryStore
  clock: Clock
  /** The chats outside the export; `/chats…` routes are served when given. */
  chats?: ChatReader | undefined
  /** Public base URL (scheme://host[:port]) for `next_url` and search result `url`s. */
  publicUrl?: string | undefined
  /** Authentication (and rate limit, faults) run before every handler here. */
  guards: MiddlewareHandler<{ Variables: AuthVariables }>[]
}

/** Largest write body read (directory records are small; a trigger definition is the largest). */
const MAX_BODY_BYTES = 1024 * 1024
const DIGITS = /^\d+$/
const WRITE_ROLES = ['owner', 'administrator'] as const
const READ_ROLES = ['owner', 'administrator'] as const

/** The directory routes; mount once per path shape. */
export function restRoutes(options: RestRoutesOptions): Hono<{ Variables: AuthVariables }> {
  const app = new Hono<{ Variables: AuthVariables }>()
  const { directory } = options
  const methods = new Map<string, Set<string>>()
  // One middleware for the guards, so each route is (guard, handler) and typed as such.
  const guard = every(...options.guards)

  const on = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, h: Handler) => {
    const allowed = methods.get(path) ?? new Set<string>()
    allowed.add(method)
    if (method === 'PUT') allowed.add('PATCH')
    methods.set(path, allowed)
    app.on(method, path, guard, h)
    // zenpy updates with PUT, amp with PATCH: both are the same partial update here.
    if (method === 'PUT') app.on('PATCH', path, guard, h)
  }

  const read = (c: Ctx, what: string) => {
    authorize(c.var.token, READ_ROLES, 'read', `Reading ${what}`)
    return c.var.token.accountId
  }
  const write = (c: Ctx, what: string) => {
    authorize(c.var.token, WRITE_ROLES, 'write', `Changing ${what}`)
    return c.var.token.accountId
  }

  // ---- singletons: account and account routing settings -----------------------------------

  const currentAccount = async (accountId: number): Promise<Json> => {
    const stored = await directory.getEntry(accountId, 'account', SINGLETON_ID)
    if (stored) return parse(stored)
    const account = await options.store.getAccountById(accountId)
    return defaultAccount(accountId, account?.createdAt ?? 0)
  }
  const currentRouting = async (accountId: number): Promise<Json> => {
    const stored = await directory.getEntry(accountId, 'account_routing', SINGLETON_ID)
    return stored ? parse(stored) : defaultAccountRouting()
  }

  on('GET', '/account', async (c) => {
    const accountId = read(c, 'the account')
    return c.json(renderRecord('account', await currentAccount(accountId)))
  })
  on('PUT', '/account', async (c) => {
    const accountId = write(c, 'the account')
    const body = await readBody(c)
    const existing = await currentAccount(accountId)
    const record = buildUpdated(RESOURCES.account, existing, body)
    await directory.writeDirectory(accountId, (tx) => tx.putEntry('account', singleton(record)))
    return c.json(renderRecord('account', record))
  })

  on('GET', '/routing_settings/account', async (c) => {
    const accountId = read(c, 'the routing settings')
    return c.json(renderData(renderRecord('account_routing', await currentRouting(accountId))))
  })
  // amp writes routing settings with PATCH ("updatesByPatch"); PUT is accepted alike.
  on('PUT', '/routing_settings/account', async (c) => {
    const accountId = write(c, 'the routing settings')
    const body = await readBody(c)
    const record = buildUpdated(RESOURCES.account_routing, await currentRouting(accountId), body)
    await directory.writeDirectory(accountId, (tx) =>
      tx.putEntry('account_routing', singleton(record)),
    )
    return c.json(renderData(renderRecord('account_routing', record)))
  })

  // ---- agent routing settings -----------------------------------------------------------------

  const agentRouting = async (accountId: number, agentId: number): Promise<Json> => {
    const stored = await directory.getEntry(accountId, 'agent_routing', String(agentId))
    return stored
      ? parse(stored)
      : RESOURCES.agent_routing.defaults({ accountId, allocatedId: agentId, now: 0 }, {})
  }
  const routingAgentId = async (c: Ctx, accountId: number): Promise<number> => {
    const id = c.req.param('id')
    if (id === undefined) return Number((await meAgent(accountId))['id'])
    const entry = DIGITS.test(id) ? await directory.getEntry(accountId, 'agent', id) : undefined
    if (!entry) throw notFound('agent', id)
    return Number(entry.id)
  }

  on('GET', '/routing_settings/agents', async (c) => {
    const accountId = read(c, 'agent routing settings')
    const agents = await directory.listEntries(accountId, 'agent', null)
    const data = []
    for (const agent of agents) {
      data.push(renderRecord('agent_routing', await agentRouting(accountId, Number(agent.id))))
    }
    return c.json(renderData(data))
  })
  for (const path of ['/routing_settings/agents/me', '/routing_settings/agents/:id']) {
    on('GET', path, async (c) => {
      const accountId = read(c, 'agent routing settings')
      const agentId = await routingAgentId(c, accountId)
      return c.json(
        renderData(renderRecord('agent_routing', await agentRouting(accountId, agentId))),
      )
    })
    on('PUT', path, async (c) => {
      const accountId = write(c, 'agent routing settings')
      const body = await readBody(c)
      const agentId = await routingAgentId(c, accountId)
      const record = buildUpdated(
        RESOURCES.agent_routing,
        await agentRouting(accountId, agentId),
        body,
      )
      await directory.writeDirectory(accountId, (tx) =>
        tx.putEntry('agent_routing', toEntry(RESOURCES.agent_routing, record)),
      )
      return c.json(renderData(renderRecord('agent_routing', record)))
    })
  }

  // ---- collections -----------------------------------------------------------------------------

  /** The agent `/me` stands for: tokens name no agent, so the account owner (lowest id) [INF]. */
  const meAgent = async (accountId: number): Promise<Json> => {
    const agents = (await directory.listEntries(accountId, 'agent', null)).map(parse)
    const owner = agents.find((a) => (a['roles'] as { owner?: boolean } | undefined)?.owner)
    if (!owner) {
      throw new AppError(
        'RESOURCE_NOT_FOUND',
        '/agents/me stands for the account owner, and this account has no agent whose roles.owner is true. Ask for /agents/{id} instead.',
      )
    }
    return owner
  }

  /** Resolves a path id to the stored entry, or 404. */
  const resolve = async (
    accountId: number,
    spec: ResourceSpec,
    param: string,
    tx?: DirectoryWriteTx,
  ): Promise<DirectoryEntry> => {
    const source = tx ?? {
      getEntry: (kind: DirectoryKind, id: string) => directory.getEntry(accountId, kind, id),
      findEntry: (kind: DirectoryKind, key: string) => directory.findEntry(accountId, kind, key),
    }
    let entry: DirectoryEntry | undefined
    if (spec.idStyle === 'integer') {
      // §7.3: /triggers/{x} is an id when all digits, else a name (zenpy addresses triggers by name).
      if (DIGITS.test(param)) entry = await source.getEntry(spec.kind, String(Number(param)))
      else if (spec.kind === 'trigger') entry = await source.findEntry(spec.kind, param)
    } else {
      entry = await source.getEntry(spec.kind, param)
    }
    if (!entry) throw notFound(spec.singular, param)
    return entry
  }

  /** Refuses a look-up key (name, email, shortcut id) another record of the account holds. */
  const checkUnique = async (
    tx: DirectoryWriteTx,
    spec: ResourceSpec,
    record: Json,
    creating: boolean,
  ) => {
    const entry = toEntry(spec, record)
    const clash =
      spec.kind === 'shortcut'
        ? await tx.getEntry(spec.kind, entry.id)
        : spec.uniqueLookup && entry.lookup !== null
          ? await tx.findEntry(spec.kind, entry.lookup)
          : undefined
    // On create any holder is another record (a shortcut's id is its name, so it may be equal).
    if (clash && (creating || clash.id !== entry.id)) {
      throw new AppError(
        'RESOURCE_CONFLICT',
        `A ${spec.singular} with ${spec.kind === 'agent' ? 'email' : 'name'} "${clip(entry.lookup ?? entry.id)}" already exists (id ${clash.id}). Choose another or update that one.`,
      )
    }
    return entry
  }

  const collection = (kind: CollectionKind, verbs: { create?: boolean; remove?: boolean }) => {
    const spec = RESOURCES[kind]
    const base = `/${spec.path}`
    const what = spec.path

    on('GET', base, async (c) => {
      const accountId = read(c, what)
      // Only agents and bans page by id (§2.3); other lists ignore limit (old Airbyte sends it).
      const window =
        kind === 'agent' || kind === 'ban' ? parseIdWindow(new URL(c.req.url).searchParams) : null
      const records = (await directory.listEntries(accountId, kind, window)).map(parse)
      return c.json(kind === 'ban' ? renderBans(records) : renderList(kind, records))
    })
    on('GET', `${base}/:id`, async (c) => {
      const accountId = read(c, what)
      const entry = await resolve(accountId, spec, param(c, 'id'))
      return c.json(renderRecord(kind, parse(entry)))
    })
    if (verbs.create) {
      on('POST', base, async (c) => {
        const accountId = write(c, what)
        const body = await readBody(c)
        const now = options.clock.now()
        const record = await directory.writeDirectory(accountId, async (tx) => {
          const allocatedId = spec.idStyle === 'name' ? 0 : await tx.allocateId(kind)
          const created = buildCreated(spec, body, { accountId, allocatedId, now })
          await tx.putEntry(kind, await checkUnique(tx, spec, created, true))
          return created
        })
        return c.json(renderRecord(kind, record), 201)
      })
    }
    if (kind !== 'ban') {
      on('PUT', `${base}/:id`, async (c) => {
        const accountId = write(c, what)
        const body = await readBody(c)
        const record = await directory.writeDirectory(accountId, async (tx) => {
          const entry = await resolve(accountId, spec, param(c, 'id'), tx)
          const updated = buildUpdated(spec, parse(entry), body)
          await tx.putEntry(kind, await checkUnique(tx, spec, updated, false))
          return updated
        })
        return c.json(renderRecord(kind, record))
      })
    }
    if (verbs.remove) {
      on('DELETE', `${base}/:id`, async (c) => {
        const accountId = write(c, what)
        await directory.writeDirectory(accountId, async (tx) => {
          const entry = await resolve(accountId, spec, param(c, 'id'), tx)
          await tx.deleteEntry(kind, entry.id)
          if (kind === 'agent') await tx.deleteEntry('agent_routing', entry.id)
        })
        return c.body(null, 204)
      })
    }
  }

  // Specific paths before the /:id ones: Hono answers with the first matching handler.
  on('GET', '/agents/me', async (c) => {
    const accountId = read(c, 'agents')
    return c.json(renderRecord('agent', await meAgent(accountId)))
  })
  on('GET', '/agents/email/:email', async (c) => {
    const accountId = read(c, 'agents')
    const email = param(c, 'email')
    const entry = await directory.findEntry(accountId, 'agent', email.toLowerCase())
    if (!entry) throw notFound('agent', email)
    return c.json(renderRecord('agent', parse(entry)))
  })
  on('GET', '/bans/ip', async (c) => {
    const accountId = read(c, 'bans')
    const records = (await directory.listEntries(accountId, 'ban', null)).map(parse)
    return c.json(renderBans(records).ip_address)
  })
  for (const kind of ['department', 'skill'] as const) {
    const spec = RESOURCES[kind]
    on('GET', `/${spec.path}/name/:name`, async (c) => {
      const accountId = read(c, spec.path)
      const name = param(c, 'name')
      const entry = await directory.findEntry(accountId, kind, name)
      if (!entry) throw notFound(spec.singular, name)
      return c.json(renderRecord(kind, parse(entry)))
    })
  }

  collection('agent', { create: true, remove: true })
  collection('ban', { create: true, remove: true })
  collection('department', { create: true, remove: true })
  collection('goal', { create: true, remove: true })
  collection('role', { create: true })
  collection('skill', { create: true, remove: true })
  collection('shortcut', { create: true, remove: true })
  collection('trigger', { create: true, remove: true })
  visitorRoutes()
  if (options.chats) chatRoutes(options.chats)

  /** `/chats` outside the export (§3.12), read-only here: chat writes go through the fold. */
  function chatRoutes(chats: ChatReader) {
    /** The request's own scheme, host and path shape (`/api/v2/chat` or `/api/v2`). */
    const base = (c: Ctx) => {
      const url = new URL(c.req.url)
      const origin = options.publicUrl ? options.publicUrl.replace(/\/+$/, '') : url.origin
      return { url, origin, prefix: url.pathname.replace(/\/chats(?:\/.*)?$/, '') }
    }
    const parseChats = (bodies: Iterable<string>) =>
      [...bodies].map((b) => JSON.parse(b) as Json).filter(isLiveChat)

    on('GET', '/chats/search', async (c) => {
      const accountId = read(c, 'chats')
      const { url, origin, prefix } = base(c)
      const query = parseChatSearchQuery(url.searchParams.get('q'))
      const { page, offset } = parseSearchPage(url.searchParams)
      const found = await chats.searchChats(accountId, query, offset, SEARCH_PAGE_SIZE)
      const results = parseChats(found.chats).map((chat) =>
        searchResult(chat, `${origin}${prefix}/chats/${encodeURIComponent(String(chat['id']))}`),
      )
      let nextUrl: string | null = null
      if (offset + SEARCH_PAGE_SIZE < found.total && page < 250) {
        const next = new URLSearchParams(url.searchParams)
        next.set('page', String(page + 1))
        nextUrl = `${origin}${url.pathname}?${next.toString()}`
      }
      return c.json({ results, count: found.total, next_url: nextUrl })
    })
    on('GET', '/chats/:id', async (c) => {
      const accountId = read(c, 'chats')
      const id = param(c, 'id')
      const body = (await chats.getChats(accountId, [id])).get(id)
      const chat = body === undefined ? undefined : (JSON.parse(body) as Json)
      if (!chat || !isLiveChat(chat)) throw notFound('chat', id)
      return c.json(renderChat(chat))
    })
    on('GET', '/chats', async (c) => {
      const accountId = read(c, 'chats')
      const { url, origin } = base(c)
      const ids = url.searchParams.get('ids')
      if (ids !== null) {
        // Bulk read: {"docs": {"<id>": chat}, "count": n}, keyed by id (§7.13); unknown ids left out.
        const wanted = [
          ...new Set(
            ids
              .split(',')
              .map((s) => s.trim())
              .filter((s) => s !== ''),
          ),
        ]
        const found = parseChats((await chats.getChats(accountId, wanted)).values())
        const docs: Json = {}
        for (const chat of found) docs[String(chat['id'])] = renderChat(chat)
        return c.json({ docs, count: found.length })
      }
      const limit = chatListLimit(url.searchParams.get('limit'))
      const cursor = url.searchParams.get('cursor')
      const afterId = cursor === null || cursor === '' ? null : decodeCursor(cursor)
      const bodies = await chats.listChats(accountId, afterId, limit)
      const page = bodies.map((b) => JSON.parse(b) as Json)
      const live = page.filter(isLiveChat).map(renderChat)
      const body: Json = { chats: live, count: live.length }
      // A full page may have more behind it; the last page carries next_url null (§3.12).
      const last = page[page.length - 1]
      body['next_url'] =
        page.length === limit && last
          ? `${origin}${url.pathname}?${new URLSearchParams({
              ...(url.searchParams.get('limit') ? { limit: String(limit) } : {}),
              cursor: encodeCursor(String(last['id'])),
            }).toString()}`
          : null
      return c.json(body)
    })
  }

  function visitorRoutes() {
    const spec = RESOURCES.visitor
    // No visitor list is documented; a visitor is read and written by id.
    on('POST', '/visitors', async (c) => {
      const accountId = write(c, 'visitors')
      const body = await readBody(c)
      const now = options.clock.now()
      const record = await directory.writeDirectory(accountId, async (tx) => {
        const created = buildCreated(spec, body, {
          accountId,
          allocatedId: await tx.allocateId('visitor'),
          now,
        })
        await tx.putEntry('visitor', toEntry(spec, created))
        return created
      })
      return c.json(renderRecord('visitor', record), 201)
    })
    on('GET', '/visitors/:id', async (c) => {
      const accountId = read(c, 'visitors')
      return c.json(renderRecord('visitor', parse(await resolve(accountId, spec, param(c, 'id')))))
    })
    on('PUT', '/visitors/:id', async (c) => {
      const accountId = write(c, 'visitors')
      const body = await readBody(c)
      const record = await directory.writeDirectory(accountId, async (tx) => {
        const entry = await resolve(accountId, spec, param(c, 'id'), tx)
        const updated = buildUpdated(spec, parse(entry), body)
        await tx.putEntry('visitor', toEntry(spec, updated))
        return updated
      })
      return c.json(renderRecord('visitor', record))
    })
  }

  // A known path with a method it does not serve: 405 with Allow, as the export routes do.
  for (const [path, allowed] of methods) {
    app.all(path, () => {
      throw new AppError(
        'METHOD_NOT_ALLOWED',
        `The method is not allowed for the requested URL. This path serves ${[...allowed].join(', ')}.`,
        { headers: { allow: [...allowed].join(', ') } },
      )
    })
  }
  return app
}

/** The stored entry of a validated record. */
export function toEntry(spec: ResourceSpec, record: Json): DirectoryEntry {
  const id = record['id']
  return {
    id: String(id),
    numericId: typeof id === 'number' ? id : null,
    lookup: spec.lookup(record),
    body: JSON.stringify(record),
  }
}

function chatListLimit(raw: string | null): number {
  if (raw === null || raw === '') return DEFAULT_CHAT_LIST_LIMIT
  const value = Number(raw)
  if (!DIGITS.test(raw) || value === 0) {
    throw new AppError(
      'INVALID_LIMIT',
      `limit must be a positive integer, not "${clip(raw)}". Use 1 to ${MAX_CHAT_LIST_LIMIT} (default ${DEFAULT_CHAT_LIST_LIMIT}).`,
    )
  }
  return Math.min(value, MAX_CHAT_LIST_LIMIT)
}

/** The `/chats` cursor: the last chat id served, opaque to clients (base64url). */
function encodeCursor(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url')
}

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8')
  if (id === '' || encodeCursor(id) !== cursor) {
    throw new AppError(
      'INVALID_CURSOR',
      'cursor is not one this server issued. Follow next_url as given, or start without a cursor.',
    )
  }
  return id
}

/** A path parameter of the matched route (always present: the route declares it). */
function param(c: Ctx, name: string): string {
  return c.req.param(name) ?? ''
}

function singleton(record: Json): DirectoryEntry {
  return { id: SINGLETON_ID, numericId: null, lookup: null, body: JSON.stringify(record) }
}

function parse(entry: DirectoryEntry): Json {
  return JSON.parse(entry.body) as Json
}

async function readBody(c: Ctx): Promise<unknown> {
  const text = await c.req.text()
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
    throw new AppError(
      'PAYLOAD_TOO_LARGE',
      `The body is larger than ${MAX_BODY_BYTES} bytes; directory records are small JSON objects.`,
    )
  }
  if (text.trim() === '') {
    throw new AppError('INVALID_BODY', 'The body is empty. Send a JSON object of fields.')
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new AppError(
      'INVALID_BODY',
      'The body is not valid JSON. Send a JSON object with Content-Type: application/json.',
    )
  }
}

function notFound(what: string, id: string): AppError {
  return new AppError(
    'RESOURCE_NOT_FOUND',
    `There is no ${what} "${clip(id)}" in this account. List them with GET on the collection.`,
  )
}
