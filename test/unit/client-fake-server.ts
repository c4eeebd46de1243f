/**
 * A test double for the export SERVER (not for the client): a real HTTP server on loopback that
 * serves the wire format of semantics.md from in-memory lists, with scripted faults (429 +
 * Retry-After, 5xx, dropped connections, cut-off bodies, slow or hanging responses, arbitrary
 * bodies). The client and the sync engine talk to it over real sockets.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import {
  formatIso,
  formatMicrosAsDecimalSeconds,
  parseDecimalSecondsToMicros,
  parseIntegerMicros,
  parseIso,
} from '../../src/domain/time.js'
import type { ExportStream } from '../../src/client/export-streams.js'
import { EXPORT_STREAMS, STREAM_TIME_UNIT } from '../../src/client/export-streams.js'

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  | { kind: 'drop' }
  | { kind: 'cut-body' }
  | { kind: 'slow'; ms: number }
  | { kind: 'hang' }
  | { kind: 'body'; status?: number; body: (requestUrl: string) => string }

interface Stored {
  key: string
  sortId: string
  position: number
  item: Record<string, unknown>
}

export interface RecordedRequest {
  /** Absolute URL as requested. */
  url: string
  authorization: string | undefined
  fault: Fault['kind'] | undefined
}

const AGENT_ID_WIDTH = 20

/** Key (what a destination upserts by) and cursor tie-breaker of an item, per stream. */
export function keyOf(
  stream: ExportStream,
  item: Record<string, unknown>,
): { key: string; sortId: string } {
  if (stream === 'agent_timeline') {
    const agentId = String(item.agent_id)
    const start = parseIso(String(item.start_time))
    return { key: `${agentId}:${start}`, sortId: agentId.padStart(AGENT_ID_WIDTH, '0') }
  }
  return { key: String(item.id), sortId: String(item.id) }
}

export class FakeExportServer {
  readonly requests: RecordedRequest[] = []
  /** Consumed one per request to an export path, in order. */
  readonly faults: Fault[] = []
  /** Requests that are hanging right now (fault `hang`). */
  hanging = 0
  /** Responses fully written (any status). */
  completed = 0
  private readonly data = new Map<ExportStream, Map<string, Stored>>()
  private lastPosition = 1_600_000_000_000_000
  private readonly sockets = new Set<Socket>()

  private constructor(
    private readonly server: Server,
    readonly origin: string,
    readonly token: string,
  ) {
    for (const s of EXPORT_STREAMS) this.data.set(s, new Map())
  }

  /** Starts a server on 127.0.0.1, port 0. */
  static async start(options: { token?: string } = {}): Promise<FakeExportServer> {
    const ref: { current?: FakeExportServer } = {}
    const server = createServer((req, res) => ref.current?.handle(req, res))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    const instance = new FakeExportServer(
      server,
      `http://127.0.0.1:${port}`,
      options.token ?? 'test-token',
    )
    ref.current = instance
    server.on('connection', (socket) => {
      instance.sockets.add(socket)
      socket.on('close', () => instance.sockets.delete(socket))
    })
    return instance
  }

  get baseUrl(): string {
    return `${this.origin}/api/v2/chat`
  }

  /**
   * Stores an item (replacing the one with the same key, as the real store does) at `position`
   * (default: one microsecond after the last, i.e. strictly increasing in commit order).
   * Chats get `update_timestamp` from their position, like the real server.
   */
  put(stream: ExportStream, item: Record<string, unknown>, position?: number): number {
    const pos = position ?? this.lastPosition + 1
    this.lastPosition = Math.max(this.lastPosition, pos)
    const body = stream === 'chats' ? { ...item, update_timestamp: formatIso(pos) } : { ...item }
    const { key, sortId } = keyOf(stream, body)
    this.streamData(stream).set(key, { key, sortId, position: pos, item: body })
    return pos
  }

  /** The current content of a stream, by key: what a complete sync must end up with. */
  snapshot(stream: ExportStream): Map<string, Record<string, unknown>> {
    return new Map([...this.streamData(stream).values()].map((s) => [s.key, s.item]))
  }

  /** Items in export order (position, then tie-breaker). */
  ordered(stream: ExportStream): Record<string, unknown>[] {
    return this.sorted(stream).map((s) => s.item)
  }

  /** Requests made to one stream's path. */
  requestsFor(stream: ExportStream): RecordedRequest[] {
    return this.requests.filter((r) => new URL(r.url).pathname.endsWith(`/incremental/${stream}`))
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private streamData(stream: ExportStream): Map<string, Stored> {
    const map = this.data.get(stream)
    if (!map) throw new Error(`no stream ${stream}`)
    return map
  }

  private sorted(stream: ExportStream): Stored[] {
    return [...this.streamData(stream).values()].sort((a, b) =>
      a.position !== b.position
        ? a.position - b.position
        : a.sortId < b.sortId
          ? -1
          : a.sortId > b.sortId
            ? 1
            : 0,
    )
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`)
    const match = /^\/api\/v2(?:\/chat)?\/incremental\/([a-z_]+)$/.exec(url.pathname)
    const stream = EXPORT_STREAMS.find((s) => s === match?.[1])
    const fault = stream === undefined ? undefined : this.faults.shift()
    this.requests.push({
      url: url.toString(),
      authorization: req.headers.authorization,
      fault: fault?.kind,
    })
    if (stream === undefined) {
      this.send(res, 404, { error: 'Not Found', description: 'unknown path' })
      return
    }
    if (fault) {
      this.applyFault(fault, url, stream, req, res)
      return
    }
    this.respond(url, stream, req, res)
  }

  private applyFault(
    fault: Fault,
    url: URL,
    stream: ExportStream,
    req: IncomingMessage,
    res: ServerResponse,
  ): void {
    switch (fault.kind) {
      case 'status': {
        const headers: Record<string, string> = { 'content-type': 'application/json' }
        if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter
        res.writeHead(fault.status, headers)
        res.end(
          fault.body ?? JSON.stringify({ error: 'Fault', description: `injected ${fault.status}` }),
        )
        this.completed++
        return
      }
      case 'drop':
        req.socket.destroy()
        return
      case 'cut-body': {
        const body = this.pageBody(url, stream)
        if (typeof body !== 'string') throw new Error('cut-body needs a valid request')
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
        })
        res.write(body.slice(0, Math.floor(body.length / 2)), () => req.socket.destroy())
        return
      }
      case 'slow':
        setTimeout(() => {
          if (!res.destroyed) this.respond(url, stream, req, res)
        }, fault.ms)
        return
      case 'hang':
        this.hanging++
        res.on('close', () => this.hanging--)
        return
      case 'body':
        res.writeHead(fault.status ?? 200, { 'content-type': 'application/json' })
        res.end(fault.body(url.toString()))
        this.completed++
        return
    }
  }

  private respond(url: URL, stream: ExportStream, req: IncomingMessage, res: ServerResponse): void {
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      res.setHeader('www-authenticate', 'Bearer')
      this.send(res, 401, { error: 'Unauthorized', description: 'no valid token' })
      return
    }
    const body = this.pageBody(url, stream)
    if (typeof body === 'string') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(body)
      this.completed++
    } else {
      this.send(res, 400, { error: 'Bad Request', description: body.error })
    }
  }

  /** The page body for a request, written by hand so that end_time keeps every digit. */
  private pageBody(url: URL, stream: ExportStream): string | { error: string } {
    const seconds = STREAM_TIME_UNIT[stream] === 'seconds'
    const startText = url.searchParams.get('start_time') ?? '0'
    const start = seconds ? parseDecimalSecondsToMicros(startText) : parseIntegerMicros(startText)
    if (start === undefined) return { error: `start_time ${startText} is not valid` }
    const limitText = url.searchParams.get('limit')
    if (limitText !== null && !/^[1-9]\d*$/.test(limitText))
      return { error: 'limit must be a positive integer' }
    const limit = Math.min(1000, limitText === null ? 1000 : Number(limitText))
    const startIdText = url.searchParams.get('start_id')
    const startId =
      startIdText === null
        ? null
        : stream === 'agent_timeline'
          ? startIdText.padStart(AGENT_ID_WIDTH, '0')
          : startIdText
    const after = this.sorted(stream).filter((s) =>
      startId === null
        ? s.position >= start
        : s.position > start || (s.position === start && s.sortId > startId),
    )
    const page = after.slice(0, limit)
    const last = page.at(-1)
    const endPosition = last?.position ?? start
    const endSortId = last?.sortId ?? startId
    const endId =
      endSortId === null
        ? null
        : stream === 'agent_timeline'
          ? endSortId.replace(/^0+(?=\d)/, '')
          : endSortId
    const next = new URL(`${url.origin}${url.pathname}`)
    const fields = url.searchParams.get('fields')
    if (fields !== null) next.searchParams.set('fields', fields)
    if (limitText !== null) next.searchParams.set('limit', limitText)
    const endTimeText = seconds ? formatMicrosAsDecimalSeconds(endPosition) : String(endPosition)
    next.searchParams.set('start_time', endTimeText)
    if (endId !== null) next.searchParams.set('start_id', endId)
    const items = page.map((s) => JSON.stringify(s.item)).join(',')
    return (
      `{"${stream}":[${items}],"count":${page.length},` +
      (endId === null ? '' : `"end_id":${JSON.stringify(endId)},`) +
      `"end_time":${endTimeText},"next_page":${JSON.stringify(next.toString())}}`
    )
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
    this.completed++
  }
}

/** A chat as the server would export it (only the fields the tests look at). */
export function chat(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, type: 'chat', timestamp: '2020-12-22T04:54:16Z', deleted: false, tags: [], ...extra }
}

/** A span of the agent timeline. */
export function span(agentId: number, startIso: string, duration = 1.5): Record<string, unknown> {
  return {
    agent_id: agentId,
    start_time: startIso,
    duration,
    engagement_count: 0,
    status: 'online',
  }
}
