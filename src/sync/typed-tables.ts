/**
 * The typed tables of a SQL destination, derived from the item schemas (src/domain/schemas, through
 * the JSON Schema they generate), so there is one list of attributes and not a second one here.
 *
 * Derivation, per stream:
 * - the stream's table (`chats`, `conversions`, …) gets one column per scalar attribute; nested
 *   objects are flattened with `_` (`session.city` → `session_city`, `response_time.first` →
 *   `response_time_first`); the attributes of every variant of a union (`chat` / `offline_msg`,
 *   history entry types) are all columns, NULL where a variant lacks them;
 * - an array of objects becomes a child table `<item>_<attribute>` (`chat_engagements`,
 *   `chat_history`, `chat_webpath`, `chat_conversions`) keyed by the parent key and the position in
 *   the array; `chats.tags` becomes `chat_tags (chat_id, position, tag)`;
 * - any other array, and an attribute whose variants disagree on its type (agent_events `value`),
 *   is a JSON column;
 * - columns the table already has as its key (`id`, `deleted`, `agent_id`, `start_time`) are not
 *   repeated, and a child's own copy of its parent key (`engagements[].chat_id`) is the parent key.
 * @module
 */
import type { ExportItem, ExportStream } from '../client/index.js'
import { EXPORT_STREAMS } from '../client/index.js'
import type { JsonSchema } from '../domain/schemas/index.js'
import { exportItemJsonSchema } from '../domain/schemas/index.js'

/** What a column holds; each SQL backend maps it to a type of its own. */
export type ColumnKind = 'boolean' | 'integer' | 'number' | 'timestamp' | 'text' | 'json'

export interface TypedColumn {
  name: string
  /** Where the value is in the item (or in the child element). */
  path: readonly string[]
  kind: ColumnKind
}

export interface ChildTable {
  name: string
  /** The parent's array attribute. */
  attribute: string
  /** The parent key column (`chat_id`). */
  parentKey: string
  /** Set for an array of scalars: the column that holds each element (`tag`). */
  elementColumn?: string
  /** The element's column for an array of scalars, else the columns of each element object. */
  columns: readonly TypedColumn[]
}

export interface StreamTables {
  stream: ExportStream
  /** The stream's own table: key columns and `data`, plus these. */
  columns: readonly TypedColumn[]
  children: readonly ChildTable[]
}

/** Columns every stream table has already (its key, `deleted`, `data`). */
const KEY_COLUMNS = new Set(['id', 'deleted', 'data', 'agent_id', 'start_time'])

/** Arrays of scalars that get a child table instead of a JSON column, and the element's column. */
const SCALAR_CHILD_TABLES: Partial<Record<ExportStream, Record<string, string>>> = {
  chats: { tags: 'tag' },
}

/** `chats` → `chat`: the prefix of child tables and of their parent key. */
function singular(stream: ExportStream): string {
  return stream.replace(/s$/, '')
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The non-null alternatives of a schema node (its variants, or itself). */
function variants(node: JsonSchema): JsonSchema[] {
  const alternatives = (node.oneOf ?? node.anyOf) as JsonSchema[] | undefined
  if (Array.isArray(alternatives)) {
    return alternatives.filter((a) => a.type !== 'null').flatMap((a) => variants(a))
  }
  return [node]
}

/** The JSON type of a scalar node (`null` removed), or undefined when it is not a scalar. */
function scalarKind(node: JsonSchema): ColumnKind | undefined {
  const types = (Array.isArray(node.type) ? node.type : [node.type]).filter((t) => t !== 'null')
  if (types.length !== 1) return types.length === 0 && 'const' in node ? 'text' : undefined
  switch (types[0]) {
    case 'boolean':
      return 'boolean'
    case 'integer':
      return 'integer'
    case 'number':
      return 'number'
    case 'string':
      return node.format === 'date-time' ? 'timestamp' : 'text'
    default:
      return undefined
  }
}

type Shape =
  | { type: 'scalar'; kind: ColumnKind }
  | { type: 'object'; properties: Map<string, JsonSchema[]> }
  | { type: 'array'; items: JsonSchema[] }
  | { type: 'mixed' }

/** What the variants of one attribute have in common. */
function shapeOf(nodes: readonly JsonSchema[]): Shape {
  const all = nodes.flatMap(variants)
  const kinds = new Set(
    all.map((n) =>
      isObject(n.properties) ? 'object' : n.type === 'array' ? 'array' : scalarKind(n),
    ),
  )
  if (kinds.size !== 1) {
    // integer and number together are a number.
    if (kinds.size === 2 && kinds.has('integer') && kinds.has('number'))
      return { type: 'scalar', kind: 'number' }
    return { type: 'mixed' }
  }
  const [kind] = kinds
  if (kind === 'object') {
    const properties = new Map<string, JsonSchema[]>()
    for (const node of all) {
      for (const [name, property] of Object.entries(
        node.properties as Record<string, JsonSchema>,
      )) {
        properties.set(name, [...(properties.get(name) ?? []), property])
      }
    }
    return { type: 'object', properties }
  }
  if (kind === 'array') return { type: 'array', items: all.map((n) => n.items as JsonSchema) }
  if (kind === undefined) return { type: 'mixed' }
  return { type: 'scalar', kind }
}

/** The columns of an object's properties, flattening nested objects; arrays go to `onArray`. */
function columnsOf(
  properties: Map<string, JsonSchema[]>,
  prefix: readonly string[],
  onArray: (name: string, items: JsonSchema[]) => boolean,
): TypedColumn[] {
  const columns: TypedColumn[] = []
  for (const [name, nodes] of properties) {
    const path = [...prefix, name]
    const shape = shapeOf(nodes)
    switch (shape.type) {
      case 'scalar':
        columns.push({ name: path.join('_'), path, kind: shape.kind })
        break
      case 'object':
        columns.push(...columnsOf(shape.properties, path, () => false))
        break
      case 'array':
        if (prefix.length > 0 || !onArray(name, shape.items))
          columns.push({ name: path.join('_'), path, kind: 'json' })
        break
      case 'mixed':
        columns.push({ name: path.join('_'), path, kind: 'json' })
        break
    }
  }
  return columns
}

/** The typed tables of one stream, derived from its item schema. */
export function deriveStreamTables(stream: ExportStream): StreamTables {
  const root = shapeOf([exportItemJsonSchema(stream)])
  if (root.type !== 'object') throw new Error(`The ${stream} item schema is not an object.`)
  const prefix = singular(stream)
  const parentKey = `${prefix}_id`
  const children: ChildTable[] = []
  const columns = columnsOf(root.properties, [], (name, items) => {
    const element = shapeOf(items)
    const elementColumn = SCALAR_CHILD_TABLES[stream]?.[name]
    const table = `${prefix}_${name}`
    if (element.type === 'object') {
      const childColumns = columnsOf(element.properties, [], () => false).filter(
        (c) => c.name !== parentKey && c.name !== 'position',
      )
      children.push({ name: table, attribute: name, parentKey, columns: childColumns })
      return true
    }
    if (element.type === 'scalar' && elementColumn !== undefined) {
      children.push({
        name: table,
        attribute: name,
        parentKey,
        elementColumn,
        columns: [{ name: elementColumn, path: [], kind: element.kind }],
      })
      return true
    }
    return false
  }).filter((c) => !KEY_COLUMNS.has(c.name))
  return { stream, columns, children }
}

/** Every stream's typed tables, derived once. */
export const STREAM_TABLES: Readonly<Record<ExportStream, StreamTables>> = Object.fromEntries(
  EXPORT_STREAMS.map((stream) => [stream, deriveStreamTables(stream)]),
) as Record<ExportStream, StreamTables>

/** The value at `path` of `value`, or undefined. */
function at(value: unknown, path: readonly string[]): unknown {
  let current = value
  for (const part of path) {
    if (!isObject(current)) return undefined
    current = current[part]
  }
  return current
}

/**
 * One column's value, ready to bind: `null` when absent; JSON columns as JSON text; booleans as
 * the backend wants them (`boolean` maps true/false).
 */
export function columnValue(
  value: unknown,
  column: TypedColumn,
  boolean: (b: boolean) => unknown,
): unknown {
  const v = column.path.length === 0 ? value : at(value, column.path)
  if (v === undefined || v === null) return null
  switch (column.kind) {
    case 'json':
      return JSON.stringify(v)
    case 'boolean':
      return typeof v === 'boolean' ? boolean(v) : null
    case 'integer':
    case 'number':
      return typeof v === 'number' ? v : null
    case 'timestamp':
    case 'text':
      return typeof v === 'string' ? v : JSON.stringify(v)
  }
}

/** The rows of one child table for `item`: each element's column values, in array order. */
export function childRows(
  item: ExportItem,
  child: ChildTable,
  boolean: (b: boolean) => unknown,
): unknown[][] {
  const elements = item[child.attribute]
  if (!Array.isArray(elements)) return []
  return elements.map((element) => child.columns.map((c) => columnValue(element, c, boolean)))
}
