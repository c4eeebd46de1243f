/**
 * The one way a command's settings are read: each setting is declared once (its flag, its
 * environment variables, its default as the user would type it, its parser), resolved with the
 * precedence flag > environment > default, and a bad value is reported under the name the user
 * gave it (`--port: ...` or `CHAT_EXPORT_PORT: ...`), never under a schema key.
 *
 *   const read = new SettingsReader(flags, env)
 *   const port = read.value(PORT)          // a number, parsed
 *   read.finish()                          // throws one ConfigError listing every problem
 * @module
 */
import type { Environment } from './environment.js'
import { redactUrl } from '../domain/redact-url.js'

/** One setting of a command. `T` is the parsed value handed on (a number, a list, a plan...). */
export interface Setting<T> {
  /** The commander flag spec, e.g. `--port <n>` or `--demo` (a switch). */
  readonly flag: string
  /** What the setting does, for --help (the default and variables are appended by helpText). */
  readonly help: string
  /** Environment variables that set it, the first one set wins. */
  readonly env?: readonly (keyof Environment)[]
  /** The default as a user would write it; parsed like any given value and shown in --help. */
  readonly default?: string
  /** Shown as the default in --help when the default is not a fixed text (e.g. "from the seed"). */
  readonly defaultHelp?: string
  /** Turns the text into the value; throws a ConfigError with one line saying what is expected. */
  readonly parse: (text: string) => T
  /** Never echo the value in an error (tokens). */
  readonly secret?: boolean
  /** Added to the "Missing --flag" line of a required setting. */
  readonly missingHint?: string
}

/** A configuration problem, with one line per bad setting. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1
        ? (problems[0] ?? '')
        : `Invalid configuration:\n  ${problems.join('\n  ')}`,
    )
  }
}

/** The long flag name without its argument: `--public-url <url>` → `--public-url`. */
export function flagName(setting: Setting<unknown>): string {
  const long = setting.flag.split(/[ ,]+/).find((part) => part.startsWith('--'))
  return long ?? setting.flag
}

/** The property commander stores the flag's value under: `--public-url` → `publicUrl`. */
export function attributeName(setting: Setting<unknown>): string {
  return flagName(setting)
    .slice(2)
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())
}

/** The --help line of a setting: its text, its default and the variables that set it. */
export function helpText(setting: Setting<unknown>): string {
  const extra: string[] = []
  const shown = setting.defaultHelp ?? setting.default
  if (shown !== undefined) extra.push(`default: ${shown}`)
  if (setting.env?.length) extra.push(`env: ${setting.env.join(' or ')}`)
  return extra.length === 0 ? setting.help : `${setting.help} (${extra.join('; ')})`
}

/** Flag values as commander hands them over: strings, `true` for switches, undefined if absent. */
export type FlagValues = Readonly<Record<string, unknown>>

/**
 * Resolves settings from flags, environment and defaults, collecting every problem so that one
 * run reports all of them.
 */
export class SettingsReader {
  readonly problems: string[] = []

  constructor(
    private readonly flags: FlagValues,
    private readonly env: Environment,
  ) {}

  /** The setting's value, or undefined when neither given nor defaulted (or when invalid). */
  value<T>(setting: Setting<T>, defaultText: string | undefined = setting.default): T | undefined {
    const given = this.given(setting)
    const text = given?.text ?? defaultText
    if (text === undefined) return undefined
    try {
      return setting.parse(text)
    } catch (err) {
      const source = given?.source ?? `${flagName(setting)} (default)`
      this.problems.push(describeProblem(source, text, err, setting.secret === true))
      return undefined
    }
  }

  /**
   * The setting's value; a missing one is recorded as a problem. The result may be a placeholder
   * when there were problems: call `finish()` before using it.
   */
  required<T>(setting: Setting<T>): T {
    if (this.given(setting) === undefined && setting.default === undefined) {
      const env = setting.env?.length ? ` (or set ${setting.env.join(' or ')})` : ''
      const hint = setting.missingHint === undefined ? '' : `. ${setting.missingHint}`
      this.problems.push(`Missing ${flagName(setting)}${env}${hint}`)
    }
    return this.value(setting) as T
  }

  /** Whether a switch (`--follow`) was given. */
  isSet(setting: Setting<unknown>): boolean {
    return this.flags[attributeName(setting)] === true
  }

  /** Where the setting's value came from: the flag, a variable's name, or undefined (default). */
  sourceOf(setting: Setting<unknown>): string | undefined {
    return this.given(setting)?.source
  }

  /** Adds a problem that no single setting owns (e.g. two flags that exclude each other). */
  problem(line: string): void {
    this.problems.push(line)
  }

  /** Throws a ConfigError listing every problem, if there was any. */
  finish(): void {
    if (this.problems.length > 0) throw new ConfigError([...this.problems])
  }

  private given(setting: Setting<unknown>): { text: string; source: string } | undefined {
    const flag = this.flags[attributeName(setting)]
    if (typeof flag === 'string') return { text: flag, source: flagName(setting) }
    if (flag === true) return { text: 'true', source: flagName(setting) }
    for (const name of setting.env ?? []) {
      const text = this.env[name]
      // An empty variable counts as unset, as shells make it easy to export one by accident.
      if (text !== undefined && text !== '') return { text, source: name }
    }
    return undefined
  }
}

function describeProblem(source: string, text: string, err: unknown, secret: boolean): string {
  const why = err instanceof ConfigError ? err.problems.join('; ') : String(err)
  if (secret) return `${source}: ${why}`
  return `${source}: ${why} (got "${shown(text)}")`
}

/** A value fit to print: credentials in URLs hidden, very long values cut. */
function shown(text: string): string {
  const safe = redactUrl(text)
  return safe.length > 80 ? `${safe.slice(0, 77)}...` : safe
}

// Parsers shared by the commands' settings. Each throws a ConfigError saying what is expected.

/** Fails with one line saying what was expected. */
export function invalid(expected: string): never {
  throw new ConfigError([expected])
}

/** An integer from `min` to `max` (decimal digits, optionally signed when min < 0). */
export function integer(min: number, max: number = Number.MAX_SAFE_INTEGER): (t: string) => number {
  return (text) => {
    const value = Number(text)
    if (
      !/^-?\d+$/.test(text.trim()) ||
      !Number.isSafeInteger(value) ||
      value < min ||
      value > max
    ) {
      invalid(
        max === Number.MAX_SAFE_INTEGER
          ? `expected a whole number of at least ${min}`
          : `expected an integer from ${min} to ${max}`,
      )
    }
    return value
  }
}

/** Any safe integer, negative ones too. */
export function wholeNumber(text: string): number {
  const value = Number(text)
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value))
    invalid('expected a whole number')
  return value
}

/** A positive (non-zero) finite number. */
export function positiveNumber(text: string): number {
  const value = Number(text)
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    invalid('expected a positive number')
  }
  return value
}

/** One of the given words. */
export function oneOf<const W extends string>(...words: W[]): (t: string) => W {
  return (text) => {
    if (!(words as string[]).includes(text)) invalid(`expected ${listOr(words)}`)
    return text as W
  }
}

/** A switch given on the command line (`true`), or true/false/1/0 from elsewhere. */
export function booleanValue(text: string): boolean {
  if (text === 'true' || text === '1') return true
  if (text === 'false' || text === '0') return false
  return invalid('expected true or false')
}

/** A non-empty text. */
export function nonEmpty(text: string): string {
  if (text.trim() === '') invalid('expected a value')
  return text
}

/** An absolute http(s) URL. */
export function absoluteUrl(example: string): (t: string) => string {
  return (text) => {
    let url: URL
    try {
      url = new URL(text)
    } catch {
      return invalid(`expected an absolute URL such as ${example}`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      invalid(`expected an http or https URL such as ${example}`)
    }
    return text
  }
}

function listOr(words: readonly string[]): string {
  return words.length <= 1
    ? (words[0] ?? '')
    : `${words.slice(0, -1).join(', ')} or ${words[words.length - 1] ?? ''}`
}
