/**
 * The client's item types come from the server's schemas, but only as types: nothing the client
 * loads at run time reaches zod or a Node-only module.
 */
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, expectTypeOf, it } from 'vitest'
import type {
  ExportItem,
  ExportPage,
  ExportedChat,
  ExportedAgentSpan,
} from '../../src/client/index.js'
import { ExportClient } from '../../src/client/index.js'

/** Every module the client's index loads at run time (type-only imports and exports are erased). */
function runtimeImports(): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string) => {
    if (files.has(file)) return
    files.add(file)
    const source = readFileSync(file, 'utf8')
    for (const match of source.matchAll(
      /^(?:import|export)\s+(type\s+)?[^'"]*?from\s+'([^']+)'/gm,
    )) {
      if (match[1] !== undefined) continue
      const specifier = match[2]!
      if (specifier.startsWith('.'))
        visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')))
      else packages.add(specifier)
    }
  }
  visit(fileURLToPath(new URL('../../src/client/index.ts', import.meta.url)))
  return { files, packages }
}

describe('client item types', () => {
  it('load no zod and no Node-only module at run time', () => {
    const { files, packages } = runtimeImports()
    expect([...packages]).toEqual([])
    expect([...files].some((f) => f.includes('/domain/schemas/'))).toBe(false)
  })

  it('type the items of one named stream, and keep ExportItem otherwise', () => {
    const client = new ExportClient({ baseUrl: 'http://localhost:1/api/v2/chat', token: 't' })
    expectTypeOf(client.pages('chats')).toEqualTypeOf<
      AsyncGenerator<ExportPage<ExportedChat>, void, undefined>
    >()
    expectTypeOf(client.items('agent_timeline')).toEqualTypeOf<
      AsyncGenerator<ExportedAgentSpan, void, undefined>
    >()
    // A narrower `fields` serves only what it names: plain items.
    expectTypeOf(client.items('chats', { fields: 'chats(id,rating)' })).toEqualTypeOf<
      AsyncGenerator<ExportItem, void, undefined>
    >()
    const stream = 'chats' as 'chats' | 'conversions'
    expectTypeOf(client.items(stream)).toEqualTypeOf<AsyncGenerator<ExportItem, void, undefined>>()
  })
})
