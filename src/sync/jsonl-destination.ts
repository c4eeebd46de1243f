/**
 * `jsonl:DIR`: per stream, an append-only `<stream>.jsonl` (one item per line) and a
 * `<stream>.state.json` that records the cursor AND how many bytes of the .jsonl are committed.
 *
 * Commit protocol for one page (each step awaited before the next):
 *
 * ```
 *   1. write the page's lines at offset committedBytes     (a crash here leaves a torn tail)
 *   2. fsync the .jsonl                                     (the lines are durable, not yet committed)
 *   3. write <stream>.state.json.tmp {cursor', committedBytes'}, fsync it
 *   4. rename .tmp -> <stream>.state.json, fsync the dir    <- the commit point
 * ```
 *
 * On open, bytes beyond the recorded `committedBytes` are truncated: they belong to a page whose
 * state was never committed, and that page is fetched again from the recorded cursor. So a kill at
 * any moment loses nothing and repeats nothing. The file is a log of versions: a changed item
 * appears again further down, so **the destination is the latest line per key** (`id`, or
 * `agent_id` + `start_time` for agent_timeline). In `remove` mode a deleted item's latest line is a
 * tombstone holding only its key and `"deleted": true`.
 * @module
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { open, rename } from 'node:fs/promises'
import { join } from 'node:path'
import type { ExportItem, ExportStream } from '../client/index.js'
import { parseExportCursor } from '../client/index.js'
import type { Destination, FaultHooks, PageCommit, StreamSyncState } from './destination.js'
import { DestinationError, readAllStates } from './destination.js'
import type { ItemKey } from './item-key.js'
import { itemKey } from './item-key.js'
import { utf8Of } from './utf8-of.js'

interface StateFile extends StreamSyncState {
  version: 1
  /** Bytes of `<stream>.jsonl` that belong to committed pages. */
  committedBytes: number
}

export interface JsonlDestinationOptions {
  dir: string
  hooks?: FaultHooks
}

/** Opens (creating the directory if needed) a JSONL destination. */
export function openJsonlDestination(options: JsonlDestinationOptions): Promise<Destination> {
  try {
    mkdirSync(options.dir, { recursive: true })
  } catch (cause) {
    throw new DestinationError(
      `Cannot create the JSONL directory "${options.dir}": ${(cause as Error).message}.`,
      {
        cause,
      },
    )
  }
  return Promise.resolve(new JsonlDestination(options.dir, options.hooks))
}

/** Paths of one stream's files. */
export function jsonlPaths(dir: string, stream: ExportStream): { data: string; state: string } {
  return { data: join(dir, `${stream}.jsonl`), state: join(dir, `${stream}.state.json`) }
}

class JsonlDestination implements Destination {
  readonly description: string
  /** States recovered (tail truncated) in this process; dropped when a commit fails midway. */
  private readonly recovered = new Map<ExportStream, StateFile>()
  private locked = false

  constructor(
    private readonly dir: string,
    private readonly hooks: FaultHooks | undefined,
  ) {
    this.description = `jsonl:${dir}`
  }

  readState(stream: ExportStream): Promise<StreamSyncState | undefined> {
    const file = readStateFile(this.dir, stream)
    return Promise.resolve(file === undefined ? undefined : publicState(file))
  }

  listStates(): Promise<StreamSyncState[]> {
    return readAllStates((stream) => this.readState(stream))
  }

  async commit(page: PageCommit): Promise<void> {
    this.lock()
    const current = this.recover(page.stream)
    try {
      const lines = pageLines(page)
      const { data } = jsonlPaths(this.dir, page.stream)
      // The writes and fsyncs run in the thread pool: meanwhile the next page keeps arriving. The
      // steps stay in order (each is awaited), so the commit protocol above is unchanged.
      const file = await open(data, 'r+')
      try {
        await writeFullyAsync(file, lines, current.committedBytes, this.hooks)
        this.hooks?.at('jsonl:after-append')
        await file.sync()
      } finally {
        await file.close()
      }
      this.hooks?.at('jsonl:after-data-fsync')
      const next: StateFile = {
        ...page.state,
        version: 1,
        committedBytes: current.committedBytes + lines.length,
      }
      await this.writeStateFileAsync(next)
      this.recovered.set(page.stream, next)
    } catch (error) {
      // Whether the state file was renamed is unknown here: recover from the files next time.
      this.recovered.delete(page.stream)
      throw error
    }
  }

  resetState(stream: ExportStream): Promise<boolean> {
    if (readStateFile(this.dir, stream) === undefined) return Promise.resolve(false)
    this.lock()
    const current = this.recover(stream)
    // The lines stay (committedBytes too); only the cursor and the counters are forgotten.
    this.writeStateFile({
      ...current,
      ...emptyState(stream),
      committedBytes: current.committedBytes,
    })
    this.recovered.delete(stream)
    return Promise.resolve(true)
  }

  close(): Promise<void> {
    if (this.locked) {
      const lockPath = join(this.dir, LOCK_FILE)
      try {
        if (readFileSync(lockPath, 'utf8').trim() === String(process.pid)) unlinkSync(lockPath)
      } catch {
        // Already gone: nothing to release.
      }
      this.locked = false
    }
    return Promise.resolve()
  }

  /**
   * The committed state of a stream, after cutting off any uncommitted tail of its .jsonl. Creates
   * the state file before the first line is ever written, so a .jsonl without a state file can
   * only come from outside and is refused instead of guessed at.
   */
  private recover(stream: ExportStream): StateFile {
    const cached = this.recovered.get(stream)
    if (cached) return cached
    const paths = jsonlPaths(this.dir, stream)
    let state = readStateFile(this.dir, stream)
    const size = existsSync(paths.data) ? statSync(paths.data).size : -1
    if (state === undefined) {
      if (size > 0) {
        throw new DestinationError(
          `${paths.data} exists but ${paths.state} does not, so it is unknown which lines are complete. Move ${paths.data} away and sync again.`,
        )
      }
      state = { ...emptyState(stream), version: 1, committedBytes: 0 }
      this.writeStateFile(state)
    }
    if (size < 0) {
      if (state.committedBytes > 0) throw shorterError(paths.data, 0, state.committedBytes)
      closeSync(openSync(paths.data, 'a'))
    } else if (size > state.committedBytes) {
      truncateSync(paths.data, state.committedBytes)
      const fd = openSync(paths.data, 'r+')
      try {
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
    } else if (size < state.committedBytes) {
      throw shorterError(paths.data, size, state.committedBytes)
    }
    this.recovered.set(stream, state)
    return state
  }

  private writeStateFile(state: StateFile): void {
    const { state: path } = jsonlPaths(this.dir, state.stream)
    const temp = `${path}.tmp`
    const fd = openSync(temp, 'w')
    try {
      writeSync(fd, JSON.stringify(state, null, 2) + '\n')
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    this.hooks?.at('jsonl:after-state-temp')
    renameSync(temp, path)
    this.hooks?.at('jsonl:after-rename')
    fsyncDirectory(this.dir)
  }

  /** `writeStateFile` with the writes and fsyncs off the event loop. */
  private async writeStateFileAsync(state: StateFile): Promise<void> {
    const { state: path } = jsonlPaths(this.dir, state.stream)
    const temp = `${path}.tmp`
    const file = await open(temp, 'w')
    try {
      await file.writeFile(JSON.stringify(state, null, 2) + '\n')
      await file.sync()
    } finally {
      await file.close()
    }
    this.hooks?.at('jsonl:after-state-temp')
    await rename(temp, path)
    this.hooks?.at('jsonl:after-rename')
    await fsyncDirectoryAsync(this.dir)
  }

  /** One writer per directory: two syncs appending to the same files would corrupt them. */
  private lock(): void {
    if (this.locked) return
    const lockPath = join(this.dir, LOCK_FILE)
    try {
      writeFileSync(lockPath, String(process.pid), { flag: 'wx' })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const pid = Number(readFileSync(lockPath, 'utf8').trim())
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
        throw new DestinationError(
          `Another sync (process ${pid}) is writing to ${this.dir}. Wait for it to finish, or stop it.`,
        )
      }
      // The lock of a process that died (kill -9): take it over.
      writeFileSync(lockPath, String(process.pid))
    }
    this.locked = true
  }
}

const LOCK_FILE = '.sync.lock'

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Writes the lines at `position`: the parts in one writev, so nothing is copied into one buffer
 * first. With a hook installed, in two halves (tests crash between them: a torn tail); a short
 * write (not expected from a regular file) goes on from where it stopped.
 */
async function writeFullyAsync(
  file: FileHandle,
  lines: PageLines,
  position: number,
  hooks: FaultHooks | undefined,
): Promise<void> {
  if (lines.length === 0) return
  if (hooks === undefined) {
    const { bytesWritten } = await file.writev(lines.parts, position)
    if (bytesWritten === lines.length) return
    return writeBufferFully(file, Buffer.concat(lines.parts), position, bytesWritten, hooks)
  }
  return writeBufferFully(file, Buffer.concat(lines.parts), position, 0, hooks)
}

async function writeBufferFully(
  file: FileHandle,
  bytes: Buffer,
  position: number,
  from: number,
  hooks: FaultHooks | undefined,
): Promise<void> {
  let written = from
  while (written < bytes.length) {
    // Two writes when a hook is installed, so tests can crash between them (a torn tail).
    const chunk =
      hooks !== undefined && written === 0 ? Math.ceil(bytes.length / 2) : bytes.length - written
    const result = await file.write(bytes, written, chunk, position + written)
    written += result.bytesWritten
    if (written < bytes.length) hooks?.at('jsonl:mid-append')
  }
}

async function fsyncDirectoryAsync(dir: string): Promise<void> {
  let file: FileHandle | undefined
  try {
    file = await open(dir, 'r')
    await file.sync()
  } catch {
    // Some platforms (Windows) cannot fsync a directory; the rename is still atomic there.
  } finally {
    await file?.close()
  }
}

function fsyncDirectory(dir: string): void {
  let fd: number | undefined
  try {
    fd = openSync(dir, 'r')
    fsyncSync(fd)
  } catch {
    // Some platforms (Windows) cannot fsync a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

function shorterError(path: string, size: number, committed: number): DestinationError {
  return new DestinationError(
    `${path} has ${size} bytes but ${committed} were committed: lines were removed outside chat-export. ` +
      `Move the file away and run \`chat-export sync state reset\` for this stream to sync it again.`,
  )
}

function emptyState(stream: ExportStream): StreamSyncState {
  return {
    stream,
    cursor: null,
    source: null,
    items: 0,
    pages: 0,
    endTime: null,
    updatedAt: new Date().toISOString(),
  }
}

function publicState(file: StateFile): StreamSyncState {
  const { stream, cursor, source, items, pages, endTime, updatedAt } = file
  return { stream, cursor, source, items, pages, endTime, updatedAt }
}

function readStateFile(dir: string, stream: ExportStream): StateFile | undefined {
  const { state: path } = jsonlPaths(dir, stream)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  try {
    const data = JSON.parse(text) as Partial<StateFile>
    if (
      data.version !== 1 ||
      data.stream !== stream ||
      !Number.isSafeInteger(data.committedBytes)
    ) {
      throw new Error('unexpected content')
    }
    return {
      version: 1,
      stream,
      committedBytes: data.committedBytes ?? 0,
      cursor:
        data.cursor === null || data.cursor === undefined ? null : parseExportCursor(data.cursor),
      source: typeof data.source === 'string' ? data.source : null,
      items: Number(data.items ?? 0),
      pages: Number(data.pages ?? 0),
      endTime: typeof data.endTime === 'number' ? data.endTime : null,
      updatedAt: String(data.updatedAt ?? ''),
    }
  } catch (cause) {
    throw new DestinationError(
      `Cannot read ${path}: ${(cause as Error).message}. It is written atomically by chat-export, so it was changed by hand; restore it or move the stream's files away.`,
      { cause },
    )
  }
}

/** A page's lines as the parts to write in order, and their total length in bytes. */
interface PageLines {
  parts: Buffer[]
  length: number
}

const LINE_FEED = Buffer.from('\n')

/**
 * The page's lines: each upsert's bytes as the server sent them and a line feed, then the
 * tombstones. Views of the page's bytes, never copied in JS (the kernel gathers them), decoded or
 * re-encoded.
 */
function pageLines(page: PageCommit): PageLines {
  const parts: Buffer[] = []
  let length = 0
  const add = (line: Buffer) => {
    parts.push(line, LINE_FEED)
    length += line.length + 1
  }
  for (const upsert of page.upserts) add(oneLine(utf8Of(upsert)))
  for (const key of page.removals) add(Buffer.from(JSON.stringify(tombstone(key)), 'utf8'))
  return { parts, length }
}

/**
 * The item's JSON on one line. The raw text of a compact server is already; a line break can only
 * be whitespace between tokens (inside a JSON string it is always escaped), so such an item is
 * re-written compactly.
 */
function oneLine(bytes: Buffer): Buffer {
  if (bytes.indexOf(0x0a) < 0 && bytes.indexOf(0x0d) < 0) return bytes
  return Buffer.from(JSON.stringify(JSON.parse(bytes.toString('utf8'))), 'utf8')
}

/** What a deleted item's line holds in `remove` mode: its key and the flag, nothing personal. */
function tombstone(key: ItemKey): ExportItem {
  return key.kind === 'span'
    ? { agent_id: key.agentId, start_time: key.startTime, deleted: true }
    : { id: key.id, deleted: true }
}

/**
 * The content of one stream of a JSONL destination: the latest committed line per key. With
 * `dropDeleted`, items whose latest line says `"deleted": true` are left out (what `remove` mode
 * means). Reads only the committed bytes, so it is safe while a sync is running.
 */
export function readJsonlStream(
  dir: string,
  stream: ExportStream,
  options: { dropDeleted?: boolean } = {},
): Map<string, ExportItem> {
  const state = readStateFile(dir, stream)
  const result = new Map<string, ExportItem>()
  if (state === undefined || state.committedBytes === 0) return result
  const buffer = Buffer.alloc(state.committedBytes)
  const fd = openSync(jsonlPaths(dir, stream).data, 'r')
  try {
    let read = 0
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, read)
      if (n === 0) break
      read += n
    }
  } finally {
    closeSync(fd)
  }
  for (const line of buffer.toString('utf8').split('\n')) {
    if (line === '') continue
    const item = JSON.parse(line) as ExportItem
    const { key } = itemKey(stream, item)
    result.delete(key) // keep insertion order = order of the latest version
    if (!(options.dropDeleted === true && item.deleted === true)) result.set(key, item)
  }
  return result
}
