/**
 * The rules of the store port that do not depend on the database: how a write transaction's
 * position is chosen, which inputs the port refuses, and the messages for names already taken.
 * Both stores call these, so SQLite and PostgreSQL refuse the same inputs with the same errors
 * (the contract suite pins each refusal).
 *
 * A refused input is a bug in the caller, not a user mistake: the checks throw `RangeError`
 * (rendered as a 500, never with the value's context), before any statement runs.
 * @module
 */
import type { Micros } from '../domain/time.js'
import type { PageQuery } from './store.js'

/**
 * The position of a write transaction: `max(now, last + 1)`, where `last` is the account's last
 * position, read while the transaction holds the account's write serialisation point. Strictly
 * above every earlier position even when the clock steps back (docs/positions.md).
 * @throws RangeError when the result is not a safe integer (a broken clock, or a clock raised to
 *   the end of time by a preserved import position).
 */
export function nextPosition(now: Micros, last: Micros): Micros {
  const position = Math.max(now, last + 1)
  if (!Number.isSafeInteger(position)) {
    throw new RangeError(`The clock gave an invalid time (${position} µs).`)
  }
  return position
}

/**
 * An item position: a positive safe integer of µs. 0 is the "from the beginning" cursor, so no
 * item may sit there (a page from position 0 would still include it, but `lastPosition` = 0 means
 * "nothing written").
 * @throws RangeError otherwise.
 */
export function assertItemPosition(position: Micros): void {
  if (!Number.isSafeInteger(position) || position <= 0) {
    throw new RangeError(
      `An item position must be a positive integer of µs (got ${String(position)}).`,
    )
  }
}

/**
 * The checks on a page query: `limit` an integer >= 1 (SQLite reads LIMIT -1 as "no limit", so a
 * bad value must never reach it), `afterPosition` a safe integer >= 0, `maxPosition` (when given)
 * a safe integer, and the account id valid.
 * @throws RangeError on the first value that breaks a rule.
 */
export function assertPageQuery(query: PageQuery): void {
  assertAccountId(query.accountId)
  if (!Number.isSafeInteger(query.limit) || query.limit < 1) {
    throw new RangeError(`A page limit must be a positive integer (got ${String(query.limit)}).`)
  }
  if (!Number.isSafeInteger(query.afterPosition) || query.afterPosition < 0) {
    throw new RangeError(
      `A page's afterPosition must be an integer >= 0 (got ${String(query.afterPosition)}).`,
    )
  }
  if (query.maxPosition !== undefined && !Number.isSafeInteger(query.maxPosition)) {
    throw new RangeError(
      `A page's maxPosition must be an integer (got ${String(query.maxPosition)}).`,
    )
  }
}

/**
 * An account id given to an account-scoped operation (write, readPage, tokens, lastPosition): a
 * positive safe integer. PostgreSQL writes it into `SET LOCAL` (which takes no parameters), so
 * the check also keeps that statement safe.
 * @throws RangeError otherwise.
 */
export function assertAccountId(accountId: number): void {
  if (!isRowId(accountId)) {
    throw new RangeError(`An account id must be a positive integer (got ${String(accountId)}).`)
  }
}

/**
 * Whether `id` can name a row (a positive safe integer). Lookups by such an id (`getAccountById`,
 * `revokeToken`'s token id) answer "none" for any other value instead of refusing it: an id read
 * from a request is untrusted, and no row has it.
 */
export function isRowId(id: number): boolean {
  return Number.isSafeInteger(id) && id > 0
}

/**
 * Whether `prefix` can be a token prefix worth looking up. Anything else finds no token (without
 * a query): PostgreSQL passes the prefix to row-level security as a setting, which may not hold
 * NUL, and no issued prefix is empty or long.
 */
export function isTokenPrefix(prefix: string): boolean {
  return prefix.length > 0 && prefix.length <= 200 && !prefix.includes('\0')
}

/**
 * The checks on a rate-limit request: `limit` (requests per window) a safe integer >= 0 (0 refuses
 * every request), `windowMicros` a positive safe integer.
 * @throws RangeError otherwise.
 */
export function assertRateLimit(limit: number, windowMicros: number): void {
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(`A rate limit must be an integer >= 0 (got ${String(limit)}).`)
  }
  if (!Number.isSafeInteger(windowMicros) || windowMicros <= 0) {
    throw new RangeError(
      `A rate-limit window must be a positive integer of µs (got ${String(windowMicros)}).`,
    )
  }
}

/** What a {@link DuplicateKeyError} says is already taken. */
export type DuplicateKey = 'account-name' | 'token-prefix'

/**
 * A row the port refuses because its unique key is already taken: an account name, a token prefix.
 * A typed error (not a catalogue AppError): callers decide what it means to their user (the CLI
 * checks the name first and says so; a prefix collision means "generate another token").
 */
export class DuplicateKeyError extends Error {
  override readonly name = 'DuplicateKeyError'

  constructor(
    readonly key: DuplicateKey,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options)
  }
}

/** The error for an account name already in use. */
export function accountNameTaken(name: string, cause: unknown): DuplicateKeyError {
  return new DuplicateKeyError('account-name', `An account named "${name}" already exists.`, {
    cause,
  })
}

/** The error for a token prefix already in use (a 72-bit random collision, or a replayed insert). */
export function tokenPrefixTaken(cause: unknown): DuplicateKeyError {
  return new DuplicateKeyError(
    'token-prefix',
    'A token with this prefix already exists; generate a new token.',
    { cause },
  )
}

/** The message of a closed store's refusal, the same on both stores. */
export function storeClosedError(): Error {
  return new Error('The store is closed.')
}
