/**
 * Configuration: every command's settings are declared in this folder (one file per command),
 * resolved flag > environment > default by `settings.ts`, validated at the edge and handed on
 * parsed. No other module reads `process.env`. This file gathers the public names.
 * @module
 */
export { processEnvironment } from './environment.js'
export type { Environment } from './environment.js'
export { ConfigError, helpText, SettingsReader } from './settings.js'
export type { FlagValues, Setting } from './settings.js'
export { DEFAULT_STORE_URL, resolveStoreUrl, STORE } from './store-config.js'
export { loadServeConfig, PROFILES, SERVE_SETTINGS } from './serve-config.js'
export type { ProfileName, ServeConfig, ServeFlags } from './serve-config.js'
export {
  loadSyncConfig,
  loadSyncStateConfig,
  SYNC_SETTINGS,
  SYNC_STATE_SETTINGS,
} from './sync-config.js'
export type { SyncConfig, SyncStateConfig } from './sync-config.js'
export { loadSimulateConfig, SIMULATE_SETTINGS } from './simulate-config.js'
export type { SimulateConfig, SimulateSpeed } from './simulate-config.js'
export { defaultTlsDir, loadTlsConfig } from './tls-config.js'
export type { TlsConfig, TlsEnvironment, TlsFlags } from './tls-config.js'
export { loadMirrorConfig, MIRROR_SETTINGS } from './mirror-config.js'
export type { MirrorConfig } from './mirror-config.js'
