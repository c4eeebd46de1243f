import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { ERRORS } from '../../src/domain/errors.js'

describe('error catalogue', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8')
  const documented = new Map(
    [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]),
  )

  it('documents every code with its status', () => {
    for (const [code, entry] of Object.entries(ERRORS)) {
      expect(documented.get(code), code).toBe(entry.status)
    }
  })

  it('documents nothing that is not in the catalogue', () => {
    for (const code of documented.keys()) expect(Object.keys(ERRORS)).toContain(code)
  })
})
