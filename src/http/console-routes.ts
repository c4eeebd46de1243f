/**
 * The web console at `/console` (read-only views plus the admin actions as forms; docs/admin.md).
 * Static files: the page and its script from `console/` in the package, and Apache ECharts from
 * `node_modules` (no CDN: the server must work offline). All are read once, when the app is built,
 * and served from memory as bytes (outside the JS heap: ECharts as a string was 2.2 MB that every
 * garbage collection marked); the page reads aggregated data from the admin API.
 * @module
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Hono } from 'hono'

const CONSOLE_DIR = new URL('../../console/', import.meta.url)

interface Asset {
  body: Uint8Array<ArrayBuffer>
  type: string
}

function loadAssets(): Record<string, Asset> {
  const require = createRequire(import.meta.url)
  const read = (url: URL | string): Uint8Array<ArrayBuffer> => new Uint8Array(readFileSync(url))
  return {
    'index.html': {
      body: read(new URL('index.html', CONSOLE_DIR)),
      type: 'text/html; charset=utf-8',
    },
    'console.js': {
      body: read(new URL('console.js', CONSOLE_DIR)),
      type: 'text/javascript; charset=utf-8',
    },
    'console.css': {
      body: read(new URL('console.css', CONSOLE_DIR)),
      type: 'text/css; charset=utf-8',
    },
    'echarts.min.js': {
      body: read(require.resolve('echarts/dist/echarts.min.js')),
      type: 'text/javascript; charset=utf-8',
    },
  }
}

/** The console's routes (mounted at /console). */
export function consoleRoutes(): Hono {
  const assets = loadAssets()
  const app = new Hono()
  const serve = (name: string) => {
    const asset = assets[name]
    if (!asset) return undefined
    return new Response(asset.body, {
      headers: {
        'content-type': asset.type,
        'cache-control': name === 'echarts.min.js' ? 'public, max-age=86400' : 'no-cache',
        // The page runs only its own scripts and talks only to this server.
        'content-security-policy':
          "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
      },
    })
  }
  app.get('/', (c) => serve('index.html') ?? c.notFound())
  app.get('/:file', (c) => serve(c.req.param('file')) ?? c.notFound())
  return app
}
