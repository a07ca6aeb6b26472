import { readCar, readCarWithRoot, verifyRecords, verifyRepoCar } from '@atproto/repo'
import { describe, expect, it } from 'vitest'
import { didKeyFromDidDoc } from '../firehose/consumer'
import { loggedInAgent, TEST_DID, worker, xrpcUrl } from '../helpers'

async function car(nsid: string, params: Record<string, string>) {
  const res = await worker.fetch(xrpcUrl(nsid, params))
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toBe('application/vnd.ipld.car')
  return new Uint8Array(await res.arrayBuffer())
}

describe('sync exports verify with @atproto/repo', () => {
  it('getRepo is a signed, complete CAR whose records equal what was written', async () => {
    const agent = await loggedInAgent()
    const written = new Map<string, unknown>()
    for (let i = 0; i < 30; i++) {
      const res = await agent.post({ text: `post ${i}`, createdAt: new Date(2026, 0, 1, 0, 0, i).toISOString() })
      written.set(res.uri, (await agent.com.atproto.repo.getRecord({ repo: TEST_DID, collection: 'app.bsky.feed.post', rkey: res.uri.split('/').at(-1)! })).data.value)
    }
    await agent.com.atproto.repo.putRecord({
      repo: TEST_DID,
      collection: 'app.bsky.actor.profile',
      rkey: 'self',
      record: { $type: 'app.bsky.actor.profile', displayName: 'Alice' },
    })
    const latest = (await agent.com.atproto.sync.getLatestCommit({ did: TEST_DID })).data

    const bytes = await car('com.atproto.sync.getRepo', { did: TEST_DID })
    const verified = await verifyRepoCar(bytes, TEST_DID, await didKeyFromDidDoc())
    expect(verified.commit.cid.toString()).toBe(latest.cid)
    expect(verified.commit.rev).toBe(latest.rev)
    const paths = verified.creates.map((c) => `at://${TEST_DID}/${c.collection}/${c.rkey}`).sort()
    expect(paths).toEqual([...written.keys(), `at://${TEST_DID}/app.bsky.actor.profile/self`].sort())

    // Every record in the export decodes to exactly what getRecord serves.
    const { blocks } = await readCarWithRoot(bytes)
    const list = await agent.com.atproto.repo.listRecords({ repo: TEST_DID, collection: 'app.bsky.feed.post', limit: 100 })
    expect(list.data.records).toHaveLength(30)
    for (const rec of list.data.records) {
      expect(rec.value).toEqual(written.get(rec.uri))
      const create = verified.creates.find((c) => rec.uri.endsWith(`/${c.collection}/${c.rkey}`))!
      expect(create.cid.toString()).toBe(rec.cid)
      expect(blocks.has(create.cid)).toBe(true)
    }
  })

  it('getRepo with since holds only what changed after that rev', async () => {
    const agent = await loggedInAgent()
    const old = await agent.post({ text: 'old', createdAt: new Date().toISOString() })
    const since = (await agent.com.atproto.sync.getLatestCommit({ did: TEST_DID })).data.rev
    const fresh = await agent.post({ text: 'fresh', createdAt: new Date().toISOString() })
    const { root, blocks } = await readCarWithRoot(await car('com.atproto.sync.getRepo', { did: TEST_DID, since }))
    const head = (await agent.com.atproto.sync.getLatestCommit({ did: TEST_DID })).data
    expect(root.toString()).toBe(head.cid)
    const cids = blocks.cids().map(String)
    expect(cids).toContain(head.cid)
    expect(cids).toContain(fresh.cid)
    expect(cids).not.toContain(old.cid)
  })

  it('sync.getRecord proves presence with a signed commit, and getBlocks serves blocks', async () => {
    const agent = await loggedInAgent()
    const post = await agent.post({ text: 'provable', createdAt: new Date().toISOString() })
    const rkey = post.uri.split('/').at(-1)!
    const proof = await car('com.atproto.sync.getRecord', { did: TEST_DID, collection: 'app.bsky.feed.post', rkey })
    const claims = await verifyRecords(proof, TEST_DID, await didKeyFromDidDoc())
    expect(claims).toHaveLength(1)
    expect(claims[0]).toMatchObject({ collection: 'app.bsky.feed.post', rkey })
    expect((claims[0]!.record as any).text).toBe('provable')

    const { blocks } = await readCar(await car('com.atproto.sync.getBlocks', { did: TEST_DID, cids: post.cid }))
    expect(blocks.cids().map(String)).toEqual([post.cid])
    const missing = await worker.fetch(xrpcUrl('com.atproto.sync.getBlocks', { did: TEST_DID, cids: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm' }))
    expect(missing.status).toBe(400)
    expect(((await missing.json()) as any).error).toBe('BlockNotFound')
  })

  it('lists the repo, reports its status, and answers RepoNotFound for other DIDs', async () => {
    const agent = await loggedInAgent()
    await agent.post({ text: 'x', createdAt: new Date().toISOString() })
    const head = (await agent.com.atproto.sync.getLatestCommit({ did: TEST_DID })).data
    const repos = (await agent.com.atproto.sync.listRepos({})).data.repos
    expect(repos).toEqual([{ did: TEST_DID, head: head.cid, rev: head.rev, active: true }])
    expect((await agent.com.atproto.sync.getRepoStatus({ did: TEST_DID })).data).toEqual({ did: TEST_DID, active: true, rev: head.rev })
    for (const nsid of ['com.atproto.sync.getRepo', 'com.atproto.sync.getLatestCommit', 'com.atproto.sync.getRepoStatus']) {
      const res = await worker.fetch(xrpcUrl(nsid, { did: 'did:web:other.test' }))
      expect([nsid, res.status, ((await res.json()) as any).error]).toEqual([nsid, 400, 'RepoNotFound'])
    }
    const desc = (await agent.com.atproto.repo.describeRepo({ repo: 'alice.test' })).data
    expect(desc).toMatchObject({ did: TEST_DID, handle: 'alice.test', handleIsCorrect: true, collections: ['app.bsky.actor.profile', 'app.bsky.feed.post'] })
  })

  it('a getRepo stream that commits overtake still ends as the complete repo it started from', async () => {
    const agent = await loggedInAgent()
    // Enough blocks for several 500-row pages.
    for (let k = 0; k < 4; k++) {
      await agent.com.atproto.repo.applyWrites({
        repo: TEST_DID,
        writes: Array.from({ length: 150 }, (_, i) => ({ $type: 'com.atproto.repo.applyWrites#create', collection: 'com.example.bulk', rkey: `k${k}r${i}`, value: { i } })),
      })
    }
    const res = await worker.fetch(xrpcUrl('com.atproto.sync.getRepo', { did: TEST_DID }))
    expect(res.status).toBe(200)
    const reader = res.body!.getReader()
    const started = (await agent.com.atproto.sync.getLatestCommit({ did: TEST_DID })).data
    const chunks: Uint8Array[] = [(await reader.read()).value!] // the export has started from this head
    // Commits that drop MST nodes and records the export has not sent yet.
    for (const k of [0, 3]) await agent.com.atproto.repo.deleteRecord({ repo: TEST_DID, collection: 'com.example.bulk', rkey: `k${k}r149` })
    await agent.com.atproto.repo.applyWrites({
      repo: TEST_DID,
      writes: Array.from({ length: 50 }, (_, i) => ({ $type: 'com.atproto.repo.applyWrites#delete', collection: 'com.example.bulk', rkey: `k2r${i}` })),
    })
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      chunks.push(value)
    }
    const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0))
    chunks.reduce((at, c) => (bytes.set(c, at), at + c.byteLength), 0)
    const verified = await verifyRepoCar(bytes, TEST_DID, await didKeyFromDidDoc())
    expect(verified.commit.cid.toString()).toBe(started.cid)
    const rkeys = new Set(verified.creates.filter((c) => c.collection === 'com.example.bulk').map((c) => c.rkey))
    expect(rkeys.size).toBe(600)
    expect(rkeys.has('k0r149') && rkeys.has('k2r0')).toBe(true)
    // A fresh export afterwards is the new head.
    const fresh = await verifyRepoCar(await car('com.atproto.sync.getRepo', { did: TEST_DID }), TEST_DID, await didKeyFromDidDoc())
    expect(fresh.creates.filter((c) => c.collection === 'com.example.bulk')).toHaveLength(548)
  })
})

