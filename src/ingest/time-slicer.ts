/**
 * Cooperative time slicing for long synchronous work on the event loop (an import, a batch of
 * events folded and written inside one transaction): other requests go on between slices.
 * @module
 */
import { performance } from 'node:perf_hooks'
import { setImmediate as nextTurn } from 'node:timers/promises'

/** How long validation, folding or writing runs before letting other requests in (milliseconds). */
export const SLICE_MS = 4

/**
 * A function to await between small steps: it yields to the event loop once the current slice
 * has run {@link SLICE_MS} (and answers undefined, nothing to wait for, before). Wall time decides only when to yield, never what is done.
 * @example const pause = timeSlicer(); for (const item of items) { work(item); await pause() }
 */
export function timeSlicer(): () => Promise<void> | undefined {
  let sliceStart = performance.now()
  const resume = () => {
    sliceStart = performance.now()
  }
  // Within a slice nothing is allocated: it is called per event and per item written.
  return () => (performance.now() - sliceStart < SLICE_MS ? undefined : nextTurn().then(resume))
}
