import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { redactUrl } from '../../src/domain/redact-url.js'

describe('redactUrl', () => {
  it('masks a password and keeps the user, host and path', () => {
    expect(redactUrl('postgres://app:s3cret@db.example.com:5432/chat')).toBe(
      'postgres://app:***@db.example.com:5432/chat',
    )
  })

  it('masks credential-like query parameters only', () => {
    expect(redactUrl('https://x.example/api?token=abc&limit=10&api_key=k')).toBe(
      'https://x.example/api?token=REDACTED&limit=10&api_key=REDACTED',
    )
  })

  it('leaves store URLs without secrets as they are', () => {
    expect(redactUrl('sqlite:./data/chat-export.db')).toBe('sqlite:./data/chat-export.db')
    expect(redactUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080/')
  })

  it('masks a password in text that is not a URL', () => {
    expect(redactUrl('postgres://app:s3cret@[bad')).toBe('postgres://app:***@[bad')
  })

  it('never returns a password it was given', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9]{12,20}$/), (password) => {
        for (const url of [
          `postgres://u:${password}@h/db`,
          `https://h/x?password=${password}`,
          `postgres://u:${password}@`,
        ]) {
          expect(redactUrl(url)).not.toContain(password)
        }
      }),
    )
  })
})
