/**
 * What every route family of the fuzz proof draws from: the request a case is, the tokens it may
 * carry, values that break naive code (huge, tiny, negative, not-a-number text, long, odd Unicode,
 * deep), template mutation, query values and percent-encoding.
 * @module
 */
import fc from 'fast-check'

/** How an error answer of a route must look. */
export type ErrorShape =
  /** `{"error", "description"}` JSON (the catalogue, docs/errors.md). */
  | 'api'
  /** RFC 6749 `{"error", "error_description"}` JSON (the token endpoint, docs/oauth.md). */
  | 'oauth'
  /** The consent page: its own errors are an HTML page; a 405 is still the catalogue's JSON. */
  | 'page'

/** One generated request. */
export interface FuzzRequest {
  route: string
  method: string
  path: string
  headers: Record<string, string>
  body?: string | Uint8Array
  /** Raw bytes on a socket instead of fetch (request-line and header fuzzing). */
  raw?: string
  /** The shape its errors must have (`api` when absent). */
  errorShape?: ErrorShape
  /** A 2xx answer must not name any item of the other account (a read of the first account). */
  ownRead?: boolean
  /** A server-sent event stream: only the status and headers are read. */
  stream?: boolean
}

/** The tokens and ids the proof made before the server started. */
export interface FuzzContext {
  /** Owner, read + write, of the fuzzed account. */
  owner: string
  /** Owner, read only, of the fuzzed account. */
  readOnly: string
  /** Agent role, read + write, of the fuzzed account (refused by every REST route). */
  agent: string
  /** Owner of the other account, whose items must never appear in the first one's answers. */
  other: string
  /** Name of the fuzzed account. */
  accountName: string
  /** Name of the other account. */
  otherName: string
  /** Name and owner token of the account the admin routes reset, seed and script faults on. */
  adminName: string
  adminOwner: string
  /** Ids that exist in the other account (directory records, chats): asked for by the first. */
  otherIds: string[]
  /** Ids that exist in the fuzzed account, so that reads and writes also reach real records. */
  ownIds: Record<string, string[]>
  /** An OAuth client of the fuzzed account (public and confidential). */
  oauthClients: Array<{ id: string; secret: string; redirectUri: string }>
}

const deep = (n: number): unknown => {
  let v: unknown = 1
  for (let i = 0; i < n; i++) v = { a: v }
  return v
}

/** Values that break naive code: huge, tiny, negative, not-a-number text, long, odd Unicode. */
export const extreme: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    1e308,
    -1e308,
    2 ** 53 + 1,
    -(2 ** 53) - 1,
    9e12,
    9e15,
    -1,
    0,
    0.5,
    'NaN',
    'Infinity',
    '-0',
    '',
    ' ',
    null,
    true,
    [],
    {},
    '\u0000',
    '\ud800',
    '\uffff',
    '𝕏',
    'x'.repeat(10_000),
    '2026-13-45T99:99:99Z',
    '0000-01-01T00:00:00Z',
    '9999-12-31T23:59:59.999999Z',
    '+275760-09-13T00:00:00.000Z',
    '1970-01-01T00:00:00Z',
    "' OR 1=1--",
    '__proto__',
  ),
  fc.constant(deep(200)),
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 40 }),
)

/** Replaces 1–3 top-level fields (or the whole item) of a template with extreme values. */
export function mutate(template: Record<string, unknown>): fc.Arbitrary<unknown> {
  const keys = Object.keys(template)
  return fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .array(fc.tuple(fc.constantFrom(...keys, 'extra'), extreme), { minLength: 1, maxLength: 3 })
        .map((changes) => {
          const copy: Record<string, unknown> = { ...template }
          for (const [k, v] of changes) copy[k] = v
          return copy
        }),
    },
    { weight: 1, arbitrary: extreme },
  )
}

/** A mutated template as a JSON body, sometimes unchanged, sometimes not JSON at all. */
export function jsonBody(templates: Record<string, unknown>[]): fc.Arbitrary<string | Uint8Array> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...templates).map((t) => JSON.stringify(t)) },
    {
      weight: 7,
      arbitrary: fc.oneof(...templates.map(mutate)).map((v) => JSON.stringify(v) ?? ''),
    },
    { weight: 1, arbitrary: rawBodies },
  )
}

/** Bodies no parser should choke on: empty, cut, deep, invalid UTF-8, a BOM. */
export const rawBodies = fc.constantFrom<string | Uint8Array>(
  '',
  '[',
  '[]',
  'null',
  '{}',
  'true\n'.repeat(200),
  '['.repeat(20_000),
  '{"a":'.repeat(5000),
  new Uint8Array([0x5b, 0x22, 0xc0, 0x80, 0xff, 0xfe, 0x22, 0x5d]),
  new Uint8Array([0xef, 0xbb, 0xbf, 0x5b, 0x5d]),
)

/** Query and path values: extreme values as text, bad percent-escapes, long and deep text. */
export const queryValue: fc.Arbitrary<string> = fc.oneof(
  extreme.map((v) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))),
  fc.constantFrom(
    '%C0%80',
    '%FF%FE',
    '%00',
    '%',
    '1608615725.123456',
    '1525010407403712',
    '9007199254740993',
    '-1',
    '0',
    '1',
    '1000',
    'chats(*)',
    'chats(',
    'chats(' + 'a('.repeat(5000),
  ),
  fc.string({ maxLength: 30 }),
)

/** A query string from a dictionary (values that look like percent-escapes go as they are). */
export function queryString(params: Record<string, string>): string {
  const search = Object.entries(params).map(
    ([k, v]) => `${pct(k)}=${/^%[0-9A-F]{2}/.test(v) ? v : pct(v)}`,
  )
  return search.length ? `?${search.join('&')}` : ''
}

/** A dictionary of query parameters, mostly the route's own names. */
export function queryParams(names: string[], maxKeys = 4): fc.Arbitrary<Record<string, string>> {
  return fc.dictionary(
    fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...names) }, fc.string({ maxLength: 8 })),
    queryValue,
    { maxKeys },
  )
}

/** The Authorization header: mostly `owner` (or the given default), then every other kind. */
export function authHeader(ctx: FuzzContext, main = ctx.owner): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.constant(`Bearer ${main}`) },
    fc.constantFrom(
      `Bearer ${ctx.readOnly}`,
      `Bearer ${ctx.agent}`,
      `Bearer ${ctx.other}`,
      'Bearer ',
      'Basic dXNlcjpwYXNz',
      `Bearer ${'a'.repeat(5000)}`,
      `Bearer ${ctx.owner.slice(0, -2)}xx`,
      '',
      'Bearer \u00ff',
    ),
  )
}

/** A path segment: one of the given ids (real ones), or an extreme value. */
export function pathId(ids: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: ids.length ? fc.constantFrom(...ids) : fc.constant('1') },
    { weight: 3, arbitrary: queryValue },
    fc.constantFrom('0', '1', '-1', '9007199254740993', '1e308', '00001', 'me', '..', '%2F'),
  )
}

/** The two path shapes the REST routes are served under. */
export const REST_PREFIXES = ['/api/v2/chat', '/api/v2'] as const

/** `%XX` for every byte but the unreserved ones (a table: this runs for every generated value). */
const ESCAPES = Array.from({ length: 256 }, (_, b) =>
  /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b))
    ? String.fromCharCode(b)
    : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
)

/** Percent-encodes the UTF-8 bytes (lone surrogates become U+FFFD instead of throwing). */
export function pct(text: string): string {
  if (/^[A-Za-z0-9\-_.~]*$/.test(text)) return text
  let out = ''
  for (const b of Buffer.from(text, 'utf8')) out += ESCAPES[b]
  return out
}

/** A path segment: encoded, except values that already are escapes (sent as they are). */
export function segment(value: string): string {
  return /^%[0-9A-F]{2}/.test(value) ? value : pct(value)
}
