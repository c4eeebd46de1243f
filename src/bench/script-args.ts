/**
 * Command-line parsing for the bench and proof scripts (`npm run bench`, `npm run check:*`):
 * `node:util` parseArgs with `--help`, and errors that say what was wrong instead of a stack trace.
 * @module
 */
import { parseArgs } from 'node:util'

type StringOptions = Record<string, { type: 'string'; default?: string }>

/** What a script's values look like: every option a string, or undefined without a default. */
export type ScriptValues<O extends StringOptions> = {
  [K in keyof O]: O[K] extends { default: string } ? string : string | undefined
}

/**
 * Parses `argv` against string `options`. `--help` prints `usage` and exits 0; an unknown option,
 * a missing value or a stray positional argument prints the problem and the usage and exits 2.
 */
export function scriptArgs<O extends StringOptions>(
  usage: string,
  options: O,
  argv: string[] = process.argv.slice(2),
): ScriptValues<O> {
  try {
    const { values } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    })
    if ((values as { help?: boolean }).help === true) {
      process.stdout.write(`${usage.trim()}\n`)
      process.exit(0)
    }
    return values as unknown as ScriptValues<O>
  } catch (error) {
    return exitWithUsage(usage, error instanceof Error ? error.message : String(error))
  }
}

/**
 * The whole number given for `--name`, or exit 2 saying what was wrong: `text` must be a whole
 * number of at least `min`.
 */
export function wholeNumberArg(usage: string, name: string, text: string, min = 0): number {
  const value = Number(text)
  if (text.trim() === '' || !Number.isSafeInteger(value) || value < min) {
    return exitWithUsage(
      usage,
      `--${name} must be a whole number of at least ${min}, not "${text}"`,
    )
  }
  return value
}

function exitWithUsage(usage: string, problem: string): never {
  // parseArgs' messages end with a hint about '--' that does not apply to these scripts.
  const message = problem.replace(/\. To specify a positional argument.*$/s, '')
  process.stderr.write(`error: ${message}\n\n${usage.trim()}\n`)
  process.exit(2)
}
