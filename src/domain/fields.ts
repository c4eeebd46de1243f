/**
 * Resource expansion: the `fields` query parameter of the chats and conversions exports, its
 * grammar, and the projection of an item onto a selection (semantics.md §4).
 *
 * ```
 * fields    := resource "(" list ")"
 * list      := item ("," item)*
 * item      := "*" | path ["(" list ")"]
 * path      := name ("." name)* ["." "*"]
 * ```
 *
 * Whitespace is allowed between tokens. A path through an array (`engagements.rating`) applies to
 * each element. `*` wins over every sibling: `chats(id,*)` is `chats(*)`, and
 * `chats(engagements(*))` is the whole `engagements`.
 * @module
 */
import type { AttributeTree } from './chat-attributes.js'
import { CHAT_ATTRIBUTES, CONVERSION_ATTRIBUTES, childAttribute } from './chat-attributes.js'
import { AppError } from './errors.js'
import type { StreamName, StreamSpec } from './streams.js'

/** `true` keeps an attribute whole; a map keeps only the named parts of it. */
export type SelectionTree = ReadonlyMap<string, SelectionTree | true>

/** What the `fields` parameter asks for. */
export type FieldSelection =
  /** Whole objects: `chats(*)`, or a stream without resource expansion. */
  | { readonly kind: 'all' }
  /** No `fields` on an expandable stream: each item is `{"id": ...}` only. */
  | { readonly kind: 'id-only' }
  /** Exactly the named attributes (always including the top-level `id`). */
  | { readonly kind: 'some'; readonly attributes: SelectionTree }

/** Longest `fields` value accepted, in characters. */
export const MAX_FIELDS_LENGTH = 2000
/** Deepest attribute path accepted (`a.b.c.d.e` is five levels). */
export const MAX_FIELDS_DEPTH = 5

const ALL: FieldSelection = { kind: 'all' }
const ID_ONLY: FieldSelection = { kind: 'id-only' }

const ATTRIBUTES: Partial<Record<StreamName, AttributeTree>> = {
  chats: CHAT_ATTRIBUTES,
  conversions: CONVERSION_ATTRIBUTES,
}

/** A selection to show in error descriptions, per stream. */
const EXAMPLE: Partial<Record<StreamName, string>> = {
  chats: 'chats(id,rating,response_time.max)',
  conversions: 'conversions(id,goal_name,attribution.chat_id)',
}

const DOCS_URL: Partial<Record<StreamName, string>> = {
  chats: 'https://developer.zendesk.com/api-reference/live-chat/chat-api/chats/',
  conversions: 'https://developer.zendesk.com/api-reference/live-chat/chat-api/incremental_export/',
}

/** One parsed list entry, before names are checked against the attribute tree. */
type Item =
  | { readonly star: true }
  | { readonly star: false; readonly path: string[]; readonly sub: Item[] | null }

/**
 * Parses the `fields` parameter (already URL-decoded) for a stream.
 *
 * Streams without resource expansion accept and ignore any value (Airbyte sends
 * `agent_timeline(*)`) and always get whole objects. On chats and conversions, an absent or empty
 * value selects ids only.
 *
 * @throws AppError INVALID_FIELDS when the value is malformed, too long or too deep, names another
 *   resource, or names attributes the object does not have (all of them are listed).
 * @example
 * parseFields('chats(id,response_time.max)', streamSpec('chats'))
 * // { kind: 'some', attributes: Map { 'id' => true, 'response_time' => Map { 'max' => true } } }
 */
export function parseFields(raw: string | null, stream: StreamSpec): FieldSelection {
  if (!stream.expandable) return ALL
  if (raw === null || raw.trim() === '') return ID_ONLY
  if (raw.length > MAX_FIELDS_LENGTH) {
    throw new AppError(
      'INVALID_FIELDS',
      `fields is ${raw.length} characters long; at most ${MAX_FIELDS_LENGTH} are allowed. ` +
        `Name fewer attributes, or use fields=${stream.name}(*) for whole objects.`,
    )
  }
  const items = new FieldsParser(raw, stream.name).parse()
  const attributes = ATTRIBUTES[stream.name]
  const unknown: UnknownName[] = []
  const node = resolve(items, attributes ?? 'any', '', unknown)
  if (unknown.length > 0) throw unknownAttributesError(stream.name, unknown)
  if (node === true) return ALL
  // `end_id` and every client's de-duplication need the id, so it is always kept.
  node.set('id', true)
  return { kind: 'some', attributes: node }
}

/**
 * Keeps exactly the selected attributes of an exported item. Nested paths keep their parents
 * (`{"id": …, "response_time": {"max": …}}`), a path through an array maps over its elements,
 * attributes the item lacks are omitted, and a `null` parent stays `null`. The item is not
 * modified; with `kind: 'all'` it is returned as is.
 */
export function projectItem(item: unknown, selection: FieldSelection): unknown {
  switch (selection.kind) {
    case 'all':
      return item
    case 'id-only':
      if (!isRecord(item)) return item
      return Object.hasOwn(item, 'id') ? { id: item.id } : {}
    case 'some':
      return projectValue(item, selection.attributes)
  }
}

/**
 * Percent-encodes a `fields` value the way the real API writes it into `next_page` (Python's
 * `quote(value, safe='')`): everything but `A-Z a-z 0-9 _ . - ~` is encoded, so `chats(*)` becomes
 * `chats%28%2A%29`.
 */
export function encodeFieldsForUrl(raw: string): string {
  // encodeURIComponent throws on lone surrogates; a URL-decoded value should have none, but a
  // cursor link must never turn into a 500.
  return encodeURIComponent(raw.replace(LONE_SURROGATE, '\uFFFD')).replace(
    EXTRA_RESERVED,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g
/** Characters encodeURIComponent leaves alone but Python's quote(safe='') encodes. */
const EXTRA_RESERVED = /[!'()*]/g

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function projectValue(value: unknown, tree: SelectionTree): unknown {
  if (Array.isArray(value)) return value.map((element) => projectValue(element, tree))
  if (!isRecord(value)) return value
  const out: Record<string, unknown> = {}
  // Walk the item's own keys so the output keeps the stored attribute order.
  for (const key of Object.keys(value)) {
    const node = tree.get(key)
    if (node === undefined) continue
    out[key] = node === true ? value[key] : projectValue(value[key], node)
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Name resolution

type Builder = Map<string, Builder | true>

interface UnknownName {
  /** The path as written, e.g. `engagements.raiting`. */
  path: string
  /** Where the first unknown segment was looked up, e.g. `engagements` ('' for the top level). */
  parent: string
  /** The attributes known there (`null`: the parent has no attributes). */
  known: AttributeTree | null
}

/**
 * Turns parsed items into a selection node, checking every name against `attributes` ('any': no
 * known tree, accept every name). Unknown names are collected, not thrown, so the error lists all.
 */
function resolve(
  items: readonly Item[],
  attributes: AttributeTree | null | 'any',
  prefix: string,
  unknown: UnknownName[],
): Builder | true {
  let whole = false
  const node: Builder = new Map()
  for (const item of items) {
    if (item.star) {
      whole = true
      continue
    }
    let current = attributes
    let known = true
    for (let i = 0; i < item.path.length && known; i++) {
      if (current === 'any') break
      const segment = item.path[i] ?? ''
      const child = current === null ? undefined : childAttribute(current, segment)
      if (child === undefined) {
        unknown.push({
          path: prefix + item.path.join('.'),
          parent: prefix + item.path.slice(0, i).join('.'),
          known: current,
        })
        known = false
      } else {
        current = child
      }
    }
    if (!known) continue
    const leaf =
      item.sub === null
        ? true
        : resolve(item.sub, current, `${prefix}${item.path.join('.')}.`, unknown)
    insert(node, item.path, leaf)
  }
  return whole ? true : node
}

function insert(node: Builder, path: readonly string[], leaf: Builder | true): void {
  let target = node
  for (let i = 0; i < path.length - 1; i++) {
    const segment = path[i] ?? ''
    const existing = target.get(segment)
    if (existing === true) return // the parent is already kept whole
    if (existing === undefined) {
      const created: Builder = new Map()
      target.set(segment, created)
      target = created
    } else {
      target = existing
    }
  }
  const last = path[path.length - 1] ?? ''
  target.set(last, merge(target.get(last), leaf))
}

function merge(a: Builder | true | undefined, b: Builder | true): Builder | true {
  if (a === undefined) return b
  if (a === true || b === true) return true
  for (const [key, value] of b) a.set(key, merge(a.get(key), value))
  return a
}

function unknownAttributesError(resource: StreamName, unknown: readonly UnknownName[]): AppError {
  const names = [...new Set(unknown.map((u) => quote(u.path)))]
  const listed =
    names.length > MAX_LISTED
      ? `${names.slice(0, MAX_LISTED).join(', ')} and ${names.length - MAX_LISTED} more`
      : names.join(', ')
  const hints = new Map<string, string>()
  for (const u of unknown) {
    if (hints.has(u.parent) || hints.size >= MAX_LISTED) continue
    const where = u.parent === '' ? resource : `${resource}.${u.parent}`
    hints.set(
      u.parent,
      u.known === null
        ? `${where} has no attributes of its own.`
        : `Attributes of ${where}: ${Object.keys(u.known).join(', ')}.`,
    )
  }
  const docs = DOCS_URL[resource]
  return new AppError(
    'INVALID_FIELDS',
    `fields names ${names.length === 1 ? 'an unknown attribute' : 'unknown attributes'} of ` +
      `${resource}: ${listed}. ${[...hints.values()].join(' ')} ` +
      `Use fields=${resource}(*) for whole objects` +
      (docs === undefined ? '.' : `; see ${docs}`),
  )
}

/** At most this many unknown names (and hints) go into one error description. */
const MAX_LISTED = 10

/** Quotes user text for an error description: bounded length, control characters escaped. */
function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text)
}

// ---------------------------------------------------------------------------------------------
// Syntax

const OPEN = 40 // (
const CLOSE = 41 // )
const STAR = 42 // *
const COMMA = 44 // ,
const DOT = 46 // .

function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13)
}

function isNameChar(code: number): boolean {
  return (
    !isSpace(code) &&
    code !== OPEN &&
    code !== CLOSE &&
    code !== STAR &&
    code !== COMMA &&
    code !== DOT
  )
}

/** A small recursive-descent parser; nesting is bounded by MAX_FIELDS_DEPTH before it recurses. */
class FieldsParser {
  private pos = 0

  constructor(
    private readonly text: string,
    private readonly resource: StreamName,
  ) {}

  parse(): Item[] {
    this.skipSpace()
    const start = this.pos
    const name = this.name()
    if (name === '') this.fail('the resource name', start)
    if (name !== this.resource) {
      throw new AppError(
        'INVALID_FIELDS',
        `fields names the resource ${quote(name)}, but this endpoint exports ${this.resource}. ` +
          `Use fields=${this.resource}(*) for whole objects or ` +
          `fields=${EXAMPLE[this.resource] ?? `${this.resource}(id)`} for some attributes.`,
      )
    }
    this.skipSpace()
    this.expect(OPEN, `"(" after ${this.resource}`)
    const items = this.list(0)
    this.expect(CLOSE, '"," or ")"')
    this.skipSpace()
    if (this.pos < this.text.length) {
      this.fail(`the end of fields (one resource only, as in ${this.resource}(…))`, this.pos)
    }
    return items
  }

  /** A comma-separated list of items whose parent path is `depth` levels deep. */
  private list(depth: number): Item[] {
    const items: Item[] = []
    for (;;) {
      items.push(this.item(depth))
      this.skipSpace()
      if (this.peek() !== COMMA) return items
      this.pos++
    }
  }

  private item(depth: number): Item {
    this.skipSpace()
    if (this.peek() === STAR) {
      this.pos++
      return { star: true }
    }
    const path: string[] = []
    for (;;) {
      const segmentStart = this.pos
      const segment = this.name()
      if (segment === '') {
        this.fail(
          path.length === 0 ? 'an attribute name or "*"' : 'an attribute name',
          segmentStart,
        )
      }
      path.push(segment)
      this.checkDepth(depth + path.length)
      this.skipSpace()
      if (this.peek() !== DOT) break
      this.pos++
      this.skipSpace()
      if (this.peek() === STAR) {
        // `a.*` is the whole of `a`.
        this.pos++
        return { star: false, path, sub: [{ star: true }] }
      }
    }
    if (this.peek() !== OPEN) return { star: false, path, sub: null }
    this.pos++
    const sub = this.list(depth + path.length)
    this.expect(CLOSE, '"," or ")"')
    return { star: false, path, sub }
  }

  private checkDepth(depth: number): void {
    if (depth > MAX_FIELDS_DEPTH) {
      throw new AppError(
        'INVALID_FIELDS',
        `fields nests attributes more than ${MAX_FIELDS_DEPTH} levels deep; no ${this.resource} ` +
          `attribute is that deep. Shorten the path, or use fields=${this.resource}(*).`,
      )
    }
  }

  private name(): string {
    const start = this.pos
    while (this.pos < this.text.length && isNameChar(this.text.charCodeAt(this.pos))) this.pos++
    return this.text.slice(start, this.pos)
  }

  private peek(): number {
    return this.pos < this.text.length ? this.text.charCodeAt(this.pos) : -1
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && isSpace(this.text.charCodeAt(this.pos))) this.pos++
  }

  private expect(code: number, what: string): void {
    this.skipSpace()
    if (this.peek() !== code) this.fail(what, this.pos)
    this.pos++
  }

  private fail(expected: string, at: number): never {
    const found = at >= this.text.length ? 'the end of the value' : quote(this.text.charAt(at))
    throw new AppError(
      'INVALID_FIELDS',
      `fields is malformed: expected ${expected} at character ${at + 1} but found ${found}. ` +
        `Write fields=${this.resource}(*) for whole objects or ` +
        `fields=${EXAMPLE[this.resource] ?? `${this.resource}(id)`} for some attributes.`,
    )
  }
}
