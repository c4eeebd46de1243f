/**
 * What the admin API keeps in memory for the server's life: the server admin token (as a hash),
 * each account's scripted faults, the request journal and, with `--clock manual`, the clock.
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { ManualClock } from '../domain/clock.js'
import { FaultScript } from '../domain/fault-script.js'
import { RequestJournal } from './request-journal.js'

/** A new server admin token: `cxa_` + 256 random bits (base64url). Printed once, never stored. */
export function generateAdminToken(): string {
  return `cxa_${randomBytes(32).toString('base64url')}`
}

export interface AdminStateOptions {
  /** The server admin token; only its SHA-256 is kept. */
  adminToken: string
  journalSize?: number
  /** The clock the admin API may move (`serve --clock manual`); absent: the wall clock. */
  manualClock?: ManualClock | undefined
}

export class AdminState {
  readonly journal: RequestJournal
  readonly manualClock: ManualClock | undefined
  private readonly adminHash: Buffer
  private readonly scripts = new Map<number, FaultScript>()

  constructor(options: AdminStateOptions) {
    this.adminHash = sha256(options.adminToken)
    this.journal = new RequestJournal(options.journalSize ?? 500)
    this.manualClock = options.manualClock
  }

  /** Whether `token` is the server admin token (constant time). */
  isAdminToken(token: string): boolean {
    return timingSafeEqual(sha256(token), this.adminHash)
  }

  /** The account's fault script, if any rule was ever set (the fault middleware's view). */
  forAccount(accountId: number): FaultScript | undefined {
    return this.scripts.get(accountId)
  }

  /** The account's fault script, created empty when needed (the admin routes' view). */
  script(accountId: number): FaultScript {
    let script = this.scripts.get(accountId)
    if (!script) this.scripts.set(accountId, (script = new FaultScript()))
    return script
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}
