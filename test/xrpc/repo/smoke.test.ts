import { describe, expect, it } from 'vitest'
import { loggedInAgent, TEST_DID } from '../../helpers'

describe('smoke', () => {
  it('posts and reads back', async () => {
    const agent = await loggedInAgent()
    const post = await agent.post({ text: 'hello world', createdAt: new Date().toISOString() })
    expect(post.uri).toMatch(new RegExp(`^at://${TEST_DID}/app.bsky.feed.post/`))
    const rkey = post.uri.split('/').at(-1)!
    const got = await agent.com.atproto.repo.getRecord({ repo: TEST_DID, collection: 'app.bsky.feed.post', rkey })
    expect(got.data.cid).toBe(post.cid)
    expect((got.data.value as any).text).toBe('hello world')
    const list = await agent.com.atproto.repo.listRecords({ repo: TEST_DID, collection: 'app.bsky.feed.post' })
    expect(list.data.records).toHaveLength(1)
  })
})
