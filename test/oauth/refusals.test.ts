import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { readConfig } from '../../src/env'
import { signAccessToken } from '../../src/oauth/accessToken'
import { resolveClient } from '../../src/oauth/client'
import { TEST_DID, xrpc, loggedInAgent, worker } from '../helpers'
import { APPVIEW, CHAT, standInService, useNetwork, type Network } from '../standIns'
import { approve, dpopProof, dpopXrpc, freshNonce, loopbackClientId, newDpopKey, ORIGIN, par, postForm, REDIRECT, signIn, tokenRequest } from './client'

const post = (text: string, collection = 'app.bsky.feed.post') => ({ repo: TEST_DID, collection, record: { $type: collection, text, createdAt: new Date().toISOString(), subject: undefined } })
const listPosts = async () => (await xrpc('com.atproto.repo.listRecords', { params: { repo: TEST_DID, collection: 'app.bsky.feed.post' } })).json.records.length as number

let network: Network | null = null
afterEach(() => {
  network?.restore()
  network = null
  vi.restoreAllMocks()
})

async function codeFor(key: Awaited<ReturnType<typeof newDpopKey>>) {
  const req = await par(key)
  const code = new URL((await approve(req)).location!).searchParams.get('code')!
  return { req, code }
}

describe('token endpoint refusals', () => {
  it('refuses a wrong PKCE verifier, and the code is then spent', async () => {
    const key = await newDpopKey()
    const { req, code } = await codeFor(key)
    const bad = await tokenRequest(key, { grant_type: 'authorization_code', code, code_verifier: 'x'.repeat(43), redirect_uri: REDIRECT, client_id: req.clientId })
    expect(bad.status).toBe(400)
    expect(bad.json.error).toBe('invalid_grant')
    const good = await tokenRequest(key, { grant_type: 'authorization_code', code, code_verifier: req.verifier, redirect_uri: REDIRECT, client_id: req.clientId })
    expect(good.json.error).toBe('invalid_grant')
  })

  it('refuses a reused code and revokes the tokens the first exchange produced', async () => {
    const key = await newDpopKey()
    const { req, code } = await codeFor(key)
    const form = { grant_type: 'authorization_code', code, code_verifier: req.verifier, redirect_uri: REDIRECT, client_id: req.clientId }
    const first = await tokenRequest(key, form)
    expect(first.status).toBe(200)
    const second = await tokenRequest(key, form)
    expect(second.json.error).toBe('invalid_grant')
    const use = await dpopXrpc(key, first.json.access_token, 'com.atproto.server.getSession')
    expect(use.status).toBe(401)
  })

  it('a replayed refresh token ends the whole session', async () => {
    const key = await newDpopKey()
    const tokens = await signIn(key)
    const rotated = await tokenRequest(key, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: tokens.clientId })
    expect(rotated.status).toBe(200)
    const replay = await tokenRequest(key, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: tokens.clientId })
    expect(replay.json.error).toBe('invalid_grant')
    // The legitimate newer token is gone too, and so are the access tokens.
    const newer = await tokenRequest(key, { grant_type: 'refresh_token', refresh_token: rotated.json.refresh_token, client_id: tokens.clientId })
    expect(newer.json.error).toBe('invalid_grant')
    expect((await dpopXrpc(key, rotated.json.access_token, 'com.atproto.server.getSession')).status).toBe(401)
  })

  it('refuses a refresh with another DPoP key than the session is bound to', async () => {
    const key = await newDpopKey()
    const tokens = await signIn(key)
    const other = await tokenRequest(await newDpopKey(), { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: tokens.clientId })
    expect(other.json.error).toBe('invalid_grant')
  })

  it('answers a token request without a nonce with use_dpop_nonce and a DPoP-Nonce header', async () => {
    const key = await newDpopKey()
    const proof = await dpopProof(key, { htm: 'POST', htu: `${ORIGIN}/oauth/token` })
    const res = await postForm('/oauth/token', { grant_type: 'refresh_token', refresh_token: 'a.b', client_id: loopbackClientId() }, { dpop: proof })
    expect(res.status).toBe(400)
    expect(res.json.error).toBe('use_dpop_nonce')
    expect(res.headers.get('dpop-nonce')).toBeTruthy()
  })
})

describe('PAR refusals', () => {
  async function rawPar(form: Record<string, string>) {
    const key = await newDpopKey()
    const proof = await dpopProof(key, { htm: 'POST', htu: `${ORIGIN}/oauth/par`, nonce: await freshNonce() })
    return postForm('/oauth/par', form, { dpop: proof })
  }
  const base = async () => ({
    client_id: loopbackClientId(),
    response_type: 'code',
    redirect_uri: REDIRECT,
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    state: 's',
    scope: 'atproto transition:generic',
  })

  it('refuses a redirect_uri that is not an exact match', async () => {
    for (const redirect of ['http://127.0.0.1:9999/callback/', 'http://127.0.0.1:9998/callback', 'http://127.0.0.1:9999/callback?x=1']) {
      const res = await rawPar({ ...(await base()), redirect_uri: redirect })
      expect(res.status).toBe(400)
      expect(res.json.error_description).toContain('redirect_uri')
    }
  })

  it('refuses plain PKCE and a missing challenge', async () => {
    expect((await rawPar({ ...(await base()), code_challenge_method: 'plain' })).json.error).toBe('invalid_request')
    const { code_challenge: _, ...noChallenge } = await base()
    expect((await rawPar(noChallenge)).json.error).toBe('invalid_request')
  })

  it('ignores an unparseable scope token instead of refusing the request', async () => {
    const key = await newDpopKey()
    const clientId = loopbackClientId('atproto transition:generic')
    const tokens = await signIn(key, { clientId, scope: 'atproto transition:generic profile repo:!!bad' })
    expect(tokens.scope).toBe('atproto transition:generic')
  })

  it('catches a permission set (include:) it cannot honour at PAR, not at consent', async () => {
    const scope = 'atproto include:com.example.calendar.basePermissions'
    const res = await rawPar({ ...(await base()), client_id: loopbackClientId(scope), scope })
    expect(res.status).toBe(400)
    expect(res.json.error).toBe('invalid_scope')
  })

  it('requires DPoP at PAR', async () => {
    const res = await postForm('/oauth/par', await base())
    expect(res.status).toBe(400)
    expect(res.json.error).toBe('invalid_dpop_proof')
  })

  it('never fetches client metadata from a private or loopback address', async () => {
    network = useNetwork()
    const strict = { ...readConfig(env), proxyAllowInsecure: false }
    for (const id of ['https://10.0.0.8/client-metadata.json', 'https://127.0.0.1/client-metadata.json', 'https://[::1]/client-metadata.json', 'https://intranet/client-metadata.json', 'http://app.example.com/client-metadata.json', 'https://metadata.internal/client.json']) {
      await expect(resolveClient(id, strict, env.CACHE)).rejects.toMatchObject({ error: 'invalid_client' })
    }
    expect(network.requests).toEqual([])
  })
})

describe('resource server refusals', () => {
  it('refuses a stale or missing nonce with 401 use_dpop_nonce, telling the client the new one', async () => {
    const key = await newDpopKey()
    const { access_token } = await signIn(key)
    for (const nonce of ['stale-nonce-value', undefined]) {
      const url = `${ORIGIN}/xrpc/com.atproto.server.getSession`
      const proof = await dpopProof(key, { htm: 'GET', htu: url, nonce, accessToken: access_token })
      const res = await worker.fetch(url, { headers: { authorization: `DPoP ${access_token}`, dpop: proof } })
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toMatch(/^DPoP .*error="use_dpop_nonce"/)
      expect(res.headers.get('dpop-nonce')).toBeTruthy()
      expect(res.headers.get('dpop-nonce')).not.toBe(nonce)
    }
  })

  it('refuses a proof for another method, another URL, another key, or without ath', async () => {
    const key = await newDpopKey()
    const { access_token } = await signIn(key)
    const before = await listPosts()
    const cases = [
      { proof: { htm: 'GET' } },
      { proof: { htu: `${ORIGIN}/xrpc/com.atproto.repo.deleteRecord` } },
      { proof: { key: await newDpopKey() } },
      { proof: { accessToken: undefined } },
      { proof: { claims: { ath: 'AAAA' } } },
      { proof: { claims: { iat: Math.floor(Date.now() / 1000) - 3600 } } },
    ]
    for (const c of cases) {
      const res = await dpopXrpc(key, access_token, 'com.atproto.repo.createRecord', { body: post('nope'), proof: c.proof as any })
      expect(res.status, JSON.stringify(c)).toBe(401)
      expect(res.headers.get('www-authenticate')).toMatch(/^DPoP /)
    }
    expect(await listPosts()).toBe(before)
  })

  it('refuses a replayed proof (same jti)', async () => {
    const key = await newDpopKey()
    const { access_token } = await signIn(key)
    const url = `${ORIGIN}/xrpc/com.atproto.server.getSession`
    const proof = await dpopProof(key, { htm: 'GET', htu: url, nonce: await freshNonce(), accessToken: access_token })
    const headers = { authorization: `DPoP ${access_token}`, dpop: proof }
    expect((await worker.fetch(url, { headers })).status).toBe(200)
    const replay = await worker.fetch(url, { headers })
    expect(replay.status).toBe(401)
    expect(await replay.json()).toMatchObject({ message: expect.stringContaining('jti') })
  })

  it('refuses a DPoP-bound token sent as Bearer, and writes nothing', async () => {
    const key = await newDpopKey()
    const { access_token } = await signIn(key)
    const before = await listPosts()
    const res = await xrpc('com.atproto.repo.createRecord', { token: access_token, body: post('as bearer') })
    expect(res.status).toBeGreaterThanOrEqual(400)
    expect(res.json.error).toBe('InvalidToken')
    expect(await listPosts()).toBe(before)
  })

  it('answers an expired access token with 401 WWW-Authenticate: DPoP error="invalid_token" so clients refresh', async () => {
    const key = await newDpopKey()
    const tokens = await signIn(key)
    const claims = JSON.parse(atob(tokens.access_token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')))
    const realNow = Date.now()
    vi.spyOn(Date, 'now').mockReturnValue(realNow - 2 * 3600_000)
    const expired = await signAccessToken(readConfig(env), { sub: TEST_DID, sid: claims.sid, scope: claims.scope, clientId: claims.client_id, jkt: key.jkt })
    vi.restoreAllMocks()
    const res = await dpopXrpc(key, expired, 'com.atproto.server.getSession')
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_token"/)
    expect(res.json.error).toBe('InvalidToken')
  })

  it('enforces scopes per method: repo:app.bsky.feed.like cannot post', async () => {
    const key = await newDpopKey()
    const scope = 'atproto repo:app.bsky.feed.like'
    const { access_token } = await signIn(key, { clientId: loopbackClientId(scope), scope })
    const before = await listPosts()
    const denied = await dpopXrpc(key, access_token, 'com.atproto.repo.createRecord', { body: post('not allowed') })
    expect(denied.status).toBe(403)
    expect(denied.json.message).toContain('repo:app.bsky.feed.post')
    expect(await listPosts()).toBe(before)
    const like = { repo: TEST_DID, collection: 'app.bsky.feed.like', record: { $type: 'app.bsky.feed.like', subject: { uri: `at://${TEST_DID}/app.bsky.feed.post/3jzfcijpj2z2a`, cid: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm' }, createdAt: new Date().toISOString() } }
    expect((await dpopXrpc(key, access_token, 'com.atproto.repo.createRecord', { body: like })).status).toBe(200)
    // No blob: scope, no upload.
    expect((await dpopXrpc(key, access_token, 'com.atproto.repo.uploadBlob', { rawBody: new Uint8Array([1, 2, 3]), headers: { 'content-type': 'image/png' } })).status).toBe(403)
  })

  it('accepts repo?collection=a&collection=b as two collections', async () => {
    const key = await newDpopKey()
    const scope = 'atproto repo?collection=app.bsky.feed.post&collection=app.bsky.feed.like'
    const tokens = await signIn(key, { clientId: loopbackClientId(scope), scope })
    expect(tokens.scope).toBe(scope)
    expect((await dpopXrpc(key, tokens.access_token, 'com.atproto.repo.createRecord', { body: post('two collections') })).status).toBe(200)
    const follow = { repo: TEST_DID, collection: 'app.bsky.graph.follow', record: { $type: 'app.bsky.graph.follow', subject: TEST_DID, createdAt: new Date().toISOString() } }
    expect((await dpopXrpc(key, tokens.access_token, 'com.atproto.repo.createRecord', { body: follow })).status).toBe(403)
  })

  it('checks proxied calls against rpc:<nsid>?aud=<did#service>, not the bare DID', async () => {
    const appview = standInService(APPVIEW.did, { 'app.bsky.feed.getTimeline': () => ({ feed: [] }), 'app.bsky.actor.getProfile': () => ({}) })
    network = useNetwork({ [APPVIEW.url]: appview.handler })
    const key = await newDpopKey()
    const scope = `atproto rpc:app.bsky.feed.getTimeline?aud=${APPVIEW.did}%23bsky_appview`
    const { access_token } = await signIn(key, { clientId: loopbackClientId(scope), scope })
    const ok = await dpopXrpc(key, access_token, 'app.bsky.feed.getTimeline')
    expect(ok.status).toBe(200)
    expect(appview.calls.map((c) => c.claims?.aud)).toEqual([APPVIEW.did])
    const other = await dpopXrpc(key, access_token, 'app.bsky.actor.getProfile', { params: { actor: TEST_DID } })
    expect(other.status).toBe(403)
    // The same method to another service (atproto-proxy) is outside the grant.
    const elsewhere = await dpopXrpc(key, access_token, 'app.bsky.feed.getTimeline', { headers: { 'atproto-proxy': `${APPVIEW.did}#other_service` } })
    expect(elsewhere.status).toBe(403)
    expect(appview.calls).toHaveLength(1)
  })

  it('sends chat.bsky calls on only with transition:chat.bsky, not with transition:generic', async () => {
    const chat = standInService(CHAT.did, { 'chat.bsky.convo.listConvos': () => ({ convos: [] }) })
    network = useNetwork({ [CHAT.url]: chat.handler })
    const key = await newDpopKey()
    const generic = await signIn(key)
    expect((await dpopXrpc(key, generic.access_token, 'chat.bsky.convo.listConvos')).status).toBe(403)
    const scope = 'atproto transition:chat.bsky'
    const withChat = await signIn(key, { clientId: loopbackClientId(scope), scope })
    expect((await dpopXrpc(key, withChat.access_token, 'chat.bsky.convo.listConvos')).status).toBe(200)
    expect(chat.calls).toHaveLength(1)
  })

  it('keeps account-management methods from OAuth credentials, even with transition:generic', async () => {
    const key = await newDpopKey()
    const { access_token } = await signIn(key)
    const res = await dpopXrpc(key, access_token, 'com.atproto.server.createAppPassword', { body: { name: 'sneaky' } })
    expect(res.status).toBe(403)
    expect((await dpopXrpc(key, access_token, 'com.atproto.server.deactivateAccount', { body: {} })).status).toBe(403)
    expect((await dpopXrpc(key, access_token, 'com.atproto.server.refreshSession', { method: 'POST' })).status).toBe(400)
  })

  it('puts DPoP-Nonce on XRPC responses, errors included, and exposes it to browsers', async () => {
    const res = await worker.fetch(`${ORIGIN}/xrpc/com.atproto.server.getSession`, { headers: { origin: 'https://app.example' } })
    expect(res.status).toBe(401)
    expect(res.headers.get('dpop-nonce')).toBeTruthy()
    expect(res.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('dpop-nonce')
  })
})

describe('getSession over OAuth', () => {
  it('shows the email only to apps granted transition:email (or account:email)', async () => {
    const agent = await loggedInAgent()
    await agent.com.atproto.server.updateEmail({ email: 'owner@example.com' })
    const key = await newDpopKey()
    const generic = await signIn(key)
    const without = await dpopXrpc(key, generic.access_token, 'com.atproto.server.getSession')
    expect(without.status).toBe(200)
    expect(without.json.did).toBe(TEST_DID)
    expect(without.json).not.toHaveProperty('email')
    const scope = 'atproto transition:generic transition:email'
    const withEmail = await signIn(key, { clientId: loopbackClientId(scope), scope })
    expect((await dpopXrpc(key, withEmail.access_token, 'com.atproto.server.getSession')).json.email).toBe('owner@example.com')
  })
})

describe('password sessions alongside OAuth', () => {
  it('keeps working unchanged, with app passwords', async () => {
    const agent = await loggedInAgent()
    const created = await agent.com.atproto.server.createAppPassword({ name: `oauth-coexist-${Date.now()}` })
    const res = await xrpc('com.atproto.server.createSession', { body: { identifier: 'alice.test', password: created.data.password } })
    expect(res.status).toBe(200)
    expect((await xrpc('com.atproto.repo.createRecord', { token: res.json.accessJwt, body: post('app password post') })).status).toBe(200)
    expect((await agent.com.atproto.server.getSession()).data.did).toBe(TEST_DID)
  })
})
