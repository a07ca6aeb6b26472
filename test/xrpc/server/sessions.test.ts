import { SignJWT } from 'jose'
import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import worker from '../../../src/index'
import type { Env } from '../../../src/env'
import { describe, expect, it, vi } from 'vitest'
import { LOGIN_LIMIT } from '../../../src/auth/loginRateLimit'
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

  it('limits failed logins per IP: after the burst, one attempt per interval, and a correct password gets in on that slow path', async () => {
    const ip = '203.0.113.9'
    for (let i = 0; i < LOGIN_LIMIT.burst; i++) expect((await login(TEST_HANDLE, 'wrong', ip)).status).toBe(401)
    const limited = await login(TEST_HANDLE, TEST_PASSWORD, ip)
    expect(limited.status).toBe(429)
    expect(limited.json.error).toBe('RateLimitExceeded')
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(LOGIN_LIMIT.intervalMs / 1000)
    // Another client is unaffected.
    expect((await login(TEST_HANDLE, TEST_PASSWORD, '203.0.113.10')).status).toBe(200)
    // One interval passes, as time would: one attempt, and the right password takes it.
    await passTime(LOGIN_LIMIT.intervalMs)
    expect((await login(TEST_HANDLE, TEST_PASSWORD, ip)).status).toBe(200)
    // A success costs nothing: the attempt it reserved is there again, and only that one.
    expect((await login(TEST_HANDLE, 'wrong', ip)).status).toBe(401)
    expect((await login(TEST_HANDLE, TEST_PASSWORD, ip)).status).toBe(429)
  })

  it('has no global lockout: failures from many addresses never lock the owner out', async () => {
    for (let i = 0; i < 150; i++) expect((await login(TEST_HANDLE, 'wrong', `192.0.2.${i}`)).status).toBe(401)
    expect((await login(TEST_HANDLE, TEST_PASSWORD, '198.51.100.200')).status).toBe(200)
  })

  it('checks at most the limit when many wrong passwords from one address arrive at once', async () => {
    const results = await Promise.all(Array.from({ length: 60 }, () => login(TEST_HANDLE, 'wrong', '203.0.113.60')))
    const statuses = results.map((r) => r.status)
    expect(statuses.filter((s) => s === 401)).toHaveLength(LOGIN_LIMIT.burst)
    expect(statuses.filter((s) => s === 429)).toHaveLength(60 - LOGIN_LIMIT.burst)
  })

  it('counts IPv6 per /64 and trusts only CF-Connecting-IP, never X-Forwarded-For', async () => {
    const net = ['2001:db8:7:7::1', '2001:DB8:7:7:ffff:ffff:ffff:ffff', '2001:0db8:0007:0007:1::2']
    for (let i = 0; i < LOGIN_LIMIT.burst; i++) expect((await login(TEST_HANDLE, 'wrong', net[i % net.length])).status).toBe(401)
    expect((await login(TEST_HANDLE, TEST_PASSWORD, '2001:db8:7:7::beef')).status).toBe(429)
    expect((await login(TEST_HANDLE, TEST_PASSWORD, '2001:db8:7:8::1')).status).toBe(200)

    // A client-supplied X-Forwarded-For is no new source, with or without CF-Connecting-IP.
    const spoofed = (xff: string, cf?: string) =>
      xrpc('com.atproto.server.createSession', { body: { identifier: TEST_HANDLE, password: 'wrong' }, headers: { 'x-forwarded-for': xff, ...(cf ? { 'cf-connecting-ip': cf } : {}) } })
    for (const cf of ['203.0.113.77', undefined]) {
      const statuses = []
      for (let i = 0; i < LOGIN_LIMIT.burst + 5; i++) statuses.push((await spoofed(`10.9.${i}.1`, cf)).status)
      expect(statuses.slice(LOGIN_LIMIT.burst)).toEqual(Array(5).fill(429))
    }
    await env.DB.prepare("DELETE FROM login_limit WHERE key = 'unknown'").run()
  })

  it('costs a failed login no slow hash, however many app passwords exist; a success costs at most one', async () => {
    const owner = (await login()).json.accessJwt
    const passwords: string[] = []
    for (let i = 0; i < 5; i++) passwords.push((await xrpc('com.atproto.server.createAppPassword', { token: owner, body: { name: `device ${i}` } })).json.password)
    const deriveBits = vi.spyOn(crypto.subtle, 'deriveBits')
    try {
      expect((await login(TEST_HANDLE, 'abcd-efgh-ijkl-mnop', '198.51.100.31')).status).toBe(401)
      expect((await login(TEST_HANDLE, 'not an app password', '198.51.100.31')).status).toBe(401)
      expect(deriveBits).not.toHaveBeenCalled()
      expect((await login(TEST_HANDLE, passwords[4], '198.51.100.31')).status).toBe(200)
      expect(deriveBits.mock.calls.length).toBeLessThanOrEqual(1)
    } finally {
      deriveBits.mockRestore()
    }
  })
})

/** Time passing for the login limit: every source's schedule moves into the past. */
async function passTime(ms: number) {
  await env.DB.prepare('UPDATE login_limit SET tat = tat - ?').bind(ms).run()
}

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
