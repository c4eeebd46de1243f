/**
 * The latency-by-position chart of the side-by-side run: an SVG line chart rendered to PNG by
 * Chromium through playwright-core (a devDependency; the Debian chromium at /usr/bin/chromium).
 * @module
 */
import { existsSync } from 'node:fs'

export interface DepthPoint {
  /** Chats before the page in the stream. */
  position: number
  ours: number
  offset: number
}

const CHROMIUM = '/usr/bin/chromium'

/** The chart as SVG text: ms per page against stream position, one line per server. */
export function latencySvg(points: DepthPoint[]): string {
  const w = 800
  const h = 420
  const m = { left: 70, right: 20, top: 40, bottom: 60 }
  const maxX = Math.max(1, ...points.map((p) => p.position))
  const maxY = Math.max(1, ...points.map((p) => Math.max(p.ours, p.offset))) * 1.1
  const x = (v: number) => m.left + (v / maxX) * (w - m.left - m.right)
  const y = (v: number) => h - m.bottom - (v / maxY) * (h - m.top - m.bottom)
  const line = (key: 'ours' | 'offset', color: string) =>
    `<polyline fill="none" stroke="${color}" stroke-width="2.5" points="${points
      .map((p) => `${x(p.position).toFixed(1)},${y(p[key]).toFixed(1)}`)
      .join(' ')}"/>` +
    points
      .map((p) => `<circle cx="${x(p.position)}" cy="${y(p[key])}" r="3.5" fill="${color}"/>`)
      .join('')
  const ticks = Array.from({ length: 6 }, (_, i) => i / 5)
  const grid = ticks
    .map(
      (t) =>
        `<line x1="${m.left}" x2="${w - m.right}" y1="${y(t * maxY)}" y2="${y(t * maxY)}" stroke="#ddd"/>` +
        `<text x="${m.left - 8}" y="${y(t * maxY) + 4}" text-anchor="end">${(t * maxY).toFixed(0)}</text>` +
        `<text x="${x(t * maxX)}" y="${h - m.bottom + 20}" text-anchor="middle">${Math.round((t * maxX) / 1000)}k</text>`,
    )
    .join('')
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="13">
<rect width="100%" height="100%" fill="white"/>
<text x="${w / 2}" y="22" text-anchor="middle" font-size="16">Page latency (1000 chats) against position in the stream</text>
${grid}
<text x="${w / 2}" y="${h - 15}" text-anchor="middle">chats before the page</text>
<text x="18" y="${h / 2}" transform="rotate(-90 18 ${h / 2})" text-anchor="middle">ms per page (median of 3)</text>
${line('offset', '#d62728')}${line('ours', '#1f77b4')}
<rect x="${m.left + 15}" y="${m.top + 5}" width="14" height="4" fill="#1f77b4"/><text x="${m.left + 35}" y="${m.top + 11}">chat-export (keyset)</text>
<rect x="${m.left + 15}" y="${m.top + 25}" width="14" height="4" fill="#d62728"/><text x="${m.left + 35}" y="${m.top + 31}">naive peer (OFFSET + parse/stringify)</text>
</svg>`
}

/** Writes the chart as PNG; false (nothing written) when no Chromium is installed. */
export async function renderLatencyChart(points: DepthPoint[], path: string): Promise<boolean> {
  if (!existsSync(CHROMIUM)) return false
  const { chromium } = await import('playwright-core')
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
  try {
    const page = await browser.newPage({ viewport: { width: 800, height: 420 } })
    await page.setContent(`<body style="margin:0">${latencySvg(points)}</body>`)
    await page.locator('svg').screenshot({ path, type: 'png' })
    return true
  } finally {
    await browser.close()
  }
}
