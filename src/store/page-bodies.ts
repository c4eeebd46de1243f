/**
 * A page's bodies and last cursor from its rows, for stores whose rows cost no more than that.
 * @module
 */
import type { PageBodies, StoredRow } from './store.js'

/** The {@link PageBodies} of a page read as rows. */
export function pageBodiesOf(rows: StoredRow[]): PageBodies {
  const last = rows.at(-1)
  return {
    bodies: rows.map((row) => row.body),
    last: last === undefined ? undefined : { position: last.position, sortId: last.sortId },
  }
}
