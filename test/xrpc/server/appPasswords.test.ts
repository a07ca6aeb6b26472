import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { newAgent, TEST_DID, TEST_HANDLE, TEST_PASSWORD, xrpc } from '../../helpers'

async function ownerToken(): Promise<string> {
  return (await xrpc('com.atproto.server.createSession', { body: { identifier: TEST_HANDLE, password: TEST_PASSWORD } })).json.accessJwt
}

const claims = (jwt: string) => JSON.parse(atob(jwt.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')))
const countRows = async (sql: string, ...args: unknown[]) => (await env.DB.prepare(sql).bind(...args).first<{ n: number }>('n')) as unknown as number

describe('app passwords', () => {
  it('creates a password shown once, stores only its hash, and logs in with the matching scope', async () => {
    const owner = await ownerToken()
    const plain = await xrpc('com.atproto.server.createAppPassword', { token: owner, body: { name: 'Graysky' } })
    expect(plain.status).toBe(200)
    expect(plain.json).toMatchObject({ name: 'Graysky', privileged: false })
    expect(plain.json.password).toMatch(/^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/)
    expect(Date.parse(plain.json.createdAt)).toBeGreaterThan(Date.now() - 60_000)
    const stored = await env.DB.prepare('SELECT password_hash FROM app_password WHERE name = ?').bind('Graysky').first<string>('password_hash')
    expect(stored).toMatch(/^sha256\$[0-9a-f]{64}$/)
    expect(stored).not.toContain(plain.json.password)

    const privileged = await xrpc('com.atproto.server.createAppPassword', { token: owner, body: { name: 'Skeets DMs', privileged: true } })
    expect(privileged.json.privileged).toBe(true)

    for (const [created, scope] of [
      [plain.json, 'com.atproto.appPass'],
      [privileged.json, 'com.atproto.appPassPrivileged'],
    ] as const) {
      const agent = newAgent()
      await agent.login({ identifier: TEST_HANDLE, password: created.password })
      expect(agent.session!.did).toBe(TEST_DID)
      expect(claims(agent.session!.accessJwt).scope).toBe(scope)
      // Refreshing keeps the app password's scope.
      await agent.sessionManager.refreshSession()
      expect(claims(agent.session!.accessJwt).scope).toBe(scope)
    }

    const list = await xrpc('com.atproto.server.listAppPasswords', { token: owner })
    expect(list.status).toBe(200)
    expect(list.json.passwords.map((p: any) => [p.name, p.privileged])).toEqual([
      ['Skeets DMs', true],
      ['Graysky', false],
    ])
    expect(JSON.stringify(list.json)).not.toContain(plain.json.password)
  })

  it('still logs in with an app password stored in the older PBKDF2 form, and rehashes it on that login', async () => {
    const password = 'abcd-efgh-ijkl-mnop'
    const salt = crypto.getRandomValues(new Uint8Array(16))
    const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(password), 'PBKDF2', false, ['deriveBits'])
    const hash = new Uint8Array(await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations: 1000 }, key, 256))
    const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes))
    await env.DB.prepare('INSERT INTO app_password (did, name, password_hash, privileged, created_at) VALUES (?, ?, ?, 0, ?)')
      .bind(TEST_DID, 'Old phone', `pbkdf2$1000$${b64(salt)}$${b64(hash)}`, Date.now())
      .run()
    const login = () => xrpc('com.atproto.server.createSession', { body: { identifier: TEST_HANDLE, password } })
    expect((await xrpc('com.atproto.server.createSession', { body: { identifier: TEST_HANDLE, password: 'abcd-efgh-ijkl-mnoq' } })).status).toBe(401)
    const first = await login()
    expect(first.status).toBe(200)
    expect(claims(first.json.accessJwt).scope).toBe('com.atproto.appPass')
    expect(await env.DB.prepare('SELECT password_hash FROM app_password WHERE name = ?').bind('Old phone').first<string>('password_hash')).toMatch(/^sha256\$/)
    expect((await login()).status).toBe(200)
  })

  it('refuses empty or duplicate names with 400 and creates nothing', async () => {
    const owner = await ownerToken()
    await xrpc('com.atproto.server.createAppPassword', { token: owner, body: { name: 'Dupe' } })
    const before = await countRows('SELECT count(*) AS n FROM app_password')
    for (const [body, message] of [
      [{ name: 'Dupe', privileged: true }, 'An app password named "Dupe" already exists'],
      [{ name: '   ' }, 'App password name must not be empty'],
      [{ name: 'x'.repeat(101) }, 'App password name must be at most 100 characters'],
    ] as const) {
      const res = await xrpc('com.atproto.server.createAppPassword', { token: owner, body })
      expect(res.status).toBe(400)
      expect(res.json).toEqual({ error: 'InvalidRequest', message })
    }
    const missing = await xrpc('com.atproto.server.createAppPassword', { token: owner, body: {} })
    expect([missing.status, missing.json.error]).toEqual([400, 'InvalidRequest'])
    expect(await countRows('SELECT count(*) AS n FROM app_password')).toBe(before)
  })

  it('does not let an app-password session manage app passwords, privileged or not', async () => {
    const owner = await ownerToken()
    const created = await xrpc('com.atproto.server.createAppPassword', { token: owner, body: { name: 'Manager attempt', privileged: true } })
    const appSession = (await xrpc('com.atproto.server.createSession', { body: { identifier: TEST_HANDLE, password: created.json.password } })).json
    const before = await countRows('SELECT count(*) AS n FROM app_password')

    const attempts = [
      xrpc('com.atproto.server.createAppPassword', { token: appSession.accessJwt, body: { name: 'Sneaky' } }),
      xrpc('com.atproto.server.listAppPasswords', { token: appSession.accessJwt }),
      xrpc('com.atproto.server.revokeAppPassword', { token: appSession.accessJwt, body: { name: 'Manager attempt' } }),
    ]
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(400)
      expect(res.json).toEqual({ error: 'InvalidToken', message: 'Bad token scope' })
    }
    expect(await countRows('SELECT count(*) AS n FROM app_password')).toBe(before)
    expect((await xrpc('com.atproto.server.createAppPassword', { body: { name: 'Anon' } })).status).toBe(401)
  })

  it('revoking ends every session of that app password and no other', async () => {
    const owner = await ownerToken()
    const doomed = await xrpc('com.atproto.server.createAppPassword', { token: owner, body: { name: 'Lost phone' } })
    const kept = await xrpc('com.atproto.server.createAppPassword', { token: owner, body: { name: 'Laptop' } })
    const login = async (password: string) => (await xrpc('com.atproto.server.createSession', { body: { identifier: TEST_HANDLE, password } })).json
    const [a, b, c] = [await login(doomed.json.password), await login(doomed.json.password), await login(kept.json.password)]
    expect(await countRows('SELECT count(*) AS n FROM refresh_token WHERE app_password_name = ?', 'Lost phone')).toBe(2)

    const revoked = await xrpc('com.atproto.server.revokeAppPassword', { token: owner, body: { name: 'Lost phone' } })
    expect(revoked.status).toBe(200)
    expect(await countRows('SELECT count(*) AS n FROM refresh_token WHERE app_password_name = ?', 'Lost phone')).toBe(0)

    for (const session of [a, b]) {
      const refresh = await xrpc('com.atproto.server.refreshSession', { method: 'POST', token: session.refreshJwt })
      expect([refresh.status, refresh.json.error]).toEqual([400, 'InvalidToken'])
    }
    const relogin = await xrpc('com.atproto.server.createSession', { body: { identifier: TEST_HANDLE, password: doomed.json.password }, headers: { 'cf-connecting-ip': '198.51.100.77' } })
    expect(relogin.status).toBe(401)
    // The other app password and the owner's session are untouched.
    expect((await xrpc('com.atproto.server.refreshSession', { method: 'POST', token: c.refreshJwt })).status).toBe(200)
    expect((await xrpc('com.atproto.server.listAppPasswords', { token: owner })).json.passwords.map((p: any) => p.name)).not.toContain('Lost phone')

    // Revoking a name that does not exist is a no-op, as in the reference PDS.
    expect((await xrpc('com.atproto.server.revokeAppPassword', { token: owner, body: { name: 'Never existed' } })).status).toBe(200)
  })
})
