/**
 * `chat-export sync` against a server that fails at random (429 with Retry-After, 500, slow
 * answers, dropped connections), killed with SIGKILL at random moments and restarted until a run
 * finishes. The destination must then hold exactly the server's data: nothing lost, nothing applied
 * twice (the per-stream item counters say so), and for JSONL the committed lines are exactly one
 * line per item, in export order, byte for byte.
 *
 * Deterministic where it can be: the data, the server's fault sequence and the kill delays are
 * seeded. Which request a fault or a kill hits still depends on timing; every loop is bounded.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seededRandom, type Random } from '../../src/domain/clock.js'
import { runCli } from '../support/cli.js'
import { freshPostgresUrl, postgresTestServerAvailable } from '../support/postgres.js'
import {
  counts,
  createAccountAndToken,
  destination,
  differences,
  fetchStream,
  readJsonlFile,
  serverSnapshot,
  simulate,
  spawnCli,
  startServe,
  STREAMS,
  type Item,
  type ServerProcess,
  type Snapshot,
  type Stream,
  type TestDestination,
} from '../support/sync-e2e.js'

const FAULTS = '429=0.1,500=0.1,slow=0.1,drop=0.05,seed=7,delay=300,retry-after=1'
/** Runs per destination at most; the last one is never killed. */
const MAX_RUNS = 30
/** After this long, runs are no longer killed, so the loop ends even on a very slow machine. */
const KILL_WINDOW_MS = 20_000

const dir = mkdtempSync(join(tmpdir(), 'chat-export-sync-faults-'))
let server: ServerProcess
let token = ''
let expected: Snapshot
/** Each stream's items in export order, as the sync receives them. */
const ordered = new Map<Stream, Item[]>()

beforeAll(async () => {
  const store = `sqlite:${join(dir, 'server.db')}`
  token = await createAccountAndToken(store)
  // Load and read the data back from a well-behaved server, then serve the same store with faults.
  const clean = await startServe(store)
  try {
    await simulate(clean.url, token, { seed: 5, from: '2024-05-06T08:00:00Z', hours: 3 })
    expected = await serverSnapshot(clean.url, token)
    for (const stream of STREAMS) ordered.set(stream, await fetchStream(clean.url, token, stream))
  } finally {
    await clean.stop()
  }
  server = await startServe(store, ['--faults', FAULTS])
})

afterAll(async () => {
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const env = () => ({ CHAT_EXPORT_TOKEN: token })

interface LoopResult {
  runs: number
  killed: number
  /** Runs that found a committed cursor left by a killed run and resumed from it. */
  resumed: number
}

/**
 * Starts `sync` into `d` and SIGKILLs it after a seeded random delay, again and again, until a
 * run exits by itself. Any exit code but 0 fails: faults must be retried, and a killed run must
 * leave a destination the next run accepts.
 */
async function syncUntilDone(d: TestDestination, random: Random): Promise<LoopResult> {
  const killUntil = Date.now() + KILL_WINDOW_MS
  let killed = 0
  let resumed = 0
  for (let run = 1; run <= MAX_RUNS; run++) {
    const sync = spawnCli(
      ['sync', '--from', server.url, '--to', d.to, '--limit', '10', '--progress', 'lines'],
      env(),
    )
    // Startup alone takes a few hundred ms, so delays start there and reach into the run.
    const delay = 300 + Math.floor(random.next() * 1500)
    const mayKill = run < MAX_RUNS && Date.now() < killUntil
    let timer: NodeJS.Timeout | undefined
    const outcome = await Promise.race([
      sync.exited,
      new Promise<'kill'>((resolve) => {
        if (mayKill) timer = setTimeout(() => resolve('kill'), delay)
      }),
    ])
    clearTimeout(timer)
    if (outcome === 'kill') sync.child.kill('SIGKILL')
    const { code, signal } = await sync.exited
    if (/: resuming from /.test(sync.stderr())) resumed++
    expect(sync.stderr()).not.toContain(token)
    if (signal === 'SIGKILL') {
      killed++
      continue
    }
    if (code === 0) return { runs: run, killed, resumed }
    throw new Error(`${d.name}: run ${run} exited with ${code}: ${sync.stderr()}`)
  }
  throw new Error(`${d.name}: no run finished in ${MAX_RUNS} runs`)
}

/** Items committed per stream, from `sync state show --json`. */
async function committedItems(d: TestDestination): Promise<Record<string, number>> {
  const shown = await runCli(['sync', 'state', 'show', '--to', d.to, '--json'])
  expect(shown.code, shown.stderr).toBe(0)
  const states = JSON.parse(shown.stdout) as Array<{ stream: string; items: number }>
  return Object.fromEntries(states.map((s) => [s.stream, Number(s.items)]))
}

async function checkDestination(d: TestDestination): Promise<void> {
  expect(differences(await d.read(), expected), d.name).toBeNull()
  // Every item was committed exactly once over all the runs: a page applied twice would count
  // twice (the data is static, so each item is served once).
  expect(await committedItems(d), d.name).toEqual(counts(expected))
}

describe('sync survives faults and kill -9', () => {
  const cases: Array<[string, () => Promise<TestDestination>, number]> = [
    ['sqlite', async () => destination('sqlite', `sqlite:${join(dir, 'dest.db')}`, 'flag'), 101],
    ['jsonl', async () => destination('jsonl', `jsonl:${join(dir, 'jsonl')}`, 'flag'), 202],
  ]
  if (postgresTestServerAvailable()) {
    cases.push([
      'postgres',
      async () => destination('postgres', await freshPostgresUrl(), 'flag'),
      303,
    ])
  }

  it.each(cases)(
    '%s: killed and restarted until done, equals the server',
    async (_, make, seed) => {
      const d = await make()
      const { runs, killed, resumed } = await syncUntilDone(d, seededRandom(seed))
      expect(killed, `${runs} runs`).toBeGreaterThan(0)
      // Killed runs had committed pages, and later runs went on from there.
      expect(resumed, `${runs} runs, ${killed} killed`).toBeGreaterThan(0)
      await checkDestination(d)

      if (d.to.startsWith('jsonl:')) {
        const jsonlDir = d.to.slice('jsonl:'.length)
        for (const stream of STREAMS) {
          const file = readJsonlFile(jsonlDir, stream)
          // One line per item, in export order, exactly as a run without crashes writes them; no
          // torn or uncommitted tail left behind.
          expect(file.lines, stream).toEqual(ordered.get(stream)!.map((i) => JSON.stringify(i)))
          expect(file.fileBytes, stream).toBe(file.committedBytes)
        }
      }

      // Once caught up, another run (faults still on) changes nothing.
      const again = await runCli(
        ['sync', '--from', server.url, '--to', d.to, '--limit', '20', '--quiet'],
        undefined,
        env(),
      )
      expect(again.code, again.stderr).toBe(0)
      await checkDestination(d)
    },
  )
})
