/**
 * The floor of the design (benchmark code, never shipped): node:http + better-sqlite3 on the same
 * SQLite file, one read-only memory-mapped connection, pages spliced from the stored bytes with
 * the same keyset query. No auth, metrics or logging. `fields=chats(id,rating,response_time.max)`
 * is answered with json_object in SQL (its key order is the selection's, not the item's).
 *   node floor-server.js <db path> <account id>
 * @module
 */
import { createServer } from 'node:http'
import type { Server } from 'node:net'
import Database from 'better-sqlite3'
import { formatMicrosAsDecimalSeconds, parseDecimalSecondsToMicros } from '../../domain/time.js'

const [path = '', account = '0'] = process.argv.slice(2)
const db = new Database(path, { readonly: true, fileMustExist: true })
db.pragma('mmap_size = 1073741824')
const page = (body: string) =>
  db.prepare<[number, number, string, number], { position: number; sortId: string; body: Buffer }>(
    `SELECT position, sort_id AS sortId, ${body} AS body FROM items
     WHERE account_id = ? AND stream = 'chats' AND (position, sort_id) > (?, ?)
     ORDER BY position, sort_id LIMIT ?`,
  )
const full = page('body')
const projected = page(
  `CAST(json_object('id', summary ->> '$.id', 'rating', json(summary -> '$.rating'),
   'response_time', json_object('max', json(summary -> '$.response_time.max'))) AS BLOB)`,
)
const COMMA = Buffer.from(',')

createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://floor')
  const after = parseDecimalSecondsToMicros(url.searchParams.get('start_time') ?? '0') ?? 0
  const fields = url.searchParams.get('fields') ?? 'chats(*)'
  const rows = (fields === 'chats(*)' ? full : projected).all(
    Number(account),
    after,
    url.searchParams.get('start_id') ?? '',
    1000,
  )
  const last = rows.at(-1)
  const endTime = formatMicrosAsDecimalSeconds(last?.position ?? after)
  const endId = last?.sortId ?? ''
  const next = `http://${req.headers.host}/api/v2/chat/incremental/chats?fields=${encodeURIComponent(fields)}&limit=1000&start_time=${endTime}&start_id=${endId}`
  const parts: Buffer[] = [Buffer.from('{"chats":[')]
  rows.forEach((r, i) => (i > 0 ? parts.push(COMMA, r.body) : parts.push(r.body)))
  parts.push(
    Buffer.from(
      `],"count":${rows.length},"end_id":${JSON.stringify(endId)},"end_time":${endTime},"next_page":${JSON.stringify(next)}}`,
    ),
  )
  res.writeHead(200, { 'content-type': 'application/json' }).end(Buffer.concat(parts))
}).listen(0, '127.0.0.1', function (this: Server) {
  const address = this.address()
  process.stdout.write(
    `listening on http://127.0.0.1:${typeof address === 'object' ? address?.port : ''}\n`,
  )
})
