/**
 * The package as a user installs it: `npm pack`, then the tarball installed into an empty project,
 * whose `chat-export` command runs and serves and whose documented subpath exports import from
 * plain Node.
 */
import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'

const run = promisify(execFile)
const ROOT = new URL('../..', import.meta.url).pathname
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm'

let work: string
let consumer: string

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'chat-export-pack-'))
  consumer = join(work, 'consumer')
  // dist/ is fresh: `npm test` builds before running the suite, so prepack need not run again.
  const packed = await run(
    NPM,
    ['pack', '--ignore-scripts', '--json', '--pack-destination', work],
    {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
    },
  )
  const filename = (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]?.filename
  if (filename === undefined) throw new Error(`npm pack printed no file name: ${packed.stdout}`)
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version: string }>
  }
  const betterSqlite = lock.packages['node_modules/better-sqlite3']?.version
  writeFileSync(
    join(work, 'consumer.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  )
  cpSync(join(work, 'consumer.json'), join(consumer, 'package.json'))
  // Scripts are skipped and better-sqlite3's native module is taken from this checkout (the same
  // version, pinned here, built for the same Node): compiling SQLite again would only test
  // node-gyp. Everything else comes from the npm cache or registry, as for any user.
  await run(
    NPM,
    [
      'install',
      '--ignore-scripts',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      join(work, filename),
      ...(betterSqlite ? [`better-sqlite3@${betterSqlite}`] : []),
    ],
    { cwd: consumer, maxBuffer: 64 * 1024 * 1024 },
  )
  cpSync(
    join(ROOT, 'node_modules/better-sqlite3/build'),
    join(consumer, 'node_modules/better-sqlite3/build'),
    { recursive: true },
  )
}, 300_000)

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true })
})

describe('the packed tarball', () => {
  it('holds the built CLI and the subpath exports with their types, and no tests or benchmarks', () => {
    const installed = join(consumer, 'node_modules/chat-export')
    for (const file of [
      'bin/chat-export.js',
      'dist/cli/index.js',
      'dist/client/index.js',
      'dist/client/index.d.ts',
      'dist/sync/index.js',
      'dist/sync/index.d.ts',
    ]) {
      expect(existsSync(join(installed, file)), file).toBe(true)
    }
    for (const absent of ['src', 'test', 'dist/bench', 'dist/proofs']) {
      expect(existsSync(join(installed, absent)), absent).toBe(false)
    }
  })

  it('runs `chat-export --help` from the installed package', async () => {
    const { stdout } = await run(join(consumer, 'node_modules/.bin/chat-export'), ['--help'], {
      cwd: consumer,
    })
    expect(stdout).toContain('serve')
    expect(stdout).toContain('sync')
  })

  it('serves from the installed package', async () => {
    const child = spawn(
      join(consumer, 'node_modules/.bin/chat-export'),
      ['serve', '--store', `sqlite:${join(work, 'served.db')}`, '--port', '0'],
      { cwd: consumer, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    try {
      let out = ''
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 30_000)
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString()
          const match = /listening on (http:\/\/\S+)/.exec(out)
          if (match?.[1]) {
            clearTimeout(timer)
            resolve(match[1])
          }
        })
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)))
      })
      const health = await fetch(`${url}/healthz`)
      expect(health.status).toBe(200)
    } finally {
      child.kill('SIGTERM')
    }
  })

  it('imports chat-export/client and chat-export/sync from plain Node', async () => {
    const script =
      "const client = await import('chat-export/client'); const sync = await import('chat-export/sync');" +
      'console.log(typeof client.ExportClient, typeof sync.runSync)'
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: consumer,
    })
    expect(stdout.trim()).toBe('function function')
  })
})
