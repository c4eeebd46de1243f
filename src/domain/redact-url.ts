/**
 * The one redactor: what may be printed, logged or put in an error about a URL (a server's, a
 * store's, a destination's). User names stay (they help find the right account); passwords and
 * query parameters that look like credentials do not. Bearer tokens never travel in URLs here.
 * @module
 */

const CREDENTIAL_PARAMETER = /token|key|secret|password|auth/i

/**
 * `url` with its password replaced by `***` and credential-like query parameters by `REDACTED`.
 * Text that is not a URL (a half-typed flag value) has any `//user:password@` part masked the same
 * way, so nothing secret survives whatever was given.
 */
export function redactUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return url.replace(/\/\/([^/@:\s]*):[^/@\s]*@/, '//$1:***@')
  }
  if (parsed.password !== '') parsed.password = '***'
  for (const name of [...parsed.searchParams.keys()]) {
    if (CREDENTIAL_PARAMETER.test(name)) parsed.searchParams.set(name, 'REDACTED')
  }
  return parsed.toString()
}
