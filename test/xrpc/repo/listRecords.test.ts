import { describe, expect, it } from 'vitest'
import { loggedInAgent, TEST_DID, TEST_HANDLE, xrpc } from '../../helpers'

describe('com.atproto.repo.listRecords', () => {
  it('names the repo by DID or by handle (any case); another repo is RepoNotFound, an empty collection an empty page', async () => {
    const agent = await loggedInAgent()
    const uris: string[] = []
    for (let i = 0; i < 3; i++) {
      const { data } = await agent.com.atproto.repo.createRecord({ repo: TEST_DID, collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text: `post ${i}`, createdAt: new Date().toISOString() } })
      uris.push(data.uri)
    }
    const byDid = await xrpc('com.atproto.repo.listRecords', { params: { repo: TEST_DID, collection: 'app.bsky.feed.post' } })
    expect(byDid.status).toBe(200)
    expect(byDid.json.records.map((r: { uri: string }) => r.uri)).toEqual([...uris].reverse())
    const byHandle = await xrpc('com.atproto.repo.listRecords', { params: { repo: TEST_HANDLE.toUpperCase(), collection: 'app.bsky.feed.post' } })
    expect(byHandle.json).toEqual(byDid.json)

    const empty = await xrpc('com.atproto.repo.listRecords', { params: { repo: TEST_HANDLE, collection: 'app.bsky.feed.like' } })
    expect([empty.status, empty.json]).toEqual([200, { records: [] }])
    for (const repo of ['bob.test', 'did:web:bob.test', 'did:plc:ewvi7nxzyoun6zhxrhs64oiz']) {
      const other = await xrpc('com.atproto.repo.listRecords', { params: { repo, collection: 'app.bsky.feed.post' } })
      expect([repo, other.status, other.json.error]).toEqual([repo, 400, 'RepoNotFound'])
    }
  })
})
