import { Secp256k1Keypair, verifySignature } from '@atproto/crypto'
import { base64url } from 'multiformats/bases/base64'
import { describe, expect, it } from 'vitest'
import { createServiceJwt, isPrivilegedMethod, isProtectedMethod } from '../../src/auth/serviceAuth'
import { TEST_DID } from '../helpers'
import { standInService } from '../standIns'

const key = await Secp256k1Keypair.import('beda21e966f145733c5de18926b3d16d598237bbb3b318c2ca0f3ead7c6b91f8')
const decode = (part: string) => JSON.parse(new TextDecoder().decode(base64url.baseDecode(part)))

describe('createServiceJwt', () => {
  it('signs {typ: JWT, alg: ES256K} with a 64-byte low-S signature the did:key verifies', async () => {
    const before = Math.floor(Date.now() / 1000)
    const token = await createServiceJwt(key, { iss: TEST_DID, aud: 'did:web:appview.test', lxm: 'app.bsky.feed.getTimeline' })
    const [h, p, s] = token.split('.') as [string, string, string]
    expect(decode(h)).toEqual({ typ: 'JWT', alg: 'ES256K' })
    const claims = decode(p)
    expect(claims).toMatchObject({ iss: TEST_DID, aud: 'did:web:appview.test', lxm: 'app.bsky.feed.getTimeline' })
    expect(claims.iat).toBeGreaterThanOrEqual(before)
    expect(claims.exp - claims.iat).toBe(60)
    expect(claims.jti).toMatch(/^[0-9a-f]{32}$/)
    const sig = base64url.baseDecode(s)
    expect(sig).toHaveLength(64)
    // verifySignature refuses high-S (malleable) signatures by default.
    expect(await verifySignature(key.did(), new TextEncoder().encode(`${h}.${p}`), sig)).toBe(true)
    expect(await verifySignature(key.did(), new TextEncoder().encode(`${h}.${p}x`), sig)).toBe(false)
  })

  it('omits lxm for a method-less token, honours exp, and never repeats a jti', async () => {
    const exp = Math.floor(Date.now() / 1000) + 30
    const a = decode((await createServiceJwt(key, { iss: TEST_DID, aud: 'did:web:x.test', lxm: null, exp })).split('.')[1]!)
    const b = decode((await createServiceJwt(key, { iss: TEST_DID, aud: 'did:web:x.test', lxm: null, exp })).split('.')[1]!)
    expect('lxm' in a).toBe(false)
    expect(a.exp).toBe(exp)
    expect(a.jti).not.toBe(b.jti)
  })

  it('classifies methods as the reference PDS does', () => {
    expect(isPrivilegedMethod('chat.bsky.convo.sendMessage')).toBe(true)
    expect(isPrivilegedMethod('com.atproto.server.createAccount')).toBe(true)
    expect(isPrivilegedMethod('app.bsky.feed.getTimeline')).toBe(false)
    expect(isProtectedMethod('com.atproto.server.createAppPassword')).toBe(true)
    expect(isProtectedMethod('COM.ATPROTO.IDENTITY.UPDATEHANDLE')).toBe(true)
    expect(isProtectedMethod('app.bsky.actor.getProfile')).toBe(false)
  })
})

describe('the stand-in AppView used by the proxy tests', () => {
  // Its checks must be real for "every forwarded call verified" to mean anything.
  it('refuses tokens with another key, audience, method, expiry or a replayed jti', async () => {
    const appView = standInService('did:web:appview.test', { 'app.bsky.actor.getProfile': () => ({ did: TEST_DID, handle: 'alice.test' }) })
    const call = (token: string) => appView.handler(new Request('http://127.0.0.1:2584/xrpc/app.bsky.actor.getProfile?actor=a', { headers: { authorization: `Bearer ${token}` } }))
    const good = { iss: TEST_DID, aud: 'did:web:appview.test', lxm: 'app.bsky.actor.getProfile' }
    const now = Math.floor(Date.now() / 1000)

    const valid = await createServiceJwt(key, good)
    expect((await call(valid)).status).toBe(200)
    const bad = [
      await createServiceJwt(await Secp256k1Keypair.create(), good),
      await createServiceJwt(key, { ...good, aud: 'did:web:other.test' }),
      await createServiceJwt(key, { ...good, lxm: 'app.bsky.feed.getTimeline' }),
      await createServiceJwt(key, { ...good, exp: now - 1 }),
      await createServiceJwt(key, { ...good, iss: 'did:web:mallory.test' }),
      valid,
    ]
    for (const token of bad) expect((await call(token)).status).toBe(401)
    expect(appView.refusals).toEqual([
      'app.bsky.actor.getProfile: bad signature',
      'app.bsky.actor.getProfile: aud did:web:other.test is not did:web:appview.test',
      'app.bsky.actor.getProfile: lxm app.bsky.feed.getTimeline is not app.bsky.actor.getProfile',
      `app.bsky.actor.getProfile: bad exp ${now - 1} (iat ${decode(bad[3]!.split('.')[1]!).iat})`,
      'app.bsky.actor.getProfile: unexpected iss did:web:mallory.test',
      'app.bsky.actor.getProfile: missing or replayed jti',
    ])
    expect(appView.calls).toHaveLength(1)
  })
})
