/**
 * Resource limits of the HTTP server: how long a reader may stall and how many response bytes may
 * wait to be sent. Kept apart from config.ts so the limits have one small home; config.ts only
 * reads them into `ServeConfig.limits`.
 * @module
 */
import { z } from 'zod'

export interface LimitsConfig {
  /**
   * A response whose socket makes no progress for this long is dropped (a reader that stopped
   * reading would otherwise pin its page in memory for as long as it keeps the connection).
   */
  sendTimeoutSeconds: number
  /**
   * Bytes of export pages built but not yet handed to the kernel, over all connections. A page
   * that would push the total over it is refused with 503 OVERLOADED and Retry-After (a page is
   * always served when nothing else is in flight, so one large page cannot starve).
   */
  maxBytesInFlight: number
  /** The Retry-After of such a 503, in whole seconds. */
  overloadRetryAfterSeconds: number
}

export const DEFAULT_LIMITS: LimitsConfig = {
  sendTimeoutSeconds: 60,
  maxBytesInFlight: 128 * 1024 * 1024,
  overloadRetryAfterSeconds: 1,
}

/** The environment variables that set the limits (no flags: they are operator settings). */
export interface LimitsEnvironment {
  CHAT_EXPORT_SEND_TIMEOUT?: string | undefined
  CHAT_EXPORT_MAX_BYTES_IN_FLIGHT?: string | undefined
}

export const limitsConfigSchema = z.object({
  sendTimeoutSeconds: z.coerce.number().positive().max(86_400),
  maxBytesInFlight: z.coerce.number().int().min(1),
  overloadRetryAfterSeconds: z.coerce.number().int().min(1).max(3600),
})

/** The raw limits (environment over defaults), validated by `limitsConfigSchema`. */
export function rawLimits(env: LimitsEnvironment): Record<keyof LimitsConfig, unknown> {
  return {
    sendTimeoutSeconds: env.CHAT_EXPORT_SEND_TIMEOUT ?? DEFAULT_LIMITS.sendTimeoutSeconds,
    maxBytesInFlight: env.CHAT_EXPORT_MAX_BYTES_IN_FLIGHT ?? DEFAULT_LIMITS.maxBytesInFlight,
    overloadRetryAfterSeconds: DEFAULT_LIMITS.overloadRetryAfterSeconds,
  }
}
