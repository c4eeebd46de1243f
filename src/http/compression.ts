/**
 * Compression of export pages, negotiated by `Accept-Encoding`. A full page is 3–4 MB of JSON that
 * compresses about 5×; over a 100 Mbit/s link sending it uncompressed takes some 300 ms. Brotli
 * at quality 1 is the cheapest good coder for this text (about 9 ms for a 3.9 MB page); gzip at
 * level 1 is kept for clients that offer only gzip (it costs some 3× the CPU of brotli 1 here).
 * The compressor runs as a node:zlib stream, on libuv's thread pool: the event loop hands the page
 * over and serves other requests while it is being compressed.
 * @module
 */
import { Readable } from 'node:stream'
import { constants, createBrotliCompress, createGzip } from 'node:zlib'

/** What the server may use: `off` never compresses, `gzip` never uses brotli, `br` uses both. */
export type CompressionMode = 'off' | 'gzip' | 'br'

/** The content coding chosen for one response. */
export type ContentCoding = 'br' | 'gzip' | 'identity'

/**
 * Bodies smaller than this are sent as they are: compressing them saves less than the headers
 * and the stream set-up cost.
 */
export const MIN_COMPRESSED_BYTES = 1024

/**
 * Chooses the coding for a response from the request's `Accept-Encoding` (RFC 9110 §12.5.3):
 * the acceptable coding (q > 0, named or matched by `*`) with the highest q, brotli on a tie, and
 * `identity` when none is acceptable, when the header is absent, or when `mode` is `off`.
 */
export function negotiateEncoding(
  acceptEncoding: string | undefined | null,
  mode: CompressionMode,
): ContentCoding {
  if (mode === 'off' || acceptEncoding === undefined || acceptEncoding === null) return 'identity'
  const weights = new Map<string, number>()
  for (const part of acceptEncoding.split(',')) {
    const [rawName, ...params] = part.split(';')
    const name = rawName?.trim().toLowerCase() ?? ''
    if (name === '') continue
    let q = 1
    for (const param of params) {
      const [key, value] = param.split('=')
      if (key?.trim().toLowerCase() === 'q') {
        const parsed = Number(value?.trim())
        q = Number.isFinite(parsed) ? Math.min(Math.max(parsed, 0), 1) : 0
      }
    }
    // A coding listed twice keeps its best weight.
    weights.set(name, Math.max(q, weights.get(name) ?? 0))
  }
  const weightOf = (coding: string) => weights.get(coding) ?? weights.get('*') ?? 0
  const candidates: ContentCoding[] = mode === 'br' ? ['br', 'gzip'] : ['gzip']
  let best: ContentCoding = 'identity'
  let bestWeight = 0
  for (const coding of candidates) {
    const weight = weightOf(coding)
    // Strictly greater: on a tie the earlier (cheaper, smaller) coding wins.
    if (weight > bestWeight) {
      best = coding
      bestWeight = weight
    }
  }
  return best
}

/**
 * The body compressed with `coding`, as a web stream of the compressor's output (the response
 * starts before the whole page is compressed).
 */
export function compressedStream(
  body: Uint8Array,
  coding: Exclude<ContentCoding, 'identity'>,
): ReadableStream<Uint8Array> {
  // Each output chunk is one hop between the event loop and a pool thread; on a busy core every
  // hop waits for the scheduler (measured: 12 hops of 64 KiB made a brotli page 5× slower than an
  // identity one on a loaded, pinned core). A chunk of an eighth of the input holds the ~5×
  // smaller output in one or two.
  const chunkSize = Math.max(64 * 1024, Math.ceil(body.byteLength / 8))
  const compressor =
    coding === 'br'
      ? createBrotliCompress({
          chunkSize,
          params: {
            [constants.BROTLI_PARAM_QUALITY]: 1,
            [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
            [constants.BROTLI_PARAM_SIZE_HINT]: body.byteLength,
          },
        })
      : createGzip({ level: 1, chunkSize })
  compressor.end(body)
  return Readable.toWeb(compressor) as ReadableStream<Uint8Array>
}
