import { env } from 'cloudflare:workers'
import { CID } from 'multiformats/cid'
import { describe, expect, it } from 'vitest'
import { loggedInAgent, TEST_HANDLE, TEST_PASSWORD, xrpc } from '../../helpers'

async function owner(): Promise<string> {
  return (await xrpc('com.atproto.server.createSession', { body: { identifier: TEST_HANDLE, password: TEST_PASSWORD } })).json.accessJwt
}

describe('checkAccountStatus', () => {
  it('reports the repo head and what D1 holds, following writes and blob uploads', async () => {
    const agent = await loggedInAgent()
    const first = (await agent.com.atproto.server.checkAccountStatus()).data
    expect(first).toMatchObject({ activated: true, validDid: true, indexedRecords: 0, privateStateValues: 0, expectedBlobs: 0, importedBlobs: 0 })
    expect(CID.parse(first.repoCommit).version).toBe(1)
    const head = await env.DB.prepare('SELECT cid, rev FROM repo_root').first<{ cid: string; rev: string }>()
    expect(head).toEqual({ cid: first.repoCommit, rev: first.repoRev })
    const blocks = await env.DB.prepare('SELECT count(*) AS n FROM repo_block').first<number>('n')
    expect(first.repoBlocks).toBe(blocks)

    const image = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4])
    const uploaded = await agent.uploadBlob(image, { encoding: 'image/png' })
    const afterUpload = (await agent.com.atproto.server.checkAccountStatus()).data
    expect([afterUpload.importedBlobs, afterUpload.expectedBlobs]).toEqual([1, 0])

    await agent.post({
      text: 'with a picture',
      embed: { $type: 'app.bsky.embed.images', images: [{ alt: 'dots', image: uploaded.data.blob }] },
      createdAt: new Date().toISOString(),
    })
    const after = (await agent.com.atproto.server.checkAccountStatus()).data
    expect(after).toMatchObject({ indexedRecords: 1, expectedBlobs: 1, importedBlobs: 1 })
    expect(after.repoCommit).not.toBe(first.repoCommit)
    expect(after.repoRev > first.repoRev).toBe(true)
    expect(after.repoBlocks).toBeGreaterThan(first.repoBlocks)
  })

  it('requires a session', async () => {
    const res = await xrpc('com.atproto.server.checkAccountStatus')
    expect([res.status, res.json.error]).toEqual([401, 'AuthMissing'])
  })
})

describe('invites and email on a single-user server', () => {
  it('has no invite codes to give', async () => {
    const res = await xrpc('com.atproto.server.getAccountInviteCodes', { token: await owner() })
    expect(res.status).toBe(200)
    expect(res.json).toEqual({ codes: [] })
  })

  it('reports no email at first, then the address the owner sets, confirmed, with no sign-in codes by email', async () => {
    const token = await owner()
    const before = (await xrpc('com.atproto.server.getSession', { token })).json
    expect(before).toMatchObject({ emailConfirmed: false, emailAuthFactor: false })
    expect(before.email).toBeUndefined()
    // Without an address there is nothing to confirm (the reference PDS's answer).
    const noEmail = await xrpc('com.atproto.server.requestEmailConfirmation', { token, method: 'POST' })
    expect(noEmail.json).toEqual({ error: 'InvalidRequest', message: 'account does not have an email address' })

    // The app's "change email" flow: no code needed, the owner password session is the proof.
    expect((await xrpc('com.atproto.server.requestEmailUpdate', { token, method: 'POST' })).json).toEqual({ tokenRequired: false })
    expect((await xrpc('com.atproto.server.updateEmail', { token, body: { email: 'alice@example.com' } })).status).toBe(200)
    const after = (await xrpc('com.atproto.server.getSession', { token })).json
    expect(after).toMatchObject({ email: 'alice@example.com', emailConfirmed: true, emailAuthFactor: false })
    // createSession says the same, so the app stops asking to verify.
    const login = (await xrpc('com.atproto.server.createSession', { body: { identifier: TEST_HANDLE, password: TEST_PASSWORD } })).json
    expect(login).toMatchObject({ email: 'alice@example.com', emailConfirmed: true, emailAuthFactor: false })

    // Confirmation has nothing left to do: fine for that address, refused for another.
    expect((await xrpc('com.atproto.server.requestEmailConfirmation', { token, method: 'POST' })).status).toBe(200)
    expect((await xrpc('com.atproto.server.confirmEmail', { token, body: { email: 'Alice@example.com', token: 'ABCDE-12345' } })).status).toBe(200)
    expect((await xrpc('com.atproto.server.confirmEmail', { token, body: { email: 'bob@example.com', token: 'ABCDE-12345' } })).json.error).toBe('InvalidEmail')

    // Bad input changes nothing: a malformed address, or sign-in codes that could never be mailed.
    for (const body of [{ email: 'not an email' }, { email: 'alice2@example.com', emailAuthFactor: true }]) {
      const res = await xrpc('com.atproto.server.updateEmail', { token, body })
      expect(res.status).toBe(400)
    }
    expect((await xrpc('com.atproto.server.getSession', { token })).json.email).toBe('alice@example.com')
  })

  it('keeps email calls to the owner: app-password sessions and anonymous callers are refused', async () => {
    const token = await owner()
    const created = await xrpc('com.atproto.server.createAppPassword', { token, body: { name: 'email-probe', privileged: true } })
    const app = (await xrpc('com.atproto.server.createSession', { body: { identifier: TEST_HANDLE, password: created.json.password } })).json.accessJwt
    const res = await xrpc('com.atproto.server.requestEmailUpdate', { token: app, method: 'POST' })
    expect(res.json).toEqual({ error: 'InvalidToken', message: 'Bad token scope' })
    expect((await xrpc('com.atproto.server.requestEmailUpdate', { method: 'POST' })).status).toBe(401)
  })
})
