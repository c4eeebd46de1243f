/** `chat-export import --account NAME --resource R [--preserve-timestamps] FILE.jsonl`. @module */
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import type { Command } from 'commander'
import { systemClock } from '../../domain/clock.js'
import { isStreamName, STREAM_NAMES } from '../../domain/streams.js'
import { formatIso } from '../../domain/time.js'
import { importItems, prepareLines } from '../../ingest/import-items.js'
import {
  DIRECTORY_RESOURCES,
  directoryResource,
  importDirectory,
  prepareDirectoryLines,
} from '../../ingest/import-directory.js'
import { CliError, UsageError } from '../exit-codes.js'
import { action, requireAccount, withStore, withStoreOption } from '../shared-options.js'

interface ImportOptions {
  account: string
  resource: string
  preserveTimestamps?: boolean
  store?: string
}

/** Registers the import command. */
export function registerImport(program: Command): void {
  withStoreOption(
    program
      .command('import')
      .description(
        'import export-shaped items (one JSON object per line) into an account, atomically',
      )
      .argument('<file>', 'JSON lines file ("-" for stdin)')
      .requiredOption('--account <name>', 'target account')
      .requiredOption('--resource <name>', [...STREAM_NAMES, ...DIRECTORY_RESOURCES].join('|'))
      .option(
        '--preserve-timestamps',
        "keep each item's own time as its position (only above the stream's high-water mark)",
      ),
  ).action(
    action(async (file: string, opts: ImportOptions) => {
      const kind = directoryResource(opts.resource)
      if (!isStreamName(opts.resource) && kind === undefined) {
        throw new UsageError(
          `Invalid --resource "${opts.resource}": use one of ${[...STREAM_NAMES, ...DIRECTORY_RESOURCES].join(', ')}.`,
        )
      }
      const resource = opts.resource
      const lines: string[] = []
      // On a terminal the count rewrites itself in place; in a log each count is a line of its own.
      const live = process.stderr.isTTY === true
      const input = file === '-' ? process.stdin : createReadStream(file, { encoding: 'utf8' })
      try {
        for await (const line of createInterface({ input, crlfDelay: Infinity })) {
          lines.push(line)
          if (lines.length % 10_000 === 0)
            process.stderr.write(
              live ? `\rread ${lines.length} lines` : `read ${lines.length} lines\n`,
            )
        }
      } catch (err) {
        throw new CliError(`Cannot read ${file}: ${(err as Error).message}`)
      }
      if (live && lines.length >= 10_000) process.stderr.write('\n')
      if (kind !== undefined) {
        const now = systemClock().now()
        const records = prepareDirectoryLines(kind, lines, now)
        await withStore(opts.store, async (store) => {
          const account = await requireAccount(store, opts.account)
          const result = await importDirectory(store, account.id, kind, records, now)
          process.stderr.write(
            `imported ${result.imported} ${resource} record(s) into ${account.name} at position ${formatIso(result.position)}\n`,
          )
        })
        return
      }
      if (!isStreamName(resource)) return
      const items = prepareLines(resource, lines)
      await withStore(opts.store, async (store) => {
        const account = await requireAccount(store, opts.account)
        const result = await importItems(store, account.id, resource, items, {
          preserveTimestamps: opts.preserveTimestamps ?? false,
          now: systemClock().now(),
        })
        process.stderr.write(
          `imported ${result.imported} ${resource} item(s) into ${account.name} at position ${formatIso(result.position)}\n`,
        )
      })
    }),
  )
}
