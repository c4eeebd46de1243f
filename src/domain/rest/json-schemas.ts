/**
 * JSON Schemas (2020-12, the dialect of OpenAPI 3.1) of the REST resources outside the export,
 * generated from their zod wire schemas (src/domain/rest/schemas.ts), for `/openapi.json`.
 * Responses are the schemas' output (booleans where `0`/`1` are accepted); write bodies are
 * their input, with nothing required (PUT and PATCH merge; POST's required fields are in the
 * description and refused with a 400 naming them).
 * @module
 */
import { z } from 'zod'
import {
  accountRoutingSchema,
  accountSchema,
  agentRoutingSchema,
  agentSchema,
  agentWriteExtras,
  chatUpdateSchema,
  departmentSchema,
  flag,
  goalSchema,
  ipBanSchema,
  planLimit,
  roleSchema,
  shortcutSchema,
  skillSchema,
  triggerSchema,
  visitorBanSchema,
  visitorSchema,
} from './schemas.js'

type JsonSchema = Record<string, unknown>

/** What each transforming schema outputs, as JSON Schema. */
const TRANSFORM_OUTPUTS = new Map<unknown, JsonSchema>([
  [flag, { type: 'boolean' }],
  [planLimit, { type: 'string', pattern: '^(?:unlimited|\\d+)$' }],
])

/** The component name of each resource's schema (its write body is `<name>Write`). */
export const REST_SCHEMAS = {
  Account: accountSchema,
  Agent: agentSchema,
  IpBan: ipBanSchema,
  VisitorBan: visitorBanSchema,
  Department: departmentSchema,
  Goal: goalSchema,
  Role: roleSchema,
  Skill: skillSchema,
  Shortcut: shortcutSchema,
  Trigger: triggerSchema,
  AccountRoutingSettings: accountRoutingSchema,
  AgentRoutingSettings: agentRoutingSchema,
  Visitor: visitorSchema,
} as const

export type RestSchemaName = keyof typeof REST_SCHEMAS

function generate(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    // Transforms (0/1 → boolean, a number → a string) have no JSON Schema of their own: they are
    // generated as "anything" and then described as what they output.
    unrepresentable: 'any',
    override: (ctx) => {
      const output = io === 'output' ? TRANSFORM_OUTPUTS.get(ctx.zodSchema) : undefined
      if (output) Object.assign(ctx.jsonSchema, output)
    },
  }) as JsonSchema
  return json
}

function withoutRequired(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutRequired)
  if (typeof node !== 'object' || node === null) return node
  const out: JsonSchema = {}
  for (const [key, value] of Object.entries(node)) {
    if (key !== 'required') out[key] = withoutRequired(value)
  }
  return out
}

/** Every REST component schema: each resource, its write body, the bans union and the chat update. */
export function restJsonSchemas(): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = {}
  for (const [name, schema] of Object.entries(REST_SCHEMAS)) {
    out[name] = generate(schema, 'output')
    out[`${name}Write`] = withoutRequired(generate(schema, 'input')) as JsonSchema
  }
  const agentWrite = out['AgentWrite'] as { properties?: JsonSchema }
  agentWrite.properties = {
    ...agentWrite.properties,
    ...(generate(agentWriteExtras, 'input') as { properties?: JsonSchema }).properties,
  }
  // A ban is created from either an IP address or a visitor id.
  out['BanWrite'] = { oneOf: [out['IpBanWrite'], out['VisitorBanWrite']] }
  out['ChatUpdate'] = generate(chatUpdateSchema, 'input')
  return out
}
