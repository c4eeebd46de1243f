/**
 * `chat-export import --account NAME --resource R [--preserve-timestamps]
 * [--unknown-attributes keep|refuse] FILE`: JSON Lines or one JSON array. @module
 */
import { createReadStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { Option, type Command } from 'commander'
import { systemClock } from '../../domain/clock.js'
import { AppError } from '../../domain/errors.js'
import type { UnknownAttributes } from '../../domain/schemas/index.js'
import { isStreamName, STREAM_NAMES } from '../../domain/streams.js'
import { formatIso } from '../../domain/time.js'
import type { PreparedImport } from '../../ingest/import-items.js'
import { importItems, readImport } from '../../ingest/import-items.js'
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
  unknownAttributes: UnknownAttributes
  store?: string
}

/** Registers the import command. */
export function registerImport(program: Command): void {
  withStoreOption(
    program
      .command('import')
      .description(
        'import export-shaped items (one JSON object per line, or one JSON array) into an account, atomically',
      )
      .argument('<file>', 'JSON Lines or JSON array file ("-" for stdin)')
      .requiredOption('--account <name>', 'target account')
      .requiredOption('--resource <name>', [...STREAM_NAMES, ...DIRECTORY_RESOURCES].join('|'))
      .option(
        '--preserve-timestamps',
        "keep each item's own time as its position (only above the stream's high-water mark)",
      )
      .addOption(
        new Option(
          '--unknown-attributes <mode>',
          'attributes the schema does not describe: keep them (and list them) or refuse the file',
        )
          .choices(['keep', 'refuse'])
          .default('keep'),
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
      if (kind !== undefined) {
        // Directory files are small: read whole, checked line by line.
        const lines: string[] = []
        try {
          const input = file === '-' ? process.stdin : createReadStream(file, { encoding: 'utf8' })
          for await (const line of createInterface({ input, crlfDelay: Infinity })) lines.push(line)
        } catch (err) {
          throw new CliError(`Cannot read ${file}: ${(err as Error).message}`)
        }
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
      const input = file === '-' ? process.stdin : createReadStream(file)
      let prepared: PreparedImport
      try {
        prepared = await readImport(resource, input, { unknownAttributes: opts.unknownAttributes })
      } catch (err) {
        if (err instanceof AppError) throw err
        throw new CliError(`Cannot read ${file}: ${(err as Error).message}`)
      }
      const items = prepared.items
      const unknown = prepared.unknownAttributes
      if (unknown.items > 0) {
        process.stderr.write(
          `kept unknown attributes in ${unknown.items} item(s): ${Object.entries(unknown.paths)
            .map(([path, n]) => `${path} (${n})`)
            .join(', ')}\n`,
        )
      }
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
