/**
 * Abortable waiting, in the form the client injects (tests pass their own to run without real time).
 * @module
 */

/** Waits `ms` milliseconds; rejects with the signal's reason as soon as the signal aborts. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>

/** The real sleep: a timer that an AbortSignal cancels at once (a SIGINT must not wait a backoff). */
export const abortableSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal))
      return
    }
    const onAbort = () => {
      clearTimeout(timer)
      reject(abortReason(signal))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })

/**
 * The reason an aborted signal carries when it is an Error (`controller.abort(new Error(...))`),
 * otherwise a DOMException `AbortError`, the same as fetch rejects with.
 */
export function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason
  if (reason instanceof Error) return reason
  return new DOMException('The operation was aborted.', 'AbortError')
}

/**
 * One signal that aborts when any of the given ones does (AbortSignal.any is not in every runtime
 * we target yet). Returns a disposer that detaches the listeners.
 */
export function anySignal(signals: (AbortSignal | undefined)[]): {
  signal: AbortSignal
  dispose: () => void
} {
  const controller = new AbortController()
  const present = signals.filter((s): s is AbortSignal => s !== undefined)
  const listeners: [AbortSignal, () => void][] = []
  for (const s of present) {
    if (s.aborted) {
      controller.abort(s.reason)
      break
    }
    const listener = () => controller.abort(s.reason)
    s.addEventListener('abort', listener, { once: true })
    listeners.push([s, listener])
  }
  return {
    signal: controller.signal,
    dispose: () => {
      for (const [s, listener] of listeners) s.removeEventListener('abort', listener)
    },
  }
}
