/**
 * A real server on loopback over a real store, with accounts and tokens ready: what the HTTP and
 * end-to-end tests talk to. Requests go through fetch over TCP, like any client's.
 */
import { readFileSync } from 'node:fs'
import { pino } from 'pino'
import type { ServeConfig } from '../../src/config/config.js'
import type { Clock } from '../../src/domain/clock.js'
import { systemClock } from '../../src/domain/clock.js'
import type { StreamName } from '../../src/domain/streams.js'
import { issueToken } from '../../src/auth/tokens.js'
import { startServer, type RunningServer } from '../../src/server/start-server.js'
import type { Role, Scope, Store } from '../../src/store/store.js'
import type { StoreBackend, StoreHandle } from './stores.js'
import { storeBackends } from './stores.js'

/** The reference document's example items (copied from shared/spec/examples). */
export const EXAMPLES_DIR = new URL('../fixtures/examples/', import.meta.url)

/** The items of one example response of the reference document. */
export function exampleItems(stream: string): Record<string, unknown>[] {
  const text = readFileSync(new URL(`${stream}.jsonl`, EXAMPLES_DIR), 'utf8')
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

export interface TestAccount {
  id: number
  name: string
  owner: string
  admin: string
  agent: string
  /** owner role, write scope only */
  writeOnly: string
  /** owner role, read and write */
  readWrite: string
}

export interface Harness {
  server: RunningServer
  store: Store
  url: string
  clock: Clock
  account(name: string): Promise<TestAccount>
  token(accountId: number, role: Role, scopes: Scope[], ttl?: number): Promise<string>
  get(path: string, token?: string, headers?: Record<string, string>): Promise<Response>
  getJson(path: string, token: string): Promise<any>
  importLines(
    token: string,
    stream: StreamName,
    items: unknown[],
    preserve?: boolean,
  ): Promise<Response>
  close(): Promise<void>
}

export interface HarnessOptions {
  backend?: StoreBackend
  clock?: Clock
  config?: Partial<ServeConfig>
}

/** Starts a server on port 0 over a fresh store. */
export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const clock = options.clock ?? systemClock()
  const backend = options.backend ?? storeBackends()[0]!
  const handle: StoreHandle = await backend.create(clock)
  const config: ServeConfig = {
    store: 'sqlite:unused',
    host: '127.0.0.1',
    port: 0,
    publicUrl: undefined,
    minStartAgeSeconds: 0,
    rateLimitPerMinute: 0,
    demo: false,
    demoSeed: 42,
    demoSpeed: 1,
    logLevel: 'silent',
    ...options.config,
  }
  const server = await startServer(config, {
    clock,
    logger: pino({ level: 'silent' }),
    store: handle.store,
  })
  const store = handle.store
  const token = async (accountId: number, role: Role, scopes: Scope[], ttl?: number) =>
    (await issueToken(store, { accountId, role, scopes, now: clock.now(), ttl })).token
  const h: Harness = {
    server,
    store,
    url: server.url,
    clock,
    token,
    async account(name) {
      const account = await store.createAccount(name)
      return {
        id: account.id,
        name,
        owner: await token(account.id, 'owner', ['read']),
        admin: await token(account.id, 'administrator', ['read']),
        agent: await token(account.id, 'agent', ['read']),
        writeOnly: await token(account.id, 'owner', ['write']),
        readWrite: await token(account.id, 'owner', ['read', 'write']),
      }
    },
    get(path, tok, headers = {}) {
      return fetch(`${server.url}${path}`, {
        headers: { ...(tok ? { authorization: `Bearer ${tok}` } : {}), ...headers },
      })
    },
    async getJson(path, tok) {
      const res = await h.get(path, tok)
      const text = await res.text()
      if (res.status !== 200) throw new Error(`GET ${path} → ${res.status}: ${text}`)
      return JSON.parse(text)
    },
    importLines(tok, stream, items, preserve = false) {
      return fetch(
        `${server.url}/api/chat-export/v1/import/${stream}${preserve ? '?preserve_timestamps=true' : ''}`,
        {
          method: 'POST',
          headers: { authorization: `Bearer ${tok}`, 'content-type': 'application/x-ndjson' },
          body: items.map((i) => JSON.stringify(i)).join('\n'),
        },
      )
    },
    async close() {
      await server.close()
      await handle.cleanup()
    },
  }
  return h
}
