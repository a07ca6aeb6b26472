import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { getDb } from '../../src/db/client'
import { claimJti, insertAuthRequest, insertSession, pruneExpiredOAuth } from '../../src/db/oauth'
import { oauthDpopJti, oauthRequest, oauthSession } from '../../src/db/schema'
import { TEST_DID, TEST_HANDLE, TEST_PASSWORD, worker } from '../helpers'
import { cookiesFrom, dpopXrpc, newDpopKey, ORIGIN, postForm, signIn } from './client'

async function openApps(cookie = '') {
  const res = await worker.fetch(`${ORIGIN}/oauth/apps`, { headers: cookie ? { cookie } : {} })
  const html = await res.text()
  return { res, html, csrf: /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '', cookie: [cookie, cookiesFrom(res.headers)].filter(Boolean).join('; ') }
}

describe('the owner’s authorised apps page', () => {
  it('signs in with the owner password, lists the app with its scopes, and revoking stops its tokens at once', async () => {
    const key = await newDpopKey()
    const tokens = await signIn(key)
    expect((await dpopXrpc(key, tokens.access_token, 'com.atproto.server.getSession')).status).toBe(200)

    const anon = await openApps()
    expect(anon.html).toContain('Sign in to manage your apps')
    const wrong = await postForm('/oauth/apps', { csrf: anon.csrf, action: 'sign-in', identifier: TEST_HANDLE, password: 'nope' }, { cookie: anon.cookie })
    expect(wrong.status).toBe(401)
    const signedIn = await postForm('/oauth/apps', { csrf: anon.csrf, action: 'sign-in', identifier: TEST_HANDLE, password: TEST_PASSWORD }, { cookie: anon.cookie })
    expect(signedIn.status).toBe(303)
    const cookie = [anon.cookie, cookiesFrom(signedIn.headers)].join('; ')

    const list = await openApps(cookie)
    expect(list.html).toContain('A local development app')
    expect(list.html).toContain('Read and write everything in your repository')

    // Without the page's CSRF token, nothing is revoked.
    const forged = await postForm('/oauth/apps', { csrf: 'forged-value-1234567890', action: 'revoke', client_id: tokens.clientId }, { cookie })
    expect(forged.status).toBe(403)
    expect((await dpopXrpc(key, tokens.access_token, 'com.atproto.server.getSession')).status).toBe(200)

    const revoked = await postForm('/oauth/apps', { csrf: list.csrf, action: 'revoke', client_id: tokens.clientId }, { cookie })
    expect(revoked.status).toBe(303)
    const after = await dpopXrpc(key, tokens.access_token, 'com.atproto.server.getSession')
    expect(after.status).toBe(401)
    expect(after.headers.get('www-authenticate')).toContain('invalid_token')
    expect((await openApps(cookie)).html).toContain('No app is authorised')
  })
})

describe('pruning expired OAuth state (cron)', () => {
  it('drops expired requests, sessions and DPoP jtis and keeps live ones', async () => {
    const db = getDb(env.DB)
    const now = Date.now()
    const request = (id: string, expiresAt: number) => ({ id, clientId: 'c', clientAuth: '{}', parameters: '{}', expiresAt, createdAt: now })
    await insertAuthRequest(db, request('old-req', now - 1))
    await insertAuthRequest(db, request('live-req', now + 60_000))
    const session = (id: string, expiresAt: number) => ({ id, did: TEST_DID, clientId: 'c', clientAuth: '{}', scope: 'atproto', dpopJkt: 'j', refreshHash: 'h', createdAt: now, updatedAt: now, expiresAt })
    await insertSession(db, session('old-sess', now - 1))
    await insertSession(db, session('live-sess', now + 60_000))
    await claimJti(db, 'old-jti-value', now - 1)
    await claimJti(db, 'live-jti-value', now + 60_000)

    await pruneExpiredOAuth(db, now)
    const ids = async (table: typeof oauthRequest | typeof oauthSession) => (await db.select({ id: table.id }).from(table).all()).map((r) => r.id)
    expect(await ids(oauthRequest)).toContain('live-req')
    expect(await ids(oauthRequest)).not.toContain('old-req')
    expect(await ids(oauthSession)).toContain('live-sess')
    expect(await ids(oauthSession)).not.toContain('old-sess')
    const jtis = (await db.select().from(oauthDpopJti).all()).map((r) => r.jti)
    expect(jtis).toContain('live-jti-value')
    expect(jtis).not.toContain('old-jti-value')
  })
})
