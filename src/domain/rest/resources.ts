/**
 * The directory resources as data: for each, its path segment, wire schema, how its id looks,
 * which fields a write may set, which a create needs, its defaults and its look-up key (name or
 * email). Routes and stores read this table instead of knowing each resource.
 * @module
 */
import type { z } from 'zod'
import type { Micros } from '../time.js'
import { formatIso } from '../time.js'
import type { AccountRoutingWire, AccountWire } from './schemas.js'
import {
  accountRoutingSchema,
  accountSchema,
  agentRoutingSchema,
  agentSchema,
  agentWriteExtras,
  banSchema,
  departmentSchema,
  goalSchema,
  roleSchema,
  shortcutSchema,
  skillSchema,
  triggerSchema,
  visitorSchema,
} from './schemas.js'

/** Resources served as id-addressed collections. */
export type CollectionKind =
  | 'agent'
  | 'ban'
  | 'department'
  | 'goal'
  | 'role'
  | 'skill'
  | 'shortcut'
  | 'trigger'
  | 'visitor'
  | 'agent_routing'

/** Resources the account has exactly one of. */
export type SingletonKind = 'account' | 'account_routing'

/** Everything the directory store keeps, by kind. */
export type DirectoryKind = CollectionKind | SingletonKind

/** How a resource's id is written: integer, its name (shortcuts), or a visitor's string id. */
export type IdStyle = 'integer' | 'name' | 'visitor'

/** The context a create fills defaults from. */
export interface CreateContext {
  accountId: number
  /** The id the store allocated (shortcuts use their name instead). */
  allocatedId: number
  now: Micros
}

export interface ResourceSpec {
  kind: DirectoryKind
  /** Path segment after `/api/v2/chat/`. */
  path: string
  /** The envelope key zenpy wraps a body in (`{"account": {...}}`), unwrapped on writes. */
  singular: string
  schema: z.ZodType<Record<string, unknown>, unknown>
  idStyle: IdStyle
  /** Sent back by clients that echo whole objects: ignored on writes, never an error. */
  readOnly: readonly string[]
  /** Needed on create (400 naming the first missing one). */
  required: readonly string[]
  /** Accepted in write bodies but never stored (agent `password`). */
  writeOnly: readonly string[]
  /** The full record a create starts from; the body is merged over it. */
  defaults(ctx: CreateContext, body: Record<string, unknown>): Record<string, unknown>
  /** The look-up key (`/name/{name}`, `/email/{email}`), normalised; null when none. */
  lookup(record: Record<string, unknown>): string | null
  /** Whether two records of the account may not share a look-up key (409 on writes). */
  uniqueLookup: boolean
}

const iso = (now: Micros) => formatIso(Math.floor(now / 1_000_000) * 1_000_000)
const byName = (record: Record<string, unknown>) =>
  typeof record['name'] === 'string' ? record['name'] : null

const agent: ResourceSpec = {
  kind: 'agent',
  path: 'agents',
  singular: 'agent',
  schema: agentSchema,
  idStyle: 'integer',
  readOnly: ['id', 'create_date', 'last_login', 'login_count', 'roles'],
  required: ['email', 'password'],
  writeOnly: Object.keys(agentWriteExtras.shape),
  defaults: (ctx) => ({
    id: ctx.allocatedId,
    first_name: '',
    last_name: '',
    display_name: '',
    email: '',
    enabled: true,
    role_id: null,
    roles: { administrator: false, owner: false },
    departments: [],
    enabled_departments: [],
    skills: [],
    create_date: iso(ctx.now),
    last_login: null,
    login_count: 0,
    scope: 'all',
  }),
  // Emails compare without case, as mail systems do.
  lookup: (record) => (typeof record['email'] === 'string' ? record['email'].toLowerCase() : null),
  uniqueLookup: true,
}

const ban: ResourceSpec = {
  kind: 'ban',
  path: 'bans',
  singular: 'ban',
  schema: banSchema,
  idStyle: 'integer',
  readOnly: ['id', 'created_at', 'type'],
  required: [],
  writeOnly: [],
  defaults: (ctx, body) => ({
    id: ctx.allocatedId,
    reason: '',
    created_at: iso(ctx.now),
    // The kind follows from the key given: a ban names an IP address or a visitor.
    ...('visitor_id' in body
      ? { type: 'visitor', visitor_id: '', visitor_name: '' }
      : { type: 'ip_address', ip_address: '' }),
  }),
  lookup: () => null,
  uniqueLookup: false,
}

const department: ResourceSpec = {
  kind: 'department',
  path: 'departments',
  singular: 'department',
  schema: departmentSchema,
  idStyle: 'integer',
  readOnly: ['id'],
  required: ['name'],
  writeOnly: [],
  defaults: (ctx) => ({
    id: ctx.allocatedId,
    name: '',
    description: '',
    enabled: true,
    members: [],
    settings: {
      chat_enabled: true,
      solved_ticket_reassignment_strategy: '',
      support_group_id: null,
    },
  }),
  lookup: byName,
  uniqueLookup: true,
}

const goal: ResourceSpec = {
  kind: 'goal',
  path: 'goals',
  singular: 'goal',
  schema: goalSchema,
  idStyle: 'integer',
  readOnly: ['id'],
  required: ['name'],
  writeOnly: [],
  defaults: (ctx) => ({
    id: ctx.allocatedId,
    name: '',
    description: '',
    enabled: true,
    attribution_model: 'last_touch',
    attribution_period: 30,
    settings: { conditions: [] },
  }),
  lookup: () => null,
  uniqueLookup: false,
}

const role: ResourceSpec = {
  kind: 'role',
  path: 'roles',
  singular: 'role',
  schema: roleSchema,
  idStyle: 'integer',
  readOnly: ['id', 'members_count'],
  required: ['name'],
  writeOnly: [],
  defaults: (ctx) => ({
    id: ctx.allocatedId,
    name: '',
    description: '',
    enabled: true,
    members_count: 0,
    permissions: {},
  }),
  lookup: () => null,
  uniqueLookup: false,
}

const skill: ResourceSpec = {
  kind: 'skill',
  path: 'skills',
  singular: 'skill',
  schema: skillSchema,
  idStyle: 'integer',
  readOnly: ['id'],
  required: ['name'],
  writeOnly: [],
  defaults: (ctx) => ({
    id: ctx.allocatedId,
    name: '',
    description: '',
    enabled: true,
    members: [],
  }),
  lookup: byName,
  uniqueLookup: true,
}

const shortcut: ResourceSpec = {
  kind: 'shortcut',
  path: 'shortcuts',
  singular: 'shortcut',
  schema: shortcutSchema,
  idStyle: 'name',
  readOnly: ['id'],
  required: ['name', 'message'],
  writeOnly: [],
  // "For backward compatibility, name is equal to id": the id is set from the name after merging.
  defaults: () => ({
    id: '',
    name: '',
    message: '',
    options: '',
    tags: [],
    scope: 'all',
    departments: [],
    agents: [],
  }),
  lookup: byName,
  uniqueLookup: true,
}

const trigger: ResourceSpec = {
  kind: 'trigger',
  path: 'triggers',
  singular: 'trigger',
  schema: triggerSchema,
  idStyle: 'integer',
  readOnly: ['id'],
  required: ['name'],
  writeOnly: [],
  defaults: (ctx) => ({
    id: ctx.allocatedId,
    name: '',
    description: '',
    enabled: true,
    definition: { event: 'chat_requested', condition: ['and'], actions: [] },
  }),
  // zenpy addresses triggers by name (§7.3), so names are unique.
  lookup: byName,
  uniqueLookup: true,
}

const visitor: ResourceSpec = {
  kind: 'visitor',
  path: 'visitors',
  singular: 'visitor',
  schema: visitorSchema,
  idStyle: 'visitor',
  readOnly: ['id', 'created', 'banned'],
  required: [],
  writeOnly: [],
  defaults: (ctx) => ({
    id: `${ctx.accountId}.${ctx.allocatedId}`,
    name: '',
    email: '',
    phone: '',
    notes: '',
    external_id: '',
    banned: false,
    created: iso(ctx.now),
  }),
  lookup: () => null,
  uniqueLookup: false,
}

const agentRouting: ResourceSpec = {
  kind: 'agent_routing',
  path: 'routing_settings/agents',
  singular: 'data',
  schema: agentRoutingSchema,
  idStyle: 'integer',
  readOnly: ['id'],
  required: [],
  writeOnly: [],
  // One per agent, keyed by the agent's id (allocatedId carries it).
  defaults: (ctx) => ({ id: ctx.allocatedId, chat_limit: { enabled: false, limit: 3 } }),
  lookup: () => null,
  uniqueLookup: false,
}

const account: ResourceSpec = {
  kind: 'account',
  path: 'account',
  singular: 'account',
  schema: accountSchema,
  idStyle: 'name',
  readOnly: ['account_key', 'create_date', 'plan'],
  required: [],
  writeOnly: [],
  defaults: (ctx) => defaultAccount(ctx.accountId, ctx.now),
  lookup: () => null,
  uniqueLookup: false,
}

const accountRouting: ResourceSpec = {
  kind: 'account_routing',
  path: 'routing_settings/account',
  singular: 'data',
  schema: accountRoutingSchema,
  idStyle: 'name',
  readOnly: [],
  required: [],
  writeOnly: [],
  defaults: () => defaultAccountRouting(),
  lookup: () => null,
  uniqueLookup: false,
}

/** Every directory resource, by kind. */
export const RESOURCES: Readonly<Record<DirectoryKind, ResourceSpec>> = {
  agent,
  ban,
  department,
  goal,
  role,
  skill,
  shortcut,
  trigger,
  visitor,
  agent_routing: agentRouting,
  account,
  account_routing: accountRouting,
}

/** The id singletons are stored under. */
export const SINGLETON_ID = 'singleton'

/**
 * The account object an account has before anything was written to it: what `GET /account`
 * serves rather than a 404 (singer drops the stream on anything but 200). The key is derived from
 * the account id so it is stable across restarts and stores.
 */
export function defaultAccount(accountId: number, createdAt: Micros): AccountWire {
  return {
    account_key: `chatexport${String(accountId).padStart(22, '0')}`,
    status: 'active',
    create_date: iso(createdAt),
    billing: {
      additional_info: '',
      address1: '',
      address2: '',
      city: '',
      company: '',
      country_code: '',
      cycle: 1,
      email: '',
      first_name: '',
      last_name: '',
      phone: '',
      postal_code: '',
      state: '',
    },
    plan: {
      name: 'enterprise',
      price: 0,
      max_agents: 1000,
      goals: 5,
      long_desc: 'chat-export',
      short_desc: 'chat-export',
      widget_customization: 'full',
      max_basic_triggers: 'unlimited',
      max_advanced_triggers: 'unlimited',
      max_departments: 'unlimited',
      max_concurrent_chats: 'unlimited',
      max_history_search_days: 'unlimited',
      sla: true,
      monitoring: true,
      rest_api: true,
      email_reports: true,
      daily_reports: true,
      weekly_reports: true,
      chat_reports: true,
      agent_reports: true,
      agent_leaderboard: true,
      unbranding: true,
      high_load: true,
      ip_restriction: true,
      support: true,
      operating_hours: true,
      file_upload: true,
      analytics: true,
      integrations: true,
    },
  }
}

/** The routing settings of the real record in chat-rest-api.md §3.7, as the default. */
export function defaultAccountRouting(): AccountRoutingWire {
  return {
    routing_mode: 'assigned',
    chat_limit: { enabled: false, limit: 3, limit_type: 'account', allow_agent_override: false },
    skill_routing: { enabled: true, max_wait_time: 30 },
    reassignment: { enabled: true, timeout: 30 },
    auto_idle: { enabled: false, reassignments_before_idle: 3, new_status: 'away' },
    auto_accept: { enabled: false },
  }
}
