/**
 * The bench and proof scripts as a user runs them (`node dist/...`, which `npm test` builds first):
 * `--help` prints the usage, and a mistyped option or value says what was wrong, with exit 2 and
 * no stack trace.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const SCRIPTS = [
  'dist/proofs/check-completeness.js',
  'dist/proofs/check-crash.js',
  'dist/proofs/check-fuzz.js',
  'dist/proofs/check-slow-readers.js',
  'dist/bench/run.js',
]
const root = fileURLToPath(new URL('../..', import.meta.url))

function run(script: string, args: string[]) {
  return spawnSync(process.execPath, [script, ...args], { cwd: root, encoding: 'utf8' })
}

describe('bench and proof scripts: arguments', () => {
  it.each(SCRIPTS)('%s --help prints the usage and exits 0', (script) => {
    const result = run(script, ['--help'])
    expect(result.status).toBe(0)
    expect(result.stdout).toMatch(/^usage: npm run /)
    expect(result.stderr).toBe('')
  })

  it.each(SCRIPTS)('%s names an unknown option and exits 2 without a stack', (script) => {
    const result = run(script, ['--no-such-option'])
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/^error: Unknown option '--no-such-option'/)
    expect(result.stderr).toContain('usage: npm run ')
    expect(result.stderr).not.toMatch(/\n\s+at /)
  })

  it('a value that is not a whole number is refused before any work starts', () => {
    const result = run('dist/proofs/check-fuzz.js', ['--cases', 'ten'])
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(/^error: --cases must be a whole number of at least 1, not "ten"/)
    const bench = run('dist/bench/run.js', ['--chats', '1e3.5'])
    expect(bench.status).toBe(2)
    expect(bench.stderr).toContain('--chats must be a whole number')
  })
})
