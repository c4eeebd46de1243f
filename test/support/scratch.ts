/**
 * Temporary directories and things to close, for a test file: what it makes during a test is
 * closed (last first) and its directories removed after that test.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach } from 'vitest'

export interface Scratch {
  /** A new empty directory, removed after the test. */
  dir(): string
  /** Runs `close` after the test, before the directories go. */
  closeAfter(close: () => Promise<void>): void
}

/** Call at the top level of a test file; `prefix` names its directories (`chat-export-pool-`). */
export function scratch(prefix: string): Scratch {
  const dirs: string[] = []
  const closers: Array<() => Promise<void>> = []
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close()
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  })
  return {
    dir: () => {
      const dir = mkdtempSync(join(tmpdir(), prefix))
      dirs.push(dir)
      return dir
    },
    closeAfter: (close) => closers.push(close),
  }
}
