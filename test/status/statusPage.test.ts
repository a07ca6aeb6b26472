import { describe, expect, it } from 'vitest'
import { LOGIN_LIMIT } from '../../src/auth/loginRateLimit'
import { loggedInAgent, TEST_DID, TEST_HANDLE, TEST_PASSWORD, worker, xrpc } from '../helpers'

const ORIGIN = 'https://pds.test'
const cookiePair = (setCookie: string) => setCookie.split(';')[0]!

/** The page, and the CSRF cookie + token its form carries. */
async function openPage(cookie?: string) {
  const res = await worker.fetch(`${ORIGIN}/`, { headers: cookie ? { cookie } : {} })
  const html = await res.text()
  const token = html.match(/name="csrf" value="([0-9a-f]{32})"/)![1]!
  const set = res.headers.getSetCookie().find((c) => c.startsWith('__Host-pds-csrf='))
  return { res, html, token, csrfCookie: set ? cookiePair(set) : null }
}

function signIn(password: string, csrfCookie: string, token: string, ip = '203.0.113.7') {
  return worker.fetch(`${ORIGIN}/status/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: csrfCookie, origin: ORIGIN, 'sec-fetch-site': 'same-origin', 'cf-connecting-ip': ip, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf: token, password }),
  })
}

describe('the status page', () => {
  it('tells anyone who this is, with secure, host-only cookies and a strict CSP over https', async () => {
    const { res, html, csrfCookie } = await openPage()
    expect(res.status).toBe(200)
    expect(res.headers.get('content-security-policy')).toMatch(/^default-src 'none'; style-src 'nonce-[0-9a-f]{32}';/)
    expect(html).toContain(`@${TEST_HANDLE}`)
    expect(html).toContain(TEST_DID)
    expect(html).toContain(`https://bsky.app/profile/${TEST_HANDLE}`)
    expect(html).not.toContain('id="records"')
    expect(html).not.toMatch(/<script|src="http/)
    expect(res.headers.getSetCookie().find((c) => c.startsWith('__Host-pds-csrf='))).toMatch(/; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/)
    expect(csrfCookie).not.toBeNull()
  })

  it('shows the owner the repo after signing in, and counts status-page failures in the same login limit as createSession', async () => {
    const agent = await loggedInAgent()
    await agent.post({ text: 'a', createdAt: new Date().toISOString() })
    await agent.post({ text: 'b', createdAt: new Date().toISOString() })
    const { token, csrfCookie } = await openPage()

    const ok = await signIn(TEST_PASSWORD, csrfCookie!, token)
    expect(ok.status).toBe(303)
    const session = ok.headers.getSetCookie().find((c) => c.startsWith('__Host-pds-owner='))!
    expect(session).toMatch(/HttpOnly; SameSite=Strict; Max-Age=43200; Secure$/)
    const owner = await openPage(`${csrfCookie}; ${cookiePair(session)}`)
    expect(owner.res.headers.get('cache-control')).toBe('no-store')
    expect(owner.html).toMatch(/id="records">2</)
    expect(owner.html).toMatch(/id="seq">5</) // identity, account, sync, two commits
    expect(owner.html).toMatch(/id="actorhead">seq 5,/)

    for (let i = 0; i < LOGIN_LIMIT.burst; i++) expect((await signIn('wrong', csrfCookie!, token, '198.51.100.9')).status).toBe(401)
    // The right password is refused too now, from that address, and so is createSession.
    const limited = await signIn(TEST_PASSWORD, csrfCookie!, token, '198.51.100.9')
    expect(limited.status).toBe(429)
    expect(await limited.text()).toContain('Too many failed sign-ins')
    const viaXrpc = await xrpc('com.atproto.server.createSession', { body: { identifier: TEST_HANDLE, password: TEST_PASSWORD }, headers: { 'cf-connecting-ip': '198.51.100.9' } })
    expect(viaXrpc.status).toBe(429)
    // Another address is unaffected.
    expect((await signIn(TEST_PASSWORD, csrfCookie!, token, '192.0.2.1')).status).toBe(303)
  })

  it('gives the owner JSON only to the owner: not anonymously, not to an app password', async () => {
    const agent = await loggedInAgent()
    expect((await worker.fetch(`${ORIGIN}/status/inspect.json`)).status).toBe(401)
    const app = await xrpc('com.atproto.server.createAppPassword', { token: agent.session!.accessJwt, body: { name: 'inspect' } })
    const appSession = await xrpc('com.atproto.server.createSession', { body: { identifier: TEST_HANDLE, password: app.json.password } })
    expect((await worker.fetch(`${ORIGIN}/status/inspect.json`, { headers: { authorization: `Bearer ${appSession.json.accessJwt}` } })).status).toBe(401)
    const res = await worker.fetch(`${ORIGIN}/status/inspect.json`, { headers: { authorization: `Bearer ${agent.session!.accessJwt}` } })
    expect(res.status).toBe(200)
    const figures: any = await res.json()
    expect(figures.did).toBe(TEST_DID)
    expect(figures.d1.migrations.length).toBeGreaterThan(0)
    expect(figures.actor.subscribers).toEqual([])
    expect(figures.actor.committer.queueDepth).toBe(0)
  })
})
