/**
 * Starts `chat-export serve` as a child process (so load generation and the server do not share an
 * event loop), and waits until it listens.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export interface ChildServer {
  url: string
  pid: number
  stop(): Promise<void>
}

const CLI = fileURLToPath(new URL('../cli/index.js', import.meta.url))

/** Spawns the server on a free port over `store`. */
export async function spawnServer(store: string, extraArgs: string[] = []): Promise<ChildServer> {
  const child: ChildProcess = spawn(
    process.execPath,
    [CLI, 'serve', '--store', store, '--port', '0', '--log-level', 'error', ...extraArgs],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const url = await new Promise<string>((resolve, reject) => {
    let buffer = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8')
      const match = /listening on (http:\/\/\S+)/.exec(buffer)
      if (match?.[1]) resolve(match[1])
    })
    child.once('exit', (code) => reject(new Error(`server exited early with code ${code}`)))
  })
  return {
    url,
    pid: child.pid ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
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
