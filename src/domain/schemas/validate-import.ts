/**
 * Import validation: checks one import item against its stream's schema and says, for each
 * problem, which attribute, what was expected and what came, in words a person fixing the file
 * can act on (`rating: expected one of "good", "bad" or null, got "excellent"`). The expectations
 * are read from the generated JSON Schema, so they say exactly what the schema checks.
 * @module
 */
import { z } from 'zod'
import type { StreamName } from '../streams.js'
import type { JsonSchema } from './item-schemas.js'
import { IMPORT_ITEM_SCHEMAS } from './item-schemas.js'

/** What to do with attributes the schema does not describe: store them as they are, or refuse. */
export type UnknownAttributes = 'keep' | 'refuse'

export interface ValidateImportOptions {
  /** No default on purpose: an importer says which, so unknown attributes are never silent. */
  unknownAttributes: UnknownAttributes
}

/** One thing wrong with an item. */
export interface ImportProblem {
  /** The attribute path, e.g. `engagements[0].rating`; empty for the item itself. */
  path: string
  expected: string
  got: string
  /** `path: expected …, got …`, ready to show. */
  message: string
}

const jsonSchemas = new Map<StreamName, JsonSchema>()

function importJsonSchema(stream: StreamName): JsonSchema {
  let schema = jsonSchemas.get(stream)
  if (schema === undefined) {
    schema = z.toJSONSchema(IMPORT_ITEM_SCHEMAS[stream], {
      target: 'draft-2020-12',
      io: 'output',
    })
    jsonSchemas.set(stream, schema)
  }
  return schema
}

/**
 * The problems of one import item of `stream`; an empty list means it is valid. Unknown
 * attributes (at any depth) are problems only with `unknownAttributes: 'refuse'`.
 * @example validateImportItem('chats', { ...chat, rating: 'excellent' }, { unknownAttributes: 'keep' })
 *   // [{ path: 'rating', expected: 'one of "good", "bad" or null', got: '"excellent"', … }]
 */
export function validateImportItem(
  stream: StreamName,
  value: unknown,
  options: ValidateImportOptions,
): ImportProblem[] {
  const root = importJsonSchema(stream)
  const problems: ImportProblem[] = []
  const result = IMPORT_ITEM_SCHEMAS[stream].safeParse(value)
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol')
      const expected =
        issue.code === 'invalid_union' && issue.discriminator !== undefined
          ? oneOf((issue as { options?: unknown[] }).options ?? [])
          : describeAt(root, value, path, issue.message)
      problems.push(problem(path, expected, gotAt(value, path)))
    }
  }
  if (options.unknownAttributes === 'refuse') {
    for (const path of unknownAttributePaths(root, value, [])) {
      problems.push(
        problem(
          path,
          'no attribute of this name (unknown attributes are refused)',
          gotAt(value, path),
        ),
      )
    }
  }
  // A union can report one fault through several branches; say it once.
  const seen = new Set<string>()
  return problems.filter((p) => !seen.has(p.message) && seen.add(p.message))
}

function problem(path: (string | number)[], expected: string, got: string): ImportProblem {
  const where = formatPath(path)
  return {
    path: where,
    expected,
    got,
    message: `${where === '' ? 'item' : where}: expected ${expected}, got ${got}`,
  }
}

/** `engagements[0].rating`. */
export function formatPath(path: readonly (string | number)[]): string {
  let text = ''
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) text += text === '' ? part : `.${part}`
    else text += `[${JSON.stringify(part)}]`
  }
  return text
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function child(value: unknown, part: string | number): unknown {
  if (typeof part === 'number') return Array.isArray(value) ? value[part] : undefined
  return isObject(value) && Object.hasOwn(value, part) ? value[part] : undefined
}

function gotAt(value: unknown, path: readonly (string | number)[]): string {
  let current = value
  for (const [i, part] of path.entries()) {
    if (i === path.length - 1 && isObject(current) && !Object.hasOwn(current, part)) {
      return 'nothing (the attribute is missing)'
    }
    current = child(current, part)
  }
  if (current === undefined) return 'nothing'
  const text = JSON.stringify(current)
  return text.length > 80 ? `${text.slice(0, 77)}…` : text
}

function alternativesOf(node: JsonSchema): JsonSchema[] | undefined {
  const alternatives = node.anyOf ?? node.oneOf
  return Array.isArray(alternatives) ? (alternatives as JsonSchema[]) : undefined
}

function propertiesOf(node: JsonSchema): Record<string, JsonSchema> | undefined {
  return isObject(node.properties) ? (node.properties as Record<string, JsonSchema>) : undefined
}

/**
 * The branch of `node` that describes `value`: the non-null side of a nullable, or the member of
 * a discriminated union whose constant attribute (`type`, `field_name`) the value carries.
 */
function resolve(node: JsonSchema | undefined, value: unknown): JsonSchema | undefined {
  if (node === undefined) return undefined
  const alternatives = alternativesOf(node)
  if (alternatives === undefined) return node
  const candidates = alternatives.filter((a) => a.type !== 'null')
  if (candidates.length === 1) return resolve(candidates[0], value)
  if (!isObject(value)) return undefined
  const match = candidates.find((candidate) =>
    Object.entries(propertiesOf(candidate) ?? {}).some(
      ([name, property]) => 'const' in property && property.const === value[name],
    ),
  )
  return resolve(match, value)
}

function describeAt(
  root: JsonSchema,
  value: unknown,
  path: readonly (string | number)[],
  fallback: string,
): string {
  let node: JsonSchema | undefined = root
  let current = value
  for (const part of path) {
    const resolved = resolve(node, current)
    if (resolved === undefined) return fallback
    node =
      typeof part === 'number'
        ? isObject(resolved.items)
          ? resolved.items
          : undefined
        : propertiesOf(resolved)?.[part]
    current = child(current, part)
  }
  return node === undefined ? fallback : describe(node)
}

function literalsOf(node: JsonSchema): unknown[] | undefined {
  if ('const' in node) return [node.const]
  if (Array.isArray(node.enum)) return node.enum as unknown[]
  if (node.type === 'null') return [null]
  const alternatives = alternativesOf(node)
  if (alternatives === undefined) return undefined
  const all: unknown[] = []
  for (const alternative of alternatives) {
    const literals = literalsOf(alternative)
    if (literals === undefined) return undefined
    all.push(...literals)
  }
  return all
}

function oneOf(values: readonly unknown[]): string {
  const shown = values.map((v) => JSON.stringify(v))
  if (shown.length <= 1) return shown[0] ?? 'nothing'
  return `one of ${shown.slice(0, -1).join(', ')} or ${shown[shown.length - 1]}`
}

const ISO_EXAMPLE = 'an ISO-8601 UTC timestamp such as 2020-12-22T04:54:16Z'

/** A schema node in words: `an integer`, `one of "good", "bad" or null`, … */
function describe(node: JsonSchema): string {
  const literals = literalsOf(node)
  if (literals !== undefined) return oneOf(literals)
  const alternatives = alternativesOf(node)
  if (alternatives !== undefined) {
    if (alternatives.every((a) => a.type === 'object' || a.type === 'null')) {
      return alternatives.some((a) => a.type === 'null') ? 'an object or null' : 'an object'
    }
    return alternatives.map(describe).join(' or ')
  }
  const nonNegative = typeof node.minimum === 'number' && node.minimum >= 0
  switch (node.type) {
    case 'boolean':
      return 'true or false'
    case 'integer':
      return nonNegative ? 'a non-negative integer' : 'an integer'
    case 'number':
      return nonNegative ? 'a non-negative number' : 'a number'
    case 'string': {
      if (node.format === 'date-time') return ISO_EXAMPLE
      const max =
        typeof node.maxLength === 'number' ? ` of at most ${node.maxLength} characters` : ''
      return typeof node.minLength === 'number' && node.minLength > 0
        ? `a non-empty string${max}`
        : `a string${max}`
    }
    case 'array':
      return isObject(node.items) ? `an array of ${plural(node.items)}` : 'an array'
    case 'object':
      return 'an object'
    default:
      return 'a valid value'
  }
}

function plural(node: JsonSchema): string {
  if (alternativesOf(node) !== undefined) return 'objects'
  switch (node.type) {
    case 'integer':
      return 'integers'
    case 'number':
      return 'numbers'
    case 'string':
      return 'strings'
    case 'object':
      return 'objects'
    default:
      return 'values'
  }
}

/** Paths of the attributes, at any depth, that the schema does not describe. */
function unknownAttributePaths(
  node: JsonSchema | undefined,
  value: unknown,
  path: (string | number)[],
): (string | number)[][] {
  const resolved = resolve(node, value)
  if (resolved === undefined) return []
  const found: (string | number)[][] = []
  const properties = propertiesOf(resolved)
  if (resolved.type === 'object' && properties !== undefined && isObject(value)) {
    for (const [name, child] of Object.entries(value)) {
      if (!Object.hasOwn(properties, name)) found.push([...path, name])
      else found.push(...unknownAttributePaths(properties[name], child, [...path, name]))
    }
  } else if (resolved.type === 'array' && isObject(resolved.items) && Array.isArray(value)) {
    value.forEach((element, i) => {
      found.push(...unknownAttributePaths(resolved.items as JsonSchema, element, [...path, i]))
    })
  }
  return found
}
