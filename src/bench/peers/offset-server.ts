/**
 * A naive peer (benchmark code, never shipped): what an Express + ORM endpoint does. Pages by
 * `?page=N` with LIMIT/OFFSET, parses every stored row and serialises the page object again.
 * node:http stands in for Express (framework overhead is not what this peer measures).
 *   node offset-server.js <db path> <account id>
 * @module
 */
import { createServer } from 'node:http'
import type { Server } from 'node:net'
import Database from 'better-sqlite3'

const [path = '', account = '0'] = process.argv.slice(2)
const db = new Database(path, { readonly: true, fileMustExist: true })
const page = db
  .prepare<[number, number], string>(
    `SELECT CAST(body AS TEXT) FROM items WHERE account_id = ? AND stream = 'chats'
     ORDER BY position, sort_id LIMIT 1000 OFFSET ?`,
  )
  .pluck()

createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://offset')
  const n = Number(url.searchParams.get('page') ?? '0')
  const chats = page.all(Number(account), n * 1000).map((text) => JSON.parse(text) as unknown)
  const next = `http://${req.headers.host}/chats?page=${n + 1}`
  const body = JSON.stringify({ chats, count: chats.length, next_page: next })
  res.writeHead(200, { 'content-type': 'application/json' }).end(body)
}).listen(0, '127.0.0.1', function (this: Server) {
  const address = this.address()
  process.stdout.write(
    `listening on http://127.0.0.1:${typeof address === 'object' ? address?.port : ''}\n`,
  )
})
