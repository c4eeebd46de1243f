/** `chat-export import --account NAME --resource R [--preserve-timestamps] FILE.jsonl`. @module */
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import type { Command } from 'commander'
import { systemClock } from '../../domain/clock.js'
import { isStreamName, STREAM_NAMES } from '../../domain/streams.js'
import { formatIso } from '../../domain/time.js'
import { importItems, prepareLines } from '../../ingest/import-items.js'
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
      .requiredOption('--resource <name>', STREAM_NAMES.join('|'))
      .option(
        '--preserve-timestamps',
        "keep each item's own time as its position (only above the stream's high-water mark)",
      ),
  ).action(
    action(async (file: string, opts: ImportOptions) => {
      if (!isStreamName(opts.resource)) {
        throw new UsageError(
          `Invalid --resource "${opts.resource}": use one of ${STREAM_NAMES.join(', ')}.`,
        )
      }
      const resource = opts.resource
      const lines: string[] = []
      const input = file === '-' ? process.stdin : createReadStream(file, { encoding: 'utf8' })
      try {
        for await (const line of createInterface({ input, crlfDelay: Infinity })) {
          lines.push(line)
          if (lines.length % 10_000 === 0) process.stderr.write(`\rread ${lines.length} lines`)
        }
      } catch (err) {
        throw new CliError(`Cannot read ${file}: ${(err as Error).message}`)
      }
      if (lines.length >= 10_000) process.stderr.write('\n')
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
