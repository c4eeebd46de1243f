#!/usr/bin/env node
// The CLI runs from the compiled output; `npm ci` builds it (prepare script).
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const entry = new URL('../dist/cli/index.js', import.meta.url)
if (!existsSync(fileURLToPath(entry))) {
  console.error('chat-export is not built yet: run `npm run build` (npm ci does it for you).')
  process.exit(1)
}
await import(entry.href)
