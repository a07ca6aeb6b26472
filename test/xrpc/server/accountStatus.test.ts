import { readCarWithRoot, verifyCommitSig, cborToLex, type Commit } from '@atproto/repo'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { didKeyFromDidDoc, FirehoseClient } from '../../firehose/consumer'
import { CommitVerifier } from '../../firehose/verifier'
import { loggedInAgent, TEST_DID, xrpc } from '../../helpers'

const post = (text: string) => ({ repo: TEST_DID, collection: 'app.bsky.feed.post', record: { text, createdAt: new Date().toISOString() } })

describe('deactivating and reactivating the account', () => {
  it('stops writes and sync reads, tells relays, and resumes with a verifiable chain', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    await agent.post({ text: 'before', createdAt: new Date().toISOString() })
    const sub = await FirehoseClient.connect(0)
    await sub.until((f) => f.some((x) => x.header.t === '#commit'))
    const head = (await agent.com.atproto.sync.getLatestCommit({ did: TEST_DID })).data

    expect((await xrpc('com.atproto.server.deactivateAccount', { token, body: {} })).status).toBe(200)
    expect((await xrpc('com.atproto.server.getSession', { token })).json).toMatchObject({ active: false, status: 'deactivated' })
    const refused = await xrpc('com.atproto.repo.createRecord', { token, body: post('while away') })
    expect([refused.status, refused.json.error]).toEqual([401, 'AccountDeactivated'])
    const repo = await xrpc('com.atproto.sync.getRepo', { params: { did: TEST_DID } })
    expect([repo.status, repo.json.error]).toEqual([400, 'RepoDeactivated'])
    expect((await xrpc('com.atproto.sync.getRepoStatus', { params: { did: TEST_DID } })).json).toEqual({ did: TEST_DID, active: false, status: 'deactivated' })
    expect((await env.DB.prepare('SELECT cid FROM repo_root').first<{ cid: string }>())!.cid).toBe(head.cid)

    expect((await xrpc('com.atproto.server.activateAccount', { token, method: 'POST' })).status).toBe(200)
    const after = await xrpc('com.atproto.repo.createRecord', { token, body: post('back') })
    expect(after.status, after.text).toBe(200)

    await sub.until((f) => f.filter((x) => x.header.t === '#commit').length >= 2)
    const tail = sub.frames.slice(sub.frames.findIndex((f) => f.header.t === '#commit') + 1)
    expect(tail.map((f) => f.header.t)).toEqual(['#account', '#identity', '#account', '#sync', '#commit'])
    expect(tail[0]!.body).toMatchObject({ did: TEST_DID, active: false, status: 'deactivated' })
    expect(tail[1]!.body).toMatchObject({ did: TEST_DID, handle: 'alice.test' })
    tail.splice(1, 1)
    expect(tail[1]!.body).toMatchObject({ did: TEST_DID, active: true })
    expect(tail[1]!.body.status).toBeUndefined()
    // The #sync carries the signed head as it was; the next commit chains onto it.
    const didKey = await didKeyFromDidDoc()
    const { root, blocks } = await readCarWithRoot(tail[2]!.body.blocks)
    expect(root.toString()).toBe(head.cid)
    expect(await verifyCommitSig(cborToLex(blocks.get(root)!) as unknown as Commit, didKey)).toBe(true)
    expect(tail[2]!.body.rev).toBe(head.rev)
    expect(tail[3]!.body.since).toBe(head.rev)
    const verifier = new CommitVerifier(didKey)
    for (const f of sub.frames) await verifier.frame(f)
    expect(verifier.verified).toBe(2)
    expect(sub.seqs()).toEqual(sub.seqs().map((_, i) => i + 1))
    sub.close()
  })

  it('activating an active account (or deactivating a deactivated one) changes nothing and announces nothing', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    await agent.post({ text: 'x', createdAt: new Date().toISOString() })
    const events = async () => (await env.DB.prepare('SELECT seq, type FROM repo_event ORDER BY seq').all<{ seq: number; type: string }>()).results
    const before = await events()
    for (let i = 0; i < 3; i++) expect((await xrpc('com.atproto.server.activateAccount', { token, method: 'POST' })).status).toBe(200)
    expect(await events()).toEqual(before)

    expect((await xrpc('com.atproto.server.deactivateAccount', { token, body: {} })).status).toBe(200)
    const deactivated = await events()
    expect(deactivated.slice(before.length).map((e) => e.type)).toEqual(['account'])
    expect((await xrpc('com.atproto.server.deactivateAccount', { token, body: {} })).status).toBe(200)
    expect(await events()).toEqual(deactivated)
    expect((await xrpc('com.atproto.server.activateAccount', { token, method: 'POST' })).status).toBe(200)
    expect((await events()).slice(deactivated.length).map((e) => e.type)).toEqual(['identity', 'account', 'sync'])
  })

  it('is the owner’s decision only: an app-password session cannot deactivate', async () => {
    const agent = await loggedInAgent()
    const { data } = await agent.com.atproto.server.createAppPassword({ name: 'phone' })
    const app = await xrpc('com.atproto.server.createSession', { body: { identifier: 'alice.test', password: data.password } })
    const res = await xrpc('com.atproto.server.deactivateAccount', { token: app.json.accessJwt, body: {} })
    expect([res.status, res.json.error]).toEqual([400, 'InvalidToken'])
    expect((await xrpc('com.atproto.server.getSession', { token: agent.session!.accessJwt })).json.active).toBe(true)
  })
})
