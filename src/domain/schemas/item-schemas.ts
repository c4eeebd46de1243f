/**
 * The item schema of each stream, the item types derived from them, and their JSON Schemas.
 * @module
 */
import { z } from 'zod'
import type { StreamName } from '../streams.js'
import { chatSchema, importChatSchema } from './chat.js'
import { conversionSchema } from './conversion.js'
import { agentEventSchema, agentSpanSchema, departmentEventSchema } from './events.js'

/** Each stream's item as the export serves it (with `fields=<stream>(*)` on chats and conversions). */
export const EXPORT_ITEM_SCHEMAS = {
  chats: chatSchema,
  conversions: conversionSchema,
  department_events: departmentEventSchema,
  agent_timeline: agentSpanSchema,
  agent_events: agentEventSchema,
} as const satisfies Record<StreamName, z.ZodType>

/** Each stream's item as an import accepts it (chats may lack what the store sets). */
export const IMPORT_ITEM_SCHEMAS = {
  ...EXPORT_ITEM_SCHEMAS,
  chats: importChatSchema,
} as const satisfies Record<StreamName, z.ZodType>

export type ExportedChat = z.output<typeof chatSchema>
export type ExportedLiveChat = Extract<ExportedChat, { type: 'chat' }>
export type ExportedOfflineMessage = Extract<ExportedChat, { type: 'offline_msg' }>
export type ExportedHistoryEntry = ExportedLiveChat['history'][number]
export type ExportedEngagement = ExportedLiveChat['engagements'][number]
export type ExportedConversion = z.output<typeof conversionSchema>
export type ExportedDepartmentEvent = z.output<typeof departmentEventSchema>
export type ExportedAgentSpan = z.output<typeof agentSpanSchema>
export type ExportedAgentEvent = z.output<typeof agentEventSchema>

/** The full item of each stream, by stream name. */
export type ExportedItemOf = {
  [S in keyof typeof EXPORT_ITEM_SCHEMAS]: z.output<(typeof EXPORT_ITEM_SCHEMAS)[S]>
}

/** A JSON Schema (2020-12) object, as zod writes it. */
export type JsonSchema = Record<string, unknown>

/**
 * A stream item's JSON Schema (2020-12, the dialect of OpenAPI 3.1), generated from its zod schema.
 * Objects allow attributes beyond those described (an import that keeps unknown attributes exports
 * them). With `projection`, only `id` is required anywhere: chats and conversions are served
 * through `fields`, which may leave out any other attribute.
 */
export function exportItemJsonSchema(
  stream: StreamName,
  options: { projection?: boolean } = {},
): JsonSchema {
  // io 'input' leaves additionalProperties open, as explained above.
  const { $schema: _dialect, ...schema } = z.toJSONSchema(EXPORT_ITEM_SCHEMAS[stream], {
    target: 'draft-2020-12',
    io: 'input',
  }) as JsonSchema
  return options.projection === true ? idOnlyRequired(schema) : schema
}

function idOnlyRequired(schema: JsonSchema): JsonSchema {
  const strip = (node: unknown, top: boolean): unknown => {
    if (Array.isArray(node)) return node.map((n) => strip(n, top))
    if (typeof node !== 'object' || node === null) return node
    const result: JsonSchema = {}
    for (const [key, value] of Object.entries(node)) {
      if (key === 'required') continue
      const alternatives = key === 'oneOf' || key === 'anyOf'
      result[key] = strip(value, top && alternatives)
    }
    if (top && 'properties' in result) result.required = ['id']
    return result
  }
  return strip(schema, true) as JsonSchema
}
