/**
 * Runs an ES module script in a child Node process and waits for it to exit on its own: how the
 * tests check that something (a worker thread, a connection) does not keep a process alive.
 */
import { spawn } from 'node:child_process'

/**
 * Runs `script` (`node --input-type=module -e`), resolving with its exit code and stdout once it
 * exits; rejects (killing it, naming `label`) if it is still running after `timeoutMs`.
 */
export async function runModuleScript(
  script: string,
  label: string,
  timeoutMs = 10_000,
): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  const code = await new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`the process (${label}) did not exit within ${timeoutMs} ms`))
    }, timeoutMs)
    child.once('exit', (c) => {
      clearTimeout(timer)
      resolve(c)
    })
  })
  return { code, out }
}
