/**
 * The Bluesky app's own call sequence, scripted with AtpAgent: log in, upload
 * a video through the video service with a service token, read a custom feed,
 * post (with an image) and see the post right away although the AppView has
 * not indexed it. Every service on the way verifies the tokens it gets
 * against our DID document (test/standIns.ts).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { PNG } from './blobs/fixtures'
import { newAgent, TEST_DID, TEST_HANDLE, TEST_PASSWORD } from './helpers'
import { APPVIEW, FEED_URI, FEEDGEN, standInAppView, standInVideoService, useNetwork, VIDEO, type Network } from './standIns'

const MP4 = new Uint8Array([0, 0, 0, 0x18, ...new TextEncoder().encode('ftypisom'), 0, 0, 2, 0, ...new TextEncoder().encode('isomiso2'), ...crypto.getRandomValues(new Uint8Array(2048))])

let net: Network
let appView: ReturnType<typeof standInAppView>
let video: ReturnType<typeof standInVideoService>

beforeEach(() => {
  appView = standInAppView()
  video = standInVideoService()
  net = useNetwork({ [APPVIEW.url]: appView.handler, [VIDEO.url]: video.handler })
})
afterEach(() => net.restore())

describe('a scripted app session', () => {
  it('uploads a video, reads a custom feed, and sees its own posts right away', async () => {
    const agent = newAgent()
    const server = await agent.com.atproto.server.describeServer()
    await agent.login({ identifier: TEST_HANDLE, password: TEST_PASSWORD })
    agent.configureProxy(`${APPVIEW.did}#bsky_appview`)
    await agent.post({ text: 'hello, network' })
    await appView.catchUp() // the AppView is up to date… and then falls behind.

    // Video: a token for our own uploadBlob, handed to the video service, which uploads with it.
    const auth = await agent.com.atproto.server.getServiceAuth({ aud: server.data.did, lxm: 'com.atproto.repo.uploadBlob', exp: Math.floor(Date.now() / 1000) + 1800 })
    const job: any = await (
      await fetch(`${VIDEO.url}/xrpc/app.bsky.video.uploadVideo?did=${encodeURIComponent(TEST_DID)}&name=clip.mp4`, {
        method: 'POST',
        headers: { authorization: `Bearer ${auth.data.token}`, 'content-type': 'video/mp4' },
        body: MP4,
      })
    ).json()
    expect(job.state).toBe('JOB_STATE_COMPLETED')
    const videoPost = await agent.post({ text: 'a clip', embed: { $type: 'app.bsky.embed.video', video: job.blob } })

    // A custom feed: the generator sees us, with a token meant for it.
    const feed = await agent.app.bsky.feed.getFeed({ feed: FEED_URI })
    expect(feed.data.cursor).toBe(`for:${TEST_DID}`)
    expect(appView.feedGenerator.calls.at(-1)!.claims).toMatchObject({ iss: TEST_DID, aud: FEEDGEN.did, lxm: 'app.bsky.feed.getFeedSkeleton' })

    // A post with an image, then the app's immediate reads: profile feed and the thread.
    const image = await agent.uploadBlob(PNG, { encoding: 'image/png' })
    const imagePost = await agent.post({ text: 'a picture', embed: { $type: 'app.bsky.embed.images', images: [{ image: image.data.blob, alt: 'orange' }] } })
    const authorFeed = await agent.getAuthorFeed({ actor: TEST_HANDLE })
    expect(authorFeed.data.feed.slice(0, 3).map((i) => i.post.uri)).toEqual([imagePost.uri, videoPost.uri, expect.any(String)])
    const images = (authorFeed.data.feed[0]!.post.embed as any).images
    expect(images[0]).toMatchObject({ alt: 'orange', fullsize: `https://pds.test/xrpc/com.atproto.sync.getBlob?did=${encodeURIComponent(TEST_DID)}&cid=${image.data.blob.ref.toString()}` })
    const thread = await agent.getPostThread({ uri: imagePost.uri })
    expect((thread.data.thread as any).post).toMatchObject({ uri: imagePost.uri, record: { text: 'a picture' } })

    // Nothing on the way refused a token.
    expect([...appView.refusals, ...appView.feedGenerator.refusals]).toEqual([])
    expect(video.uploads.map((u) => u.status)).toEqual([200])
  })
})
