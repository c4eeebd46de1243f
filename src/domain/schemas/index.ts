/**
 * One schema per exported object, written once (zod 4) and used three ways: import validation
 * (`validateImportItem`), the OpenAPI document (`exportItemJsonSchema`) and the client's item types
 * (`ExportedChat`, …, imported with `import type` so that the client bundle pulls no zod). Pure: no
 * I/O. The export path does not validate: it splices stored bytes, validated on the way in.
 * @module
 */
export * from './chat.js'
export * from './conversion.js'
export * from './events.js'
export * from './item-schemas.js'
export { countSchema, responseTimeSchema } from './primitives.js'
export type { ImportProblem, UnknownAttributes, ValidateImportOptions } from './validate-import.js'
export { validateImportItem } from './validate-import.js'
