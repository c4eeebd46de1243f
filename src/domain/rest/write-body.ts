/**
 * Bodies of REST writes (POST / PUT / PATCH): read, normalised and checked against the resource's
 * wire schema, so a stored record is always a valid wire object. Accepted shapes (§2.1):
 * - the fields themselves: `{"name": "Sales"}`;
 * - wrapped in the resource's singular name, as zenpy sends the account: `{"account": {...}}`;
 * - zenpy's flattened dotted keys: `{"settings.chat_enabled": true}`, `{"agent.display_name": "x"}`.
 * Read-only fields a client echoes back (`id`, `create_date`, …) are ignored; anything unknown or
 * wrongly typed is a 400 naming the field.
 * @module
 */
import type { z } from 'zod'
import { AppError } from '../errors.js'
import { clip } from './id-window.js'
import type { CreateContext, ResourceSpec } from './resources.js'

type Json = Record<string, unknown>

/**
 * The normalised fields of a write body: dotted keys expanded, the resource envelope unwrapped,
 * read-only and write-only fields dropped. Throws INVALID_RESOURCE for anything not a JSON object
 * and for unknown top-level fields.
 */
export function parseWriteBody(raw: unknown, spec: ResourceSpec): Json {
  if (!isObject(raw)) {
    throw invalid(`The body must be a JSON object of ${spec.singular} fields.`)
  }
  let body = expandDottedKeys(raw)
  const keys = Object.keys(body)
  const inner = body[spec.singular]
  if (keys.length === 1 && isObject(inner) && !fieldNames(spec).has(spec.singular)) body = inner
  const known = fieldNames(spec)
  const fields: Json = {}
  for (const [key, value] of Object.entries(body)) {
    if (spec.readOnly.includes(key) || spec.writeOnly.includes(key)) continue
    if (!known.has(key)) {
      throw invalid(
        `"${clip(key)}" is not a field of a ${spec.singular}. Writable fields: ${[...known].filter((k) => !spec.readOnly.includes(k)).join(', ')}.`,
      )
    }
    fields[key] = value
  }
  return fields
}

/**
 * Checks the write-only fields of a body (the agent `password`) without keeping them: they are
 * validated so a client learns of a bad value, then dropped.
 */
export function checkWriteOnly(raw: unknown, spec: ResourceSpec, creating: boolean): void {
  if (spec.writeOnly.length === 0 || !isObject(raw)) return
  let body = expandDottedKeys(raw)
  const inner = body[spec.singular]
  if (Object.keys(body).length === 1 && isObject(inner)) body = inner
  for (const name of spec.writeOnly) {
    const value = body[name]
    if (value === undefined) {
      if (creating && spec.required.includes(name)) throw missing(spec, name)
      continue
    }
    if (typeof value !== 'string' || value.length < 6) {
      throw invalid(`${spec.singular}.${name} must be a string of at least 6 characters.`)
    }
  }
}

/**
 * The record a create stores: the resource defaults with the body merged over them, validated.
 * `ctx.allocatedId` is the id the store handed out (ignored by resources keyed by name).
 */
export function buildCreated(spec: ResourceSpec, raw: unknown, ctx: CreateContext): Json {
  checkWriteOnly(raw, spec, true)
  const fields = parseWriteBody(raw, spec)
  for (const name of spec.required) {
    if (spec.writeOnly.includes(name)) continue
    if (fields[name] === undefined) throw missing(spec, name)
  }
  const merged = deepMerge(spec.defaults(ctx, fields), fields)
  if (spec.idStyle === 'name' && spec.kind === 'shortcut') merged['id'] = merged['name']
  return validate(spec, merged)
}

/**
 * The record an update stores: `existing` with the body merged over it (objects merge key by
 * key, arrays and scalars replace), validated. PUT and PATCH behave alike: zenpy sends only the
 * fields it changed, on PUT.
 */
export function buildUpdated(spec: ResourceSpec, existing: Json, raw: unknown): Json {
  checkWriteOnly(raw, spec, false)
  const fields = parseWriteBody(raw, spec)
  if (
    spec.kind === 'shortcut' &&
    fields['name'] !== undefined &&
    fields['name'] !== existing['name']
  ) {
    throw invalid(
      `A shortcut's name is its id and cannot change (it is "${String(existing['name'])}"). Create a new shortcut and delete this one.`,
    )
  }
  return validate(spec, deepMerge(existing, fields))
}

/** Parses a record through the wire schema; a failure is a 400 naming the field path. */
export function validate(spec: ResourceSpec, record: unknown): Json {
  const result = spec.schema.safeParse(record)
  if (result.success) return result.data
  throw invalid(describeIssue(spec, result.error.issues[0]))
}

/** `{"a.b": 1, "a.c": 2}` → `{"a": {"b": 1, "c": 2}}`; plain keys and nested objects kept. */
export function expandDottedKeys(body: Json): Json {
  const out: Json = {}
  for (const [key, value] of Object.entries(body)) {
    const parts = key.split('.')
    if (parts.some((p) => p === '')) throw invalid(`"${clip(key)}" is not a valid field name.`)
    let target = out
    for (const part of parts.slice(0, -1)) {
      const next = target[part]
      if (next === undefined) target[part] = {}
      else if (!isObject(next)) throw invalid(`"${clip(key)}" conflicts with the field "${part}".`)
      target = target[part] as Json
    }
    const last = parts[parts.length - 1] as string
    const current = target[last]
    target[last] = isObject(current) && isObject(value) ? deepMerge(current, value) : value
  }
  return out
}

/** Objects merge key by key (recursively); anything else in `patch` replaces. */
export function deepMerge(base: Json, patch: Json): Json {
  const out: Json = { ...base }
  for (const [key, value] of Object.entries(patch)) {
    const current = out[key]
    out[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : value
  }
  return out
}

function fieldNames(spec: ResourceSpec): Set<string> {
  const names = new Set<string>()
  collectKeys(spec.schema, names)
  for (const name of spec.writeOnly) names.add(name)
  return names
}

/** Top-level keys of an object schema, or of every option of a (discriminated) union. */
function collectKeys(schema: z.ZodType, into: Set<string>): void {
  const def = (schema as unknown as { def: { type: string; shape?: Json; options?: z.ZodType[] } })
    .def
  if (def.type === 'object' && def.shape) for (const key of Object.keys(def.shape)) into.add(key)
  if (def.type === 'union' && def.options) for (const o of def.options) collectKeys(o, into)
  if (def.type === 'pipe' || def.type === 'transform') return
}

function describeIssue(spec: ResourceSpec, issue: z.core.$ZodIssue | undefined): string {
  if (issue === undefined) return `The ${spec.singular} is not valid.`
  const path = [spec.singular, ...issue.path.map(String)].join('.')
  if (issue.code === 'unrecognized_keys') {
    return `${issue.keys.map((k) => `${path}.${clip(k)}`).join(', ')} is not a known field.`
  }
  if (issue.code === 'invalid_union' && path === spec.singular) {
    return `The ${spec.singular} is not valid: give either ip_address or visitor_id.`
  }
  return `${path} is not valid: ${issue.message}.`
}

function missing(spec: ResourceSpec, name: string): AppError {
  return invalid(`${spec.singular}.${name} is required to create a ${spec.singular}.`)
}

function invalid(description: string): AppError {
  return new AppError('INVALID_RESOURCE', description)
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
