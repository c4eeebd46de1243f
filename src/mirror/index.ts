/**
 * The mirror of a live Zendesk Chat account into a chat-export account. See docs/mirror.md.
 * @module
 */
export { runMirror } from './run-mirror.js'
export type { MirrorResult, RunMirrorOptions } from './run-mirror.js'
export { accountDestination, MIRROR_STATE_KIND } from './account-destination.js'
export type { AccountDestinationOptions } from './account-destination.js'
export { placeItems } from './mirror-positions.js'
export type { CursorPoint, PlacedInput } from './mirror-positions.js'
