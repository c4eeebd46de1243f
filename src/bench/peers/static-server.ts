/**
 * The HTTP ceiling (benchmark code, never shipped): node:http answering every request with one
 * pre-built page read from a file, so only HTTP and loopback are measured.
 *   node static-server.js <page file>
 * @module
 */
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { Server } from 'node:net'

const body = readFileSync(process.argv[2] ?? '')

createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' }).end(body)
}).listen(0, '127.0.0.1', function (this: Server) {
  const address = this.address()
  process.stdout.write(
    `listening on http://127.0.0.1:${typeof address === 'object' ? address?.port : ''}\n`,
  )
})
