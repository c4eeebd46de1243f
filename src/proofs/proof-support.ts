/**
 * What the proof scripts share: a real `chat-export serve` child over a real store, accounts and
 * tokens made beforehand, the live-event workload (chats that grow one message per acknowledged
 * batch), percentiles and the report table. The server always runs as a child process of the
 * built CLI (dist/), so it can be SIGKILLed and never shares an event loop with the load.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startBenchPostgres } from '../bench/bench-postgres.js'
import { markdownTable } from '../bench/table.js'
import { processEnvironment } from '../config/config.js'
import { systemClock } from '../domain/clock.js'
import { issueToken } from '../auth/tokens.js'
import { openStore } from '../store/open-store.js'

/** The built CLI, from src/proofs (vitest) and from dist/proofs (npm run check:*) alike. */
export const CLI_PATH = fileURLToPath(new URL('../../dist/cli/index.js', import.meta.url))

export interface ProofServer {
  url: string
  pid: number
  /** Resolves with the exit code (or signal name) once the child has exited. */
  exited: Promise<string>
  kill(signal: NodeJS.Signals): Promise<string>
  /**
   * The event-loop stalls the server logged (`--stall-warn-ms`, at warn level), longest first,
   * at most 20: which requests were being served when every account waited.
   */
  stalls(): ServerStall[]
}

/** A stall the server logged (src/observability/loop-stalls.ts). */
export interface ServerStall {
  blockedMs: number
  cpuMs: number
  gcMs: number
  inFlight: string[]
}

/** The message src/server/start-server.ts logs a stall with. */
const STALL_MESSAGE = 'event loop blocked: every account waited'

/** Starts `chat-export serve` on a free port over `store`; resolves once it listens. */
export async function spawnProofServer(
  store: string,
  env: Record<string, string> = {},
  args: string[] = [],
): Promise<ProofServer> {
  const child: ChildProcess = spawn(
    process.execPath,
    [CLI_PATH, 'serve', '--store', store, '--port', '0', '--log-level', 'warn', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...(processEnvironment() as NodeJS.ProcessEnv), ...env },
    },
  )
  let stderr = ''
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString('utf8')).slice(-4000)
  })
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? String(code))),
  )
  const stalls: ServerStall[] = []
  let pending = ''
  // The server logs JSON lines on stderr.
  child.stderr?.on('data', (chunk: Buffer) => {
    pending += chunk.toString('utf8')
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) {
      if (!line.includes(STALL_MESSAGE)) continue
      try {
        const entry = JSON.parse(line) as Partial<ServerStall>
        stalls.push({
          blockedMs: entry.blockedMs ?? 0,
          cpuMs: entry.cpuMs ?? 0,
          gcMs: entry.gcMs ?? 0,
          inFlight: entry.inFlight ?? [],
        })
        stalls.sort((a, b) => b.blockedMs - a.blockedMs).splice(20)
      } catch {
        // Not a log line of ours.
      }
    }
  })
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8')
      const match = /listening on (http:\/\/\S+)/.exec(buffer)
      if (match?.[1]) resolve(match[1])
    })
    void exited.then((how) => reject(new Error(`server exited early (${how}): ${stderr}`)))
  })
  return {
    url,
    pid: child.pid ?? 0,
    exited,
    kill(signal) {
      child.kill(signal)
      return exited
    },
    stalls: () => [...stalls],
  }
}

export interface ProofAccount {
  id: number
  name: string
  /** owner, read + write */
  token: string
}

/** Creates `count` accounts with read+write owner tokens (before the server starts). */
export async function createProofAccounts(store: string, count: number): Promise<ProofAccount[]> {
  const clock = systemClock()
  const opened = await openStore(store, { clock })
  try {
    const accounts: ProofAccount[] = []
    for (let i = 0; i < count; i++) {
      const name = `proof-${Date.now()}-${i}`
      const account = await opened.createAccount(name)
      const { token } = await issueToken(opened, {
        accountId: account.id,
        role: 'owner',
        scopes: ['read', 'write'],
        now: clock.now(),
      })
      accounts.push({ id: account.id, name, token })
    }
    return accounts
  } finally {
    await opened.close()
  }
}

/**
 * The store URL of a run: `--store URL` as given; `sqlite` a fresh file in a temp directory;
 * `postgres` a fresh database on DATABASE_URL or on an embedded server (stopped by `stop`).
 */
export async function proofStore(
  spec: string,
  log: (line: string) => void,
): Promise<{ url: string; backend: 'sqlite' | 'postgres'; stop: () => Promise<void> }> {
  if (spec === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'chat-export-proof-'))
    return { url: `sqlite:${join(dir, 'proof.db')}`, backend: 'sqlite', stop: async () => {} }
  }
  if (spec === 'postgres') {
    log('starting PostgreSQL (DATABASE_URL or embedded)…')
    const pg = await startBenchPostgres()
    return { url: pg.url, backend: 'postgres', stop: pg.stop }
  }
  return {
    url: spec,
    backend: spec.startsWith('sqlite:') ? 'sqlite' : 'postgres',
    stop: async () => {},
  }
}

/** A deterministic PRNG (mulberry32): the same seed gives the same workload decisions. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** The p-th percentile (0..100) of `values` (nearest rank); 0 for none. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank] as number
}

/** A two-column Markdown table of a report. */
export function reportTable(rows: Array<[string, string | number]>): string {
  return markdownTable(
    ['measure', 'value'],
    rows.map(([measure, value]) => ({ measure, value })),
  )
}

/** ISO time with microseconds from epoch milliseconds (events carry sender time). */
export function isoMillis(ms: number): string {
  return new Date(ms).toISOString()
}

/**
 * The live events of one chat: `start` opens it with its first visitor message; each `message`
 * adds one, so the exported `count.total` of a version names the last batch it includes.
 */
export class ChatScript {
  private lastMs = 0
  private n = 0
  constructor(
    readonly chatId: string,
    private readonly eventPrefix: string,
  ) {}

  /** Messages acknowledged so far. */
  acked = 0

  private stamp(): string {
    // Events of one chat must be in time order: never reuse or go back a millisecond.
    this.lastMs = Math.max(Date.now(), this.lastMs + 1)
    return isoMillis(this.lastMs)
  }

  private id(): string {
    this.n += 1
    return `${this.eventPrefix}-${this.n}`
  }

  /** The batch that opens the chat (1 message). */
  start(): unknown[] {
    const visitorId = `9339545.${this.chatId.slice(-12)}`
    const ts = this.stamp()
    return [
      {
        id: this.id(),
        type: 'chat.started',
        timestamp: ts,
        chat_id: this.chatId,
        visitor: { id: visitorId, name: 'Proof visitor', email: '', phone: '', notes: '' },
        session: { id: `s.${this.chatId}`, start_date: ts },
      },
      {
        id: this.id(),
        type: 'chat.member_joined',
        timestamp: ts,
        chat_id: this.chatId,
        member: 'visitor',
      },
      this.messageEvent(),
    ]
  }

  /** A batch of one more visitor message. */
  message(): unknown[] {
    return [this.messageEvent()]
  }

  private messageEvent(): unknown {
    return {
      id: this.id(),
      type: 'chat.message',
      timestamp: this.stamp(),
      chat_id: this.chatId,
      sender: 'visitor',
      msg: `message ${this.n}`,
      msg_id: String(this.n),
    }
  }
}

/** POSTs a batch of events; resolves with the status (0 when the connection failed). */
export async function postEvents(url: string, token: string, events: unknown[]): Promise<number> {
  try {
    const res = await fetch(`${url}/api/chat-export/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(events),
    })
    await res.arrayBuffer()
    return res.status
  } catch {
    return 0
  }
}

/** An exported chat version as the proofs see it. */
export interface SeenVersion {
  id: string
  /** update_timestamp as text (exact). */
  position: string
  /** count.total: how many messages the version includes. */
  messages: number
}

/** A parsed export page, with end_time kept as its exact text. */
export interface ProofPage {
  status: number
  items: SeenVersion[]
  count: number
  endTime: string
  endId: string
  nextPage: string
  raw: string
}

/** GETs an export page and parses what the proofs check. */
export async function getPage(url: string, token: string): Promise<ProofPage> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
  const raw = await res.text()
  if (res.status !== 200) {
    return { status: res.status, items: [], count: 0, endTime: '', endId: '', nextPage: '', raw }
  }
  const body = JSON.parse(raw) as {
    chats: Array<{ id: string; update_timestamp: string; count?: { total?: number } }>
    count: number
    end_id: string
    next_page: string
  }
  return {
    status: 200,
    items: body.chats.map((c) => ({
      id: c.id,
      position: c.update_timestamp,
      messages: c.count?.total ?? 0,
    })),
    count: body.count,
    // JSON.parse would round a 16-digit decimal: keep the exact text for restarts.
    endTime: /"end_time":([0-9.eE+-]+)/.exec(raw)?.[1] ?? '',
    endId: body.end_id,
    nextPage: body.next_page,
    raw,
  }
}

/** Sleeps `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
