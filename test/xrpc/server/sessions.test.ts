import { SignJWT } from 'jose'
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import worker from '../../../src/index'
import type { Env } from '../../../src/env'
import { describe, expect, it } from 'vitest'
import { MAX_FAILURES_PER_IP, LOGIN_WINDOW_MS } from '../../../src/auth/loginRateLimit'
import { loggedInAgent, newAgent, TEST_DID, TEST_HANDLE, TEST_PASSWORD, xrpc } from '../../helpers'

const secret = new TextEncoder().encode('test-jwt-secret-that-is-long-enough-0123456789')

async function login(identifier = TEST_HANDLE, password = TEST_PASSWORD, ip = '198.51.100.1') {
  return xrpc('com.atproto.server.createSession', { body: { identifier, password }, headers: { 'cf-connecting-ip': ip } })
}

async function forge(claims: Record<string, unknown>, opts: { exp?: number | null; aud?: string | string[]; key?: Uint8Array; typ?: string } = {}) {
  const now = Math.floor(Date.now() / 1000)
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: opts.typ ?? 'at+jwt' })
    .setSubject(TEST_DID)
    .setAudience(opts.aud ?? TEST_DID)
    .setIssuedAt(now - 10)
  if (opts.exp !== null) jwt.setExpirationTime(opts.exp ?? now + 600)
  return jwt.sign(opts.key ?? secret)
}

describe('createSession', () => {
  it('logs in by handle or DID and returns the session the lexicon describes', async () => {
    for (const identifier of [TEST_HANDLE, TEST_DID, TEST_HANDLE.toUpperCase()]) {
      const res = await login(identifier)
      expect(res.status).toBe(200)
      expect(res.json).toMatchObject({ did: TEST_DID, handle: TEST_HANDLE, active: true })
      expect(res.json.didDoc.id).toBe(TEST_DID)
      const [, payload] = res.json.accessJwt.split('.')
      const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')))
      expect(claims).toMatchObject({ scope: 'com.atproto.access', sub: TEST_DID, aud: TEST_DID })
      expect(claims.exp - claims.iat).toBeLessThanOrEqual(2 * 3600)
    }
  })

  it('refuses a wrong password or unknown identifier with 401 AuthenticationRequired', async () => {
    for (const [id, pw] of [[TEST_HANDLE, 'nope'], ['bob.test', TEST_PASSWORD]]) {
      const res = await login(id, pw, '198.51.100.2')
      expect(res.status).toBe(401)
      expect(res.json).toEqual({ error: 'AuthenticationRequired', message: 'Invalid identifier or password' })
    }
  })

  it('refuses a malformed body with 400 InvalidRequest', async () => {
    const res = await xrpc('com.atproto.server.createSession', { body: { identifier: TEST_HANDLE } })
    expect(res.status).toBe(400)
    expect(res.json.error).toBe('InvalidRequest')
    const notJson = await xrpc('com.atproto.server.createSession', { body: '{nope' })
    expect(notJson.status).toBe(400)
  })

  it('rate limits failed logins per IP, then lets a correct password in after the window', async () => {
    const ip = '203.0.113.9'
    for (let i = 0; i < MAX_FAILURES_PER_IP; i++) expect((await login(TEST_HANDLE, 'wrong', ip)).status).toBe(401)
    const limited = await login(TEST_HANDLE, TEST_PASSWORD, ip)
    expect(limited.status).toBe(429)
    expect(limited.json.error).toBe('RateLimitExceeded')
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    // Another client is unaffected.
    expect((await login(TEST_HANDLE, TEST_PASSWORD, '203.0.113.10')).status).toBe(200)
    // Move the window into the past, as time passing would.
    await env.DB.prepare('UPDATE login_attempt SET window_start = window_start - ?').bind(LOGIN_WINDOW_MS + 1).run()
    expect((await login(TEST_HANDLE, TEST_PASSWORD, ip)).status).toBe(200)
  })
})

describe('tokens', () => {
  it('getSession works with the access token; refresh rotates and the old refresh token is refused', async () => {
    const { json: session } = await login()
    const got = await xrpc('com.atproto.server.getSession', { token: session.accessJwt })
    expect(got.status).toBe(200)
    expect(got.json).toMatchObject({ did: TEST_DID, handle: TEST_HANDLE })

    const refreshed = await xrpc('com.atproto.server.refreshSession', { method: 'POST', token: session.refreshJwt })
    expect(refreshed.status).toBe(200)
    expect(refreshed.json.refreshJwt).not.toBe(session.refreshJwt)
    const reused = await xrpc('com.atproto.server.refreshSession', { method: 'POST', token: session.refreshJwt })
    expect(reused.status).toBe(400)
    expect(reused.json.error).toBe('InvalidToken')

    const out = await xrpc('com.atproto.server.deleteSession', { method: 'POST', token: refreshed.json.refreshJwt })
    expect(out.status).toBe(200)
    const afterLogout = await xrpc('com.atproto.server.refreshSession', { method: 'POST', token: refreshed.json.refreshJwt })
    expect(afterLogout.json.error).toBe('InvalidToken')
  })

  it('answers missing 401 AuthMissing, expired 400 ExpiredToken, and refuses every forged or misused token', async () => {
    expect((await xrpc('com.atproto.server.getSession')).json.error).toBe('AuthMissing')
    expect((await xrpc('com.atproto.server.getSession')).status).toBe(401)

    const now = Math.floor(Date.now() / 1000)
    const expired = await xrpc('com.atproto.server.getSession', { token: await forge({ scope: 'com.atproto.access' }, { exp: now - 5 }) })
    expect(expired.status).toBe(400)
    expect(expired.json.error).toBe('ExpiredToken')

    const { json: session } = await login()
    const none = `${btoa(JSON.stringify({ alg: 'none', typ: 'JWT' })).replace(/=/g, '')}.${session.accessJwt.split('.')[1]}.`
    const cases: Record<string, string> = {
      'alg none': none,
      'wrong secret': await forge({ scope: 'com.atproto.access' }, { key: new TextEncoder().encode('another-secret-of-sufficient-length-xx') }),
      'wrong audience': await forge({ scope: 'com.atproto.access' }, { aud: 'did:web:evil.test' }),
      // Correctly signed, but never valid here: we always mint `exp` and one audience.
      'no expiry': await forge({ scope: 'com.atproto.access' }, { exp: null }),
      'audience array containing us': await forge({ scope: 'com.atproto.access' }, { aud: [TEST_DID, 'did:web:evil.test'] }),
      'audience array of only us': await forge({ scope: 'com.atproto.access' }, { aud: [TEST_DID] }),
      'refresh as access': session.refreshJwt,
      garbage: 'not-a-jwt',
    }
    for (const [name, token] of Object.entries(cases)) {
      const res = await xrpc('com.atproto.server.getSession', { token })
      expect([name, res.status, res.json.error]).toEqual([name, 400, 'InvalidToken'])
    }
    const accessAsRefresh = await xrpc('com.atproto.server.refreshSession', { method: 'POST', token: session.accessJwt })
    expect(accessAsRefresh.json.error).toBe('InvalidToken')
    // The real refresh token still works: nothing was consumed by the refusals.
    expect((await xrpc('com.atproto.server.refreshSession', { method: 'POST', token: session.refreshJwt })).status).toBe(200)
  })
})

describe('AtpAgent session lifecycle', () => {
  it('logs in, recovers from an expired access token by refreshing, and logs out', async () => {
    const agent = await loggedInAgent()
    expect(agent.session?.did).toBe(TEST_DID)
    const first = await agent.com.atproto.server.getSession()
    expect(first.data.handle).toBe(TEST_HANDLE)

    // Force expiry: swap in an expired access token; the agent must refresh on ExpiredToken.
    const now = Math.floor(Date.now() / 1000)
    const oldRefresh = agent.session!.refreshJwt
    agent.sessionManager.session = { ...agent.session!, accessJwt: await forge({ scope: 'com.atproto.access' }, { exp: now - 1 }) }
    const again = await agent.com.atproto.server.getSession()
    expect(again.data.did).toBe(TEST_DID)
    expect(agent.session!.refreshJwt).not.toBe(oldRefresh)

    const lastRefresh = agent.session!.refreshJwt
    await agent.logout()
    const res = await xrpc('com.atproto.server.refreshSession', { method: 'POST', token: lastRefresh })
    expect(res.json.error).toBe('InvalidToken')
    expect(newAgent().session).toBeUndefined()
  })
})

describe('session housekeeping', () => {
  it('the cron deletes expired refresh tokens and keeps live ones', async () => {
    const live = await login()
    expect(live.status).toBe(200)
    await env.DB.prepare("INSERT INTO refresh_token (id, did, expires_at, created_at) VALUES ('expired-one', ?, ?, ?)").bind(TEST_DID, Date.now() - 1000, Date.now() - 90_000).run()
    const ctx = createExecutionContext()
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: '17 * * * *' }), env as unknown as Env, ctx)
    await waitOnExecutionContext(ctx)
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM refresh_token WHERE id = 'expired-one'").first('n')).toBe(0)
    expect((await xrpc('com.atproto.server.refreshSession', { method: 'POST', token: live.json.refreshJwt })).status).toBe(200)
  })
})
