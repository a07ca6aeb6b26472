import { describe, expect, it } from 'vitest'
import { TEST_DID, worker } from '../helpers'
import { approve, dpopXrpc, freshNonce, loopbackClientId, newDpopKey, ORIGIN, par, REDIRECT, signIn, tokenRequest } from './client'

const post = (text: string) => ({ repo: TEST_DID, collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text, createdAt: new Date().toISOString() } })

describe('OAuth discovery', () => {
  it('serves protected-resource and authorization-server metadata with CORS, caching, jwks_uri and no bare repo/rpc scopes', async () => {
    const pr = await worker.fetch(`${ORIGIN}/.well-known/oauth-protected-resource`, { headers: { origin: 'https://app.example' } })
    expect(pr.status).toBe(200)
    expect(pr.headers.get('access-control-allow-origin')).toBe('*')
    expect(pr.headers.get('cache-control')).toContain('max-age')
    const resource: any = await pr.json()
    expect(resource).toMatchObject({ resource: ORIGIN, authorization_servers: [ORIGIN], bearer_methods_supported: ['header'] })

    const as = await worker.fetch(`${ORIGIN}/.well-known/oauth-authorization-server`, { headers: { origin: 'https://app.example' } })
    expect(as.headers.get('access-control-allow-origin')).toBe('*')
    expect(as.headers.get('access-control-expose-headers')?.toLowerCase()).toContain('dpop-nonce')
    const meta: any = await as.json()
    expect(meta).toMatchObject({
      issuer: ORIGIN,
      pushed_authorization_request_endpoint: `${ORIGIN}/oauth/par`,
      authorization_endpoint: `${ORIGIN}/oauth/authorize`,
      token_endpoint: `${ORIGIN}/oauth/token`,
      revocation_endpoint: `${ORIGIN}/oauth/revoke`,
      jwks_uri: `${ORIGIN}/oauth/jwks`,
      require_pushed_authorization_requests: true,
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
      authorization_response_iss_parameter_supported: true,
      client_id_metadata_document_supported: true,
    })
    expect(meta.scopes_supported).toEqual(expect.arrayContaining(['atproto', 'transition:generic', 'transition:chat.bsky', 'transition:email']))
    expect(meta.scopes_supported).not.toContain('repo')
    expect(meta.scopes_supported).not.toContain('rpc')
    expect(meta.dpop_signing_alg_values_supported).toContain('ES256')

    const keys: any = await (await worker.fetch(meta.jwks_uri)).json()
    expect(keys.keys).toHaveLength(1)
    expect(keys.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' })
    expect(keys.keys[0].d).toBeUndefined()
  })
})

describe('the OAuth flow for a loopback client', () => {
  it('accepts PAR as form or JSON with 201, and a GET of the page (link-preview bot) does not consume the request_uri', async () => {
    const key = await newDpopKey()
    await par(key, { json: true })
    const req = await par(key)
    for (let i = 0; i < 2; i++) {
      const bot = await worker.fetch(`${ORIGIN}/oauth/authorize?client_id=${encodeURIComponent(req.clientId)}&request_uri=${encodeURIComponent(req.requestUri)}`, { headers: { 'user-agent': 'Slackbot-LinkExpanding 1.0' } })
      expect(bot.status).toBe(200)
      expect(await bot.text()).toContain('name="password"')
    }
    const approved = await approve(req)
    expect(approved.status).toBe(303)
    const cb = new URL(approved.location!)
    expect(`${cb.origin}${cb.pathname}`).toBe(REDIRECT)
    // response_mode query by default, with iss (RFC 9207) and state.
    expect(cb.searchParams.get('iss')).toBe(ORIGIN)
    expect(cb.searchParams.get('state')).toBe(req.state)
    expect(cb.searchParams.get('code')).toBeTruthy()
    expect(cb.hash).toBe('')
    // The request_uri is now used up: the page says so, and a second submission gets nothing.
    const again = await worker.fetch(`${ORIGIN}/oauth/authorize?client_id=${encodeURIComponent(req.clientId)}&request_uri=${encodeURIComponent(req.requestUri)}`)
    expect(await again.text()).toContain('already answered')
  })

  it('puts the response in the fragment only when the client asks for it', async () => {
    const key = await newDpopKey()
    const req = await par(key, { extra: { response_mode: 'fragment' } })
    const cb = new URL((await approve(req)).location!)
    expect(cb.search).toBe('')
    expect(new URLSearchParams(cb.hash.slice(1)).get('iss')).toBe(ORIGIN)
  })

  it('issues DPoP-bound tokens that write, refresh with rotation, and stop at once when revoked', async () => {
    const key = await newDpopKey()
    const tokens = await signIn(key)
    expect(tokens).toMatchObject({ token_type: 'DPoP', sub: TEST_DID, scope: 'atproto transition:generic' })
    expect(tokens.expires_in).toBeLessThanOrEqual(30 * 60)
    const claims = JSON.parse(atob(tokens.access_token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')))
    expect(claims.cnf.jkt).toBe(key.jkt)

    const created = await dpopXrpc(key, tokens.access_token, 'com.atproto.repo.createRecord', { body: post('via oauth') })
    expect(created.status).toBe(200)
    expect(created.headers.get('dpop-nonce')).toBeTruthy()
    const session = await dpopXrpc(key, tokens.access_token, 'com.atproto.server.getSession')
    expect(session.status).toBe(200)
    expect(session.json.did).toBe(TEST_DID)

    const refreshed = await tokenRequest(key, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: tokens.clientId })
    expect(refreshed.status).toBe(200)
    expect(refreshed.json.refresh_token).not.toBe(tokens.refresh_token)
    expect((await dpopXrpc(key, refreshed.json.access_token, 'com.atproto.repo.createRecord', { body: post('after refresh') })).status).toBe(200)

    const revoked = await tokenRevoke(refreshed.json.refresh_token)
    expect(revoked).toEqual({ status: 200, json: {} })
    const after = await dpopXrpc(key, refreshed.json.access_token, 'com.atproto.repo.createRecord', { body: post('after revoke') })
    expect(after.status).toBe(401)
    expect(after.headers.get('www-authenticate')).toMatch(/^DPoP .*error="invalid_token"/)
    // RFC 7009: unknown tokens get the same answer.
    expect(await tokenRevoke('nonsense')).toEqual({ status: 200, json: {} })
  })

  it('remembers consent for the same or narrower scopes: a signed-in browser with prompt=none gets a code at once', async () => {
    const key = await newDpopKey()
    const first = await approve(await par(key))
    const req = await par(key, { scope: 'atproto', extra: { prompt: 'none' } })
    const res = await worker.fetch(`${ORIGIN}/oauth/authorize?client_id=${encodeURIComponent(req.clientId)}&request_uri=${encodeURIComponent(req.requestUri)}`, { headers: { cookie: first.cookie }, redirect: 'manual' })
    expect(res.status).toBe(303)
    expect(new URL(res.headers.get('location')!).searchParams.get('code')).toBeTruthy()

    // Without the sign-in cookie, prompt=none answers login_required and leaves the request unconsumed.
    const other = await par(key, { extra: { prompt: 'none' } })
    const anon = await worker.fetch(`${ORIGIN}/oauth/authorize?client_id=${encodeURIComponent(other.clientId)}&request_uri=${encodeURIComponent(other.requestUri)}`, { redirect: 'manual' })
    expect(new URL(anon.headers.get('location')!).searchParams.get('error')).toBe('login_required')

    // A wider scope than was granted needs consent again.
    const wider = await par(key, { clientId: loopbackClientId('atproto transition:generic transition:chat.bsky'), scope: 'atproto transition:chat.bsky', extra: { prompt: 'none' } })
    const needs = await worker.fetch(`${ORIGIN}/oauth/authorize?client_id=${encodeURIComponent(wider.clientId)}&request_uri=${encodeURIComponent(wider.requestUri)}`, { headers: { cookie: first.cookie }, redirect: 'manual' })
    expect(new URL(needs.headers.get('location')!).searchParams.get('error')).toBe('consent_required')
  })

  it('prompt=login asks for the password even in a signed-in browser; deny returns access_denied', async () => {
    const key = await newDpopKey()
    const first = await approve(await par(key))
    const req = await par(key, { extra: { prompt: 'login' } })
    const page = await worker.fetch(`${ORIGIN}/oauth/authorize?client_id=${encodeURIComponent(req.clientId)}&request_uri=${encodeURIComponent(req.requestUri)}`, { headers: { cookie: first.cookie } })
    expect(await page.text()).toContain('name="password"')
    const denied = await approve(await par(key), { decision: 'deny', cookie: first.cookie })
    expect(new URL(denied.location!).searchParams.get('error')).toBe('access_denied')
  })

  it('refuses a wrong password on the page and counts it as a failed login', async () => {
    const key = await newDpopKey()
    const res = await approve(await par(key), { password: 'wrong' })
    expect(res.status).toBe(401)
    expect(res.text).toContain('Wrong handle or password')
  })

  it('serves the page with a strict CSP whose form-action lets the form post and follow the redirect', async () => {
    const key = await newDpopKey()
    const req = await par(key)
    const page = await worker.fetch(`${ORIGIN}/oauth/authorize?client_id=${encodeURIComponent(req.clientId)}&request_uri=${encodeURIComponent(req.requestUri)}`)
    const csp = page.headers.get('content-security-policy')!
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).toMatch(/form-action 'self' http:\/\/127\.0\.0\.1:9999/)
    expect(csp).not.toContain('unsafe-inline')
    const html = await page.text()
    expect(html).not.toMatch(/<script/i)
    expect(html).not.toMatch(/(src|href)="https?:\/\//)
  })
})

async function tokenRevoke(token: string) {
  const res = await worker.fetch(`${ORIGIN}/oauth/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token, client_id: loopbackClientId() }).toString() })
  return { status: res.status, json: await res.json() }
}

export { freshNonce }
