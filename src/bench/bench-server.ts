/**
 * Starts `chat-export serve` as a child process (so load generation and the server do not share an
 * event loop), and waits until it listens.
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'

export interface ChildServer {
  url: string
  pid: number
  stop(): Promise<void>
}

const CLI = fileURLToPath(new URL('../cli/index.js', import.meta.url))

/**
 * Spawns the server on a free port over `store`. With `readWorkers` 0 (the default here) it reads
 * pages in its main thread and is pinned to the server CPU; with read workers it may use every
 * CPU, the load's too (each worker is a thread of its own, and one CPU would serialise them).
 */
export function spawnServer(
  store: string,
  extraArgs: string[] = [],
  options: { readWorkers?: number } = {},
): Promise<ChildServer> {
  const readWorkers = options.readWorkers ?? 0
  return spawnListening(
    CLI,
    [
      'serve',
      '--store',
      store,
      '--port',
      '0',
      '--log-level',
      'error',
      '--read-workers',
      String(readWorkers),
      ...extraArgs,
    ],
    { cpus: readWorkers > 0 ? 'all' : 'server' },
  )
}

/** Where servers run: CPU 0 (the load runs on the others; see {@link pinLoadToOtherCores}). */
const SERVER_CPU = '0'
const canPin = existsSync('/usr/bin/taskset') && cpus().length >= 2

/** The CPUs a server may use: the server CPU, or all of them (servers with read workers). */
export type ServerCpus = 'server' | 'all'

/** What a server started with `cpus` may use, as a table says it. */
export function describeCpus(cpusAllowed: ServerCpus): string {
  if (!canPin) return 'not pinned'
  return cpusAllowed === 'all' ? `CPUs 0-${cpus().length - 1} (shared with the load)` : 'CPU 0'
}

/**
 * Pins this process (the load generator) to every CPU but the servers' one, so that the server
 * and its load do not compete for a core. No-op without taskset or with one core.
 */
export function pinLoadToOtherCores(): boolean {
  if (!canPin) return false
  const others = cpus()
    .map((_, i) => i)
    .filter((i) => String(i) !== SERVER_CPU)
  spawnSync('/usr/bin/taskset', ['-a', '-pc', others.join(','), String(process.pid)])
  return true
}

/**
 * Lets process `pid` (and its threads) use every CPU: for a process whose subject is the client
 * itself (a whole sync), which a user's machine does not confine to one core. No-op where pinning
 * is.
 */
export function allowEveryCpu(pid: number): void {
  if (!canPin) return
  const all = cpus()
    .map((_, i) => i)
    .join(',')
  spawnSync('/usr/bin/taskset', ['-a', '-pc', all, String(pid)])
}

/**
 * Runs `node script args...` (pinned to the server CPU when possible, or to every CPU) and waits
 * until it prints `listening on http://...`.
 */
export async function spawnListening(
  script: string,
  args: string[],
  options: { cpus?: ServerCpus } = {},
): Promise<ChildServer> {
  const allowed =
    options.cpus === 'all'
      ? cpus()
          .map((_, i) => i)
          .join(',')
      : SERVER_CPU
  const command = canPin ? '/usr/bin/taskset' : process.execPath
  const argv = canPin ? ['-c', allowed, process.execPath, script, ...args] : [script, ...args]
  const child: ChildProcess = spawn(command, argv, { stdio: ['ignore', 'pipe', 'inherit'] })
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8')
      const match = /listening on (http:\/\/\S+)/.exec(buffer)
      if (match?.[1]) resolve(match[1])
    })
    child.once('exit', (code) => reject(new Error(`${script} exited early with code ${code}`)))
  })
  return {
    url,
    pid: child.pid ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      }),
  }
}

/** Resident set size of a process in MB, from /proc (Linux). */
export async function rssMb(pid: number): Promise<number | undefined> {
  const { readFile } = await import('node:fs/promises')
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8')
    const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1]
    return kb ? Number(kb) / 1024 : undefined
  } catch {
    return undefined
  }
}

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
export async function cpuSeconds(pid: number): Promise<number | undefined> {
  const { readFile } = await import('node:fs/promises')
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    return ticks / 100
  } catch {
    return undefined
  }
}

/**
 * CPU seconds used by every process named `postgres` on this machine (Linux /proc): their own time
 * plus that of their children that have exited (backends end with their connections, and the
 * postmaster collects their time). Meant for a bench whose embedded PostgreSQL is the only one
 * running; undefined without /proc.
 */
export async function postgresCpuSeconds(): Promise<number | undefined> {
  const { readdir, readFile } = await import('node:fs/promises')
  let entries: string[]
  try {
    entries = await readdir('/proc')
  } catch {
    return undefined
  }
  let ticks = 0
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = await readFile(`/proc/${entry}/stat`, 'utf8')
    } catch {
      continue // ended meanwhile
    }
    if (!stat.includes(' (postgres) ')) continue
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
  }
  return ticks / 100
}
