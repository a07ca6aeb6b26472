import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loggedInAgent, TEST_DID, xrpc } from '../helpers'
import { APPVIEW, BOB, standInAppView, useNetwork, type Network } from '../standIns'

let net: Network
let appView: ReturnType<typeof standInAppView>

beforeEach(async () => {
  appView = standInAppView()
  net = useNetwork({ [APPVIEW.url]: appView.handler })
})
afterEach(() => net.restore())

async function session() {
  const agent = await loggedInAgent()
  // Something indexed, as on any account that has posted before: the AppView's rev is a real one of ours.
  await agent.post({ text: 'an old post', createdAt: '2026-01-01T00:00:00.000Z' })
  await appView.catchUp()
  return agent
}

describe('read-after-write with an AppView that lags', () => {
  it('getAuthorFeed shows a post made a moment ago, newest first, with the lag header', async () => {
    const agent = await session()
    const fresh = await agent.post({ text: 'just now' })
    const res = await xrpc('app.bsky.feed.getAuthorFeed', { token: agent.session!.accessJwt, params: { actor: TEST_DID } })
    expect(res.status).toBe(200)
    expect(res.json.feed.map((i: any) => i.post.record.text)).toEqual(['just now', 'an old post'])
    expect(res.json.feed[0].post).toMatchObject({ uri: fresh.uri, cid: fresh.cid, author: { did: TEST_DID, handle: 'alice.test' }, likeCount: 0, replyCount: 0 })
    expect(Number(res.headers.get('atproto-upstream-lag'))).toBeGreaterThanOrEqual(0)

    // Once the AppView has caught up, its answer comes through as it is: no duplicate, no lag header.
    await appView.catchUp()
    const after = await xrpc('app.bsky.feed.getAuthorFeed', { token: agent.session!.accessJwt, params: { actor: TEST_DID } })
    expect(after.json.feed.map((i: any) => i.post.uri).filter((u: string) => u === fresh.uri)).toHaveLength(1)
    expect(after.headers.get('atproto-upstream-lag')).toBeNull()
  })

  it('leaves another account\'s author feed alone', async () => {
    const agent = await session()
    await agent.post({ text: 'mine' })
    const res = await xrpc('app.bsky.feed.getAuthorFeed', { token: agent.session!.accessJwt, params: { actor: BOB.did } })
    expect(res.json.feed.map((i: any) => i.post.author.did)).toEqual([BOB.did])
  })

  it('getTimeline puts the new post on top', async () => {
    const agent = await session()
    await agent.post({ text: 'timeline news' })
    const { data } = await agent.getTimeline()
    expect(data.feed[0]!.post.record).toMatchObject({ text: 'timeline news' })
    // Once, and everything the AppView answered is still there after it.
    expect(data.feed.filter((i) => (i.post.record as any).text === 'timeline news')).toHaveLength(1)
    expect(data.feed.at(-1)!.post.author.did).toBe(BOB.did)
  })

  it('getPostThread of a post the AppView has not seen builds it here, with the parent the AppView knows', async () => {
    const agent = await session()
    const bobs = (await agent.getAuthorFeed({ actor: BOB.did })).data.feed[0]!.post
    const reply = await agent.post({ text: 'replying to bob', reply: { root: { uri: bobs.uri, cid: bobs.cid }, parent: { uri: bobs.uri, cid: bobs.cid } } })
    const { data } = await agent.getPostThread({ uri: reply.uri })
    const thread = data.thread as any
    expect(thread.post).toMatchObject({ uri: reply.uri, record: { text: 'replying to bob' } })
    expect(thread.parent.post.uri).toBe(bobs.uri)

    // Bob's thread, which the AppView does know, gains the reply.
    const bobsThread = (await agent.getPostThread({ uri: bobs.uri })).data.thread as any
    expect(bobsThread.replies.map((r: any) => r.post.uri)).toEqual([reply.uri])
  })

  it('a reply to our own new post appears under it, and by handle too', async () => {
    const agent = await session()
    const root = await agent.post({ text: 'thread start' })
    const ref = { uri: root.uri, cid: root.cid }
    const reply = await agent.post({ text: 'and more', reply: { root: ref, parent: ref } })
    const byHandle = root.uri.replace(TEST_DID, 'alice.test')
    const thread = (await agent.getPostThread({ uri: byHandle })).data.thread as any
    expect(thread.post.uri).toBe(root.uri)
    expect(thread.replies.map((r: any) => r.post.uri)).toEqual([reply.uri])
  })

  it('a post that is not ours, or not there, is still NotFound', async () => {
    const agent = await session()
    await agent.post({ text: 'something new' })
    const res = await xrpc('app.bsky.feed.getPostThread', { token: agent.session!.accessJwt, params: { uri: `at://${TEST_DID}/app.bsky.feed.post/3kzzzzzzzzzzz` } })
    expect(res.status).toBe(400)
    expect(res.json.error).toBe('NotFound')
  })

  it('getProfile and getProfiles show a profile edited a moment ago', async () => {
    const agent = await session()
    await agent.upsertProfile(() => ({ displayName: 'Alice, renamed', description: 'new bio' }))
    const profile = await agent.getProfile({ actor: TEST_DID })
    expect(profile.data).toMatchObject({ did: TEST_DID, displayName: 'Alice, renamed', description: 'new bio' })
    const profiles = await agent.getProfiles({ actors: [TEST_DID, BOB.did] })
    expect(profiles.data.profiles.map((p) => p.displayName)).toEqual(['Alice, renamed', undefined])
    // Bob's profile is Bob's.
    expect((await agent.getProfile({ actor: BOB.did })).data.displayName).toBeUndefined()
  })

  it('passes the AppView\'s answer through untouched when nothing newer was written or the answer is not valid', async () => {
    const agent = await session()
    const res = await xrpc('app.bsky.feed.getTimeline', { token: agent.session!.accessJwt })
    expect(res.headers.get('atproto-upstream-lag')).toBeNull()
    expect(res.headers.get('atproto-repo-rev')).toBe(appView.rev)

    await agent.post({ text: 'new' })
    net.route(APPVIEW.url, () => new Response(JSON.stringify({ feed: 'not a list' }), { headers: { 'content-type': 'application/json', 'atproto-repo-rev': appView.rev! } }))
    const invalid = await xrpc('app.bsky.feed.getTimeline', { token: agent.session!.accessJwt })
    expect(invalid.status).toBe(200)
    expect(invalid.json).toEqual({ feed: 'not a list' })
  })
})
