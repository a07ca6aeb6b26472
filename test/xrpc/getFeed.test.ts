import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loggedInAgent, TEST_DID, xrpc } from '../helpers'
import { APPVIEW, FEED_URI, FEEDGEN, standInAppView, useNetwork, type Network } from '../standIns'

let net: Network
let appView: ReturnType<typeof standInAppView>

beforeEach(() => {
  appView = standInAppView()
  net = useNetwork({ [APPVIEW.url]: appView.handler })
})
afterEach(() => net.restore())

describe('app.bsky.feed.getFeed (custom feeds)', () => {
  it('signs for the feed generator: aud its DID from the feed record, lxm getFeedSkeleton, and the generator verifies it', async () => {
    const agent = await loggedInAgent()
    const { data } = await agent.app.bsky.feed.getFeed({ feed: FEED_URI })
    expect(data.feed).toHaveLength(1)
    // The generator saw who is asking: a personalised feed.
    expect(data.cursor).toBe(`for:${TEST_DID}`)
    const [skeleton] = appView.feedGenerator.calls
    expect(skeleton!.claims).toMatchObject({ iss: TEST_DID, aud: FEEDGEN.did, lxm: 'app.bsky.feed.getFeedSkeleton' })
    expect(appView.feedGenerator.refusals).toEqual([])
    // The generator's DID was read from the feed record, unauthenticated, as the reference PDS does.
    const lookup = appView.calls.find((c) => c.nsid === 'com.atproto.repo.getRecord')!
    expect(lookup.claims).toBeNull()
    expect(Object.fromEntries(lookup.query)).toEqual({ repo: 'did:plc:feedownerfeedownerfeedown', collection: 'app.bsky.feed.generator', rkey: 'for-alice' })
  })

  it('answers 400 UnknownFeed for a feed whose record does not exist, and asks nothing of any generator', async () => {
    const agent = await loggedInAgent()
    const res = await xrpc('app.bsky.feed.getFeed', { token: agent.session!.accessJwt, params: { feed: 'at://did:plc:nobodynobodynobodynobody/app.bsky.feed.generator/none' } })
    expect(res.status).toBe(400)
    expect(res.json.error).toBe('UnknownFeed')
    expect(appView.feedGenerator.calls).toEqual([])
  })

  it('passes a signed-out request on without a token', async () => {
    const res = await xrpc('app.bsky.feed.getFeed', { params: { feed: FEED_URI } })
    expect(res.status).toBe(200)
    expect(res.json.cursor).toBe('for:anonymous')
  })
})
