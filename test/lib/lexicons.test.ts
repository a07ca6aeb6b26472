import { describe, expect, it } from 'vitest'
import { decodeAndValidateParams, validateInput, withoutStacks } from '../../src/lib/lexicons'

const stackLimit = () => (Error as unknown as { stackTraceLimit: number }).stackTraceLimit

describe('lexicon checks', () => {
  it('check query strings and bodies as before, with the failing message, and leave stack traces on afterwards', () => {
    const before = stackLimit()
    expect(before).toBeGreaterThan(0)
    const params = (q: string) => decodeAndValidateParams('com.atproto.repo.getRecord', new URLSearchParams(q))
    expect(params('repo=did:web:a.test&collection=app.bsky.feed.post&rkey=3jzfcijpj2z2a')).toEqual({ repo: 'did:web:a.test', collection: 'app.bsky.feed.post', rkey: '3jzfcijpj2z2a' })
    expect(() => params('repo=did:web:a.test&collection=app.bsky.feed.post')).toThrow(/must have the property "rkey"/)
    expect(() => params('repo=did:web:a.test&collection=not%20an%20nsid&rkey=x')).toThrow(/collection must be a valid nsid/)
    expect(decodeAndValidateParams('com.atproto.repo.listRecords', new URLSearchParams('repo=did:web:a.test&collection=app.bsky.feed.post')).limit).toBe(50)
    expect(() => validateInput('com.atproto.repo.deleteRecord', { repo: 'did:web:a.test', collection: 'app.bsky.feed.post' })).toThrow(/must have the property "rkey"/)
    expect(stackLimit()).toBe(before)
    expect(new Error('after').stack).toContain('lexicons.test')
  })

  it('restores the stack depth when the check throws', () => {
    const before = stackLimit()
    let inside = -1
    expect(() =>
      withoutStacks(() => {
        inside = stackLimit()
        throw new Error('refused')
      }),
    ).toThrow('refused')
    expect(inside).toBe(0)
    expect(stackLimit()).toBe(before)
  })
})
