/**
 * Wire schemas of the Chat REST resources outside the export (chat-rest-api.md §3). Each schema
 * is the exact object the API serves: keys in the order listed (zod outputs keys in shape order,
 * so parsing is also rendering), booleans where real records have booleans (§7.1: `0`/`1` are
 * accepted on input and served as booleans), integer ids except shortcuts (id = name) and visitors
 * (`"<account>.<key>"` strings), ISO-8601 UTC dates with `Z`.
 * @module
 */
import { z } from 'zod'

/** A boolean that also accepts the docs' `0`/`1` (§7.1); always output as a boolean. */
export const flag = z
  .union([z.boolean(), z.literal(0), z.literal(1)])
  .transform((value) => value === true || value === 1)

/** A positive integer id, as JSON number. */
export const intId = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)
const ids = z.array(intId)
/** ISO-8601 UTC with a literal `Z` (Airbyte's cursor parser accepts nothing else). */
export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z$/, 'an ISO-8601 UTC time ending in Z')
/** `"unlimited"` or a numeric string (§7.8); numbers are accepted and served as strings. */
const planLimit = z
  .union([z.literal('unlimited'), z.string().regex(/^\d+$/), z.number().int().nonnegative()])
  .transform(String)

export const billingSchema = z.strictObject({
  additional_info: z.string(),
  address1: z.string(),
  address2: z.string(),
  city: z.string(),
  company: z.string(),
  country_code: z.string(),
  cycle: z.number().int(),
  email: z.string(),
  first_name: z.string(),
  last_name: z.string(),
  phone: z.string(),
  postal_code: z.string(),
  state: z.string(),
})

export const planSchema = z.strictObject({
  name: z.string(),
  price: z.number(),
  max_agents: z.number().int(),
  goals: z.number().int(),
  long_desc: z.string(),
  short_desc: z.string(),
  widget_customization: z.string(),
  max_basic_triggers: planLimit,
  max_advanced_triggers: planLimit,
  max_departments: planLimit,
  max_concurrent_chats: planLimit,
  max_history_search_days: planLimit,
  sla: flag,
  monitoring: flag,
  rest_api: flag,
  email_reports: flag,
  daily_reports: flag,
  weekly_reports: flag,
  chat_reports: flag,
  agent_reports: flag,
  agent_leaderboard: flag,
  unbranding: flag,
  high_load: flag,
  ip_restriction: flag,
  support: flag,
  operating_hours: flag,
  file_upload: flag,
  analytics: flag,
  integrations: flag,
})

/** §3.1 `GET /account`. */
export const accountSchema = z.strictObject({
  account_key: z.string(),
  status: z.string(),
  create_date: isoDate,
  billing: billingSchema,
  plan: planSchema,
})

/** §3.2 `/agents`. `password` is write-only and never stored (see {@link agentWriteExtras}). */
export const agentSchema = z.strictObject({
  id: intId,
  first_name: z.string(),
  last_name: z.string(),
  display_name: z.string(),
  email: z.string().regex(/^[^\s@]+@[^\s@]+$/, 'an email address'),
  enabled: flag,
  role_id: intId.nullable(),
  roles: z.strictObject({ administrator: flag, owner: flag }),
  departments: ids,
  enabled_departments: ids,
  skills: ids,
  create_date: isoDate,
  last_login: isoDate.nullable(),
  login_count: z.number().int().nonnegative(),
  scope: z.string(),
})

/** Write-only agent fields: accepted in bodies, never stored nor served. */
export const agentWriteExtras = z.strictObject({
  password: z.string().min(6, 'at least 6 characters'),
})

const banBase = {
  id: intId,
  reason: z.string(),
  /** "can be null for older bans" [DOC]; always present (Airbyte's extractor reads it). */
  created_at: isoDate.nullable(),
}

/** §3.3 an IP-address ban. */
export const ipBanSchema = z.strictObject({
  ...banBase,
  type: z.literal('ip_address'),
  ip_address: z.string().regex(/^[0-9a-fA-F:.]+$/, 'an IPv4 or IPv6 address'),
})

/** §3.3 a visitor ban. */
export const visitorBanSchema = z.strictObject({
  ...banBase,
  type: z.literal('visitor'),
  visitor_id: z.string().min(1),
  visitor_name: z.string(),
})

export const banSchema = z.discriminatedUnion('type', [ipBanSchema, visitorBanSchema])

/** §3.4 `/departments` (settings in the real shape, §7.12). */
export const departmentSchema = z.strictObject({
  id: intId,
  name: z.string().min(1),
  description: z.string(),
  enabled: flag,
  members: ids,
  settings: z.strictObject({
    chat_enabled: flag,
    solved_ticket_reassignment_strategy: z.string(),
    support_group_id: intId.nullable(),
  }),
})

const goalCondition = z
  .strictObject({
    type: z.literal('url'),
    operator: z.enum(['equals', 'contains']),
    value: z.string().min(1),
  })
  .refine((c) => c.operator !== 'equals' || /^https?:\/\//.test(c.value), {
    message: 'with operator "equals" the value must start with http:// or https://',
    path: ['value'],
  })

/** §3.5 `/goals`. */
export const goalSchema = z.strictObject({
  id: intId,
  name: z.string().min(1),
  description: z.string(),
  enabled: flag,
  attribution_model: z.enum(['first_touch', 'last_touch']),
  attribution_period: z.number().int().min(1).max(30),
  settings: z.strictObject({ conditions: z.array(goalCondition) }),
})

/** §3.6 `/roles`. Permissions are strings or booleans (the table of §3.6 is partly cut). */
export const roleSchema = z.strictObject({
  id: intId,
  name: z.string().min(1),
  description: z.string(),
  enabled: flag,
  members_count: z.number().int().nonnegative(),
  permissions: z.record(z.string(), z.union([z.string(), z.boolean()])),
})

/** §3.9 `/skills`. */
export const skillSchema = z.strictObject({
  id: intId,
  name: z.string().min(1),
  description: z.string(),
  enabled: flag,
  members: ids,
})

/** Shortcut names are their ids and end up in paths: `/ \ $` are disallowed [DOC]. */
const shortcutName = z
  .string()
  .min(1)
  .regex(/^[^/\\$]+$/, 'a name without "/", "\\" or "$"')

/** §3.8 `/shortcuts`: `id` is the string `name` (§7.2). */
export const shortcutSchema = z.strictObject({
  id: shortcutName,
  name: shortcutName,
  message: z.string().min(1),
  options: z.string(),
  tags: z.array(z.string()),
  scope: z.enum(['all', 'agent', 'department']),
  departments: ids,
  agents: ids,
})

/** §3.10 `/triggers`: `definition` parts are arrays/objects (§7.11), kept as sent. */
export const triggerSchema = z.strictObject({
  id: intId,
  name: z.string().min(1),
  description: z.string(),
  enabled: flag,
  definition: z.looseObject({
    event: z.string(),
    condition: z.array(z.unknown()),
    actions: z.array(z.unknown()),
    version: z.number().int().optional(),
    editor: z.string().optional(),
  }),
})

/** §3.7 `/routing_settings/account` (served under `data`). Ranges from the docs. */
export const accountRoutingSchema = z.strictObject({
  routing_mode: z.enum(['broadcast', 'assigned', 'hybrid']),
  chat_limit: z.strictObject({
    enabled: flag,
    limit: z.number().int().min(0).max(20),
    limit_type: z.enum(['account', 'agent']),
    allow_agent_override: flag,
  }),
  skill_routing: z.strictObject({
    enabled: flag,
    max_wait_time: z.number().int().min(5).max(300),
  }),
  reassignment: z.strictObject({
    enabled: flag,
    timeout: z.number().int().min(10).max(120),
  }),
  auto_idle: z.strictObject({
    enabled: flag,
    reassignments_before_idle: z.number().int().min(1).max(20),
    new_status: z.enum(['away', 'invisible']),
  }),
  auto_accept: z.strictObject({ enabled: flag }),
})

/**
 * `/routing_settings/agents/{id}` [INF]: the payload was not readable (§3.7, cut). We serve the
 * agent's id and its own chat limit, the one per-agent setting the account settings refer to
 * (`chat_limit.limit_type: "agent"`, `allow_agent_override`).
 */
export const agentRoutingSchema = z.strictObject({
  id: intId,
  chat_limit: z.strictObject({
    enabled: flag,
    limit: z.number().int().min(0).max(20),
  }),
})

/** §3.11 `/visitors/{id}`: string id (§7.17), empty strings rather than null. */
export const visitorSchema = z.strictObject({
  id: z.string().min(1),
  name: z.string(),
  email: z.string(),
  phone: z.string(),
  notes: z.string(),
  external_id: z.string(),
  banned: flag,
  created: isoDate,
})

export type AccountWire = z.output<typeof accountSchema>
export type AgentWire = z.output<typeof agentSchema>
export type BanWire = z.output<typeof banSchema>
export type IpBanWire = z.output<typeof ipBanSchema>
export type VisitorBanWire = z.output<typeof visitorBanSchema>
export type DepartmentWire = z.output<typeof departmentSchema>
export type GoalWire = z.output<typeof goalSchema>
export type RoleWire = z.output<typeof roleSchema>
export type SkillWire = z.output<typeof skillSchema>
export type ShortcutWire = z.output<typeof shortcutSchema>
export type TriggerWire = z.output<typeof triggerSchema>
export type AccountRoutingWire = z.output<typeof accountRoutingSchema>
export type AgentRoutingWire = z.output<typeof agentRoutingSchema>
export type VisitorWire = z.output<typeof visitorSchema>
