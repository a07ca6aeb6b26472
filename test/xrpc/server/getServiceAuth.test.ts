import { Secp256k1Keypair, verifySignature } from '@atproto/crypto'
import { base64url } from 'multiformats/bases/base64'
import { describe, expect, it } from 'vitest'
import { TEST_DID, TEST_HANDLE, TEST_PASSWORD, worker, xrpc } from '../../helpers'

const decode = (part: string) => JSON.parse(new TextDecoder().decode(base64url.baseDecode(part)))

async function login(password = TEST_PASSWORD): Promise<string> {
  return (await xrpc('com.atproto.server.createSession', { body: { identifier: TEST_HANDLE, password } })).json.accessJwt
}

async function appPassword(owner: string, privileged: boolean): Promise<string> {
  const created = await xrpc('com.atproto.server.createAppPassword', { token: owner, body: { name: `svc-${crypto.randomUUID()}`, privileged } })
  return login(created.json.password)
}

describe('getServiceAuth', () => {
  it('returns a token for the requested audience and method that verifies against our DID document', async () => {
    const token = await login()
    const exp = Math.floor(Date.now() / 1000) + 30 * 60
    const res = await xrpc('com.atproto.server.getServiceAuth', { token, params: { aud: 'did:web:video.bsky.app', lxm: 'com.atproto.repo.uploadBlob', exp } })
    expect(res.status).toBe(200)
    const [h, p, s] = res.json.token.split('.')
    expect(decode(h)).toEqual({ typ: 'JWT', alg: 'ES256K' })
    expect(decode(p)).toMatchObject({ iss: TEST_DID, aud: 'did:web:video.bsky.app', lxm: 'com.atproto.repo.uploadBlob', exp })

    const doc: any = await (await worker.fetch('https://pds.test/.well-known/did.json')).json()
    const didKey = `did:key:${doc.verificationMethod[0].publicKeyMultibase}`
    expect(await verifySignature(didKey, new TextEncoder().encode(`${h}.${p}`), base64url.baseDecode(s))).toBe(true)
    const other = await Secp256k1Keypair.create()
    expect(await verifySignature(other.did(), new TextEncoder().encode(`${h}.${p}`), base64url.baseDecode(s))).toBe(false)

    // A did#service audience is kept as asked; no lxm means a method-less token of at most 60 s.
    const withService = await xrpc('com.atproto.server.getServiceAuth', { token, params: { aud: 'did:web:api.bsky.chat#bsky_chat' } })
    const claims = decode(withService.json.token.split('.')[1])
    expect(claims.aud).toBe('did:web:api.bsky.chat#bsky_chat')
    expect('lxm' in claims).toBe(false)
    expect(claims.exp - claims.iat).toBe(60)
  })

  it('enforces the reference limits on expiry with 400 BadExpiration', async () => {
    const token = await login()
    const now = Math.floor(Date.now() / 1000)
    const cases: [Record<string, string | number>, string][] = [
      [{ exp: now - 10, lxm: 'app.bsky.feed.getTimeline' }, 'expiration is in past'],
      [{ exp: now + 3600 + 60, lxm: 'app.bsky.feed.getTimeline' }, 'cannot request a token with an expiration more than an hour in the future'],
      [{ exp: now + 120 }, 'cannot request a method-less token with an expiration more than a minute in the future'],
    ]
    for (const [params, message] of cases) {
      const res = await xrpc('com.atproto.server.getServiceAuth', { token, params: { aud: 'did:web:x.test', ...params } })
      expect(res.status).toBe(400)
      expect(res.json).toEqual({ error: 'BadExpiration', message })
    }
    expect((await xrpc('com.atproto.server.getServiceAuth', { token, params: { aud: 'did:web:x.test', exp: now + 3500, lxm: 'app.bsky.feed.getTimeline' } })).status).toBe(200)
  })

  it('refuses bad audiences, protected methods, and privileged methods for plain app passwords', async () => {
    const owner = await login()
    for (const aud of ['not-a-did', 'did:web:x.test#', 'did:web:x.test#a b']) {
      const res = await xrpc('com.atproto.server.getServiceAuth', { token: owner, params: { aud } })
      expect([aud, res.status, res.json.error]).toEqual([aud, 400, 'InvalidRequest'])
    }
    const missing = await xrpc('com.atproto.server.getServiceAuth', { token: owner })
    expect([missing.status, missing.json.error]).toEqual([400, 'InvalidRequest'])

    const protectedMethod = await xrpc('com.atproto.server.getServiceAuth', { token: owner, params: { aud: 'did:web:x.test', lxm: 'com.atproto.server.createAppPassword' } })
    expect(protectedMethod.json).toEqual({ error: 'InvalidRequest', message: 'cannot request a service auth token for the following protected method: com.atproto.server.createAppPassword' })

    const plain = await appPassword(owner, false)
    const chat = await xrpc('com.atproto.server.getServiceAuth', { token: plain, params: { aud: 'did:web:api.bsky.chat', lxm: 'chat.bsky.convo.sendMessage' } })
    expect(chat.status).toBe(400)
    expect(chat.json.message).toBe('insufficient access to request a service auth token for the following method: chat.bsky.convo.sendMessage')
    expect((await xrpc('com.atproto.server.getServiceAuth', { token: plain, params: { aud: 'did:web:x.test', lxm: 'com.atproto.repo.uploadBlob' } })).status).toBe(200)

    const privileged = await appPassword(owner, true)
    expect((await xrpc('com.atproto.server.getServiceAuth', { token: privileged, params: { aud: 'did:web:api.bsky.chat', lxm: 'chat.bsky.convo.sendMessage' } })).status).toBe(200)

    expect((await xrpc('com.atproto.server.getServiceAuth', { params: { aud: 'did:web:x.test' } })).status).toBe(401)
  })
})
