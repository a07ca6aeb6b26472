import { describe, expect, it } from 'vitest'
import { loggedInAgent, TEST_DID } from '../helpers'
import { CommitVerifier, didKeyFromDidDoc, FirehoseClient } from './consumer'

describe('firehose basics', () => {
  it('replays from 0 and follows live commits with verifiable frames', async () => {
    const agent = await loggedInAgent()
    const first = await agent.post({ text: 'one', createdAt: new Date().toISOString() })
    const sub = await FirehoseClient.connect(0)
    await sub.until((f) => f.some((x) => x.header.t === '#commit'))
    await agent.post({ text: 'two', createdAt: new Date().toISOString() })
    const del = await agent.com.atproto.repo.deleteRecord({ repo: TEST_DID, collection: 'app.bsky.feed.post', rkey: first.uri.split('/').at(-1)! })
    expect(del.data.commit).toBeDefined()
    await sub.until((f) => f.filter((x) => x.header.t === '#commit').length >= 3)
    const types = sub.frames.map((f) => f.header.t)
    expect(types.slice(0, 3)).toEqual(['#identity', '#account', '#sync'])
    const verifier = new CommitVerifier(await didKeyFromDidDoc())
    for (const f of sub.frames) await verifier.frame(f)
    expect(verifier.verified).toBe(3)
    expect(sub.seqs()).toEqual([1, 2, 3, 4, 5, 6])
    sub.close()
  })
})
