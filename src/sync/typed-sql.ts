/**
 * The SQL of the typed tables (typed-tables.ts) for SQLite and PostgreSQL. The typed columns are
 * filled by the database itself from the item's JSON (`->>` paths in SQLite, jsonb operators in
 * PostgreSQL): the item text is parsed once, in C, and never by the sync. Identifiers and paths
 * come only from the derived table list (checked to be plain names), never from input.
 * @module
 */
import type { ExportStream } from '../client/index.js'
import type { ChildTable, ColumnKind, StreamTables, TypedColumn } from './typed-tables.js'
import { STREAM_TABLES } from './typed-tables.js'

export type Dialect = 'sqlite' | 'postgres'

const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** A quoted identifier (`"from"`, `"index"` are reserved words in SQL). */
export function ident(name: string): string {
  if (!PLAIN_NAME.test(name)) throw new Error(`Not a plain SQL name: ${JSON.stringify(name)}.`)
  return `"${name}"`
}

const TYPES: Record<Dialect, Record<ColumnKind, string>> = {
  sqlite: {
    boolean: 'INTEGER',
    integer: 'INTEGER',
    number: 'REAL',
    timestamp: 'TEXT',
    text: 'TEXT',
    json: 'TEXT',
  },
  postgres: {
    boolean: 'boolean',
    integer: 'bigint',
    number: 'double precision',
    timestamp: 'timestamptz',
    text: 'text',
    json: 'jsonb',
  },
}

/** The SQL type of a column kind. */
export function columnType(dialect: Dialect, kind: ColumnKind): string {
  return TYPES[dialect][kind]
}

/**
 * The expression that reads `column` from the JSON in `source` (an SQL expression: a parameter,
 * a column, a json_each value).
 */
export function extract(dialect: Dialect, source: string, column: TypedColumn): string {
  for (const part of column.path) ident(part)
  if (dialect === 'sqlite') {
    if (column.path.length === 0) return source
    const path = `'$.${column.path.join('.')}'`
    return column.kind === 'json' ? `(${source} -> ${path})` : `(${source} ->> ${path})`
  }
  const path = `'{${column.path.join(',')}}'`
  const value = column.path.length === 0 ? source : `(${source} #> ${path})`
  if (column.kind === 'json') return value
  const text = column.path.length === 0 ? `(${source} #>> '{}')` : `(${source} #>> ${path})`
  switch (column.kind) {
    case 'boolean':
      return `(CASE WHEN jsonb_typeof(${value}) = 'boolean' THEN ${text}::boolean END)`
    case 'integer':
      return `(CASE WHEN jsonb_typeof(${value}) = 'number' THEN ${text}::numeric::bigint END)`
    case 'number':
      return `(CASE WHEN jsonb_typeof(${value}) = 'number' THEN ${text}::double precision END)`
    case 'timestamp':
      return `(CASE WHEN jsonb_typeof(${value}) = 'string' THEN ${text}::timestamptz END)`
    case 'text':
      return text
  }
}

/** `CREATE TABLE IF NOT EXISTS` for one child table. */
export function childTableDdl(dialect: Dialect, child: ChildTable): string {
  const key = dialect === 'sqlite' ? 'TEXT' : 'text'
  const position = dialect === 'sqlite' ? 'INTEGER' : 'integer'
  const columns = child.columns.map((c) => `${ident(c.name)} ${columnType(dialect, c.kind)}`)
  return `CREATE TABLE IF NOT EXISTS ${ident(child.name)} (
  ${ident(child.parentKey)} ${key} NOT NULL,
  "position" ${position} NOT NULL,
  ${[...columns, `PRIMARY KEY (${ident(child.parentKey)}, "position")`].join(',\n  ')}
)`
}

/** The typed tables of the streams, as derived. */
export function typedTablesOf(streams: readonly ExportStream[]): StreamTables[] {
  return streams.map((s) => STREAM_TABLES[s])
}

/**
 * `INSERT INTO child SELECT …` of the elements of each parent's array: `parents` is an SQL
 * source with columns `key` (the parent key) and `data` (the item JSON).
 */
export function childInsert(dialect: Dialect, child: ChildTable, parents: string): string {
  const columns = [ident(child.parentKey), '"position"', ...child.columns.map((c) => ident(c.name))]
  ident(child.attribute) // checked plain: it is used inside a JSON path
  if (dialect === 'sqlite') {
    const values = child.columns.map((c) =>
      child.elementColumn === undefined ? extract(dialect, 'e.value', c) : 'e.value',
    )
    return `INSERT INTO ${ident(child.name)} (${columns.join(', ')})
SELECT p.key, e.key, ${values.join(', ')}
FROM ${parents} AS p, json_each(p.data, '$.${child.attribute}') AS e
WHERE json_type(p.data, '$.${child.attribute}') = 'array'`
  }
  const values = child.columns.map((c) => extract(dialect, 'e.value', c))
  return `INSERT INTO ${ident(child.name)} (${columns.join(', ')})
SELECT p.key, e.n - 1, ${values.join(', ')}
FROM ${parents} AS p,
  LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(p.data -> '${child.attribute}') = 'array'
    THEN p.data -> '${child.attribute}' ELSE '[]'::jsonb END) WITH ORDINALITY AS e(value, n)`
}
