/**
 * The store URL every command that opens the server's store takes (serve, accounts, tokens,
 * import): `--store URL` > `CHAT_EXPORT_STORE` > `sqlite:./data/chat-export.db`.
 * @module
 */
import type { Environment } from './environment.js'
import type { FlagValues, Setting } from './settings.js'
import { invalid, SettingsReader } from './settings.js'

export const DEFAULT_STORE_URL = 'sqlite:./data/chat-export.db'

/** `--store URL`. */
export const STORE: Setting<string> = {
  flag: '--store <url>',
  help: 'sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE',
  env: ['CHAT_EXPORT_STORE'],
  default: DEFAULT_STORE_URL,
  parse: (text) => {
    if (text.startsWith('sqlite:') || /^postgres(ql)?:\/\//.test(text)) return text
    return invalid('expected sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE')
  },
}

/** Resolves the store URL for the admin commands (accounts, tokens, import). */
export function resolveStoreUrl(flag: string | undefined, env: Environment): string {
  const read = new SettingsReader({ store: flag } satisfies FlagValues, env)
  const url = read.value(STORE)
  read.finish()
  return url ?? DEFAULT_STORE_URL
}
