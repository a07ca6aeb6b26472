import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { decodeFrame } from '../../src/firehose/frames'
import { CommitVerifier, didKeyFromDidDoc } from '../firehose/consumer'
import { loggedInAgent, TEST_DID, xrpc } from '../helpers'

async function commitEvents() {
  const { results } = await env.DB.prepare("SELECT seq, frame FROM repo_event WHERE type = 'commit' ORDER BY seq").all<{ seq: number; frame: number[] }>()
  return results.map((r) => ({ seq: r.seq, body: decodeFrame(new Uint8Array(r.frame)).body }))
}

describe('concurrent writes', () => {
  it('200 writes from 16 parallel clients: nothing lost, revs strictly increasing, seqs contiguous, every commit verifies', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    await agent.post({ text: 'first write creates the repo', createdAt: new Date().toISOString() })
    const before = (await env.DB.prepare('SELECT MAX(seq) AS seq FROM repo_event').first<{ seq: number | null }>())?.seq ?? 0
    const uris: string[] = []
    await Promise.all(
      Array.from({ length: 16 }, async (_, client) => {
        for (let i = client; i < 200; i += 16) {
          const res = await xrpc('com.atproto.repo.createRecord', {
            token,
            body: { repo: TEST_DID, collection: 'app.bsky.feed.post', record: { text: `c${client} #${i}`, createdAt: new Date().toISOString() } },
          })
          expect(res.status, res.text).toBe(200)
          uris.push(res.json.uri)
        }
      }),
    )
    expect(new Set(uris).size).toBe(200)

    let listed: string[] = []
    let cursor: string | undefined
    do {
      const page = await agent.com.atproto.repo.listRecords({ repo: TEST_DID, collection: 'app.bsky.feed.post', limit: 100, cursor })
      listed = listed.concat(page.data.records.map((r) => r.uri))
      cursor = page.data.cursor
    } while (cursor)
    expect(listed.filter((u) => uris.includes(u)).length).toBe(200)
    expect(listed).toHaveLength(201)

    const events = (await commitEvents()).filter((e) => e.seq > before)
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 200 }, (_, i) => before + 1 + i))
    for (let i = 1; i < events.length; i++) expect(events[i]!.body.rev > events[i - 1]!.body.rev).toBe(true)
    const verifier = new CommitVerifier(await didKeyFromDidDoc())
    for (const e of await commitEvents()) await verifier.verify(e.body)
  })

  it('concurrent writers racing on the same swapCommit: exactly one wins, the rest get InvalidSwap and write nothing', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    const head = (await agent.com.atproto.sync.getLatestCommit({ did: TEST_DID })).data
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        xrpc('com.atproto.repo.createRecord', {
          token,
          body: { repo: TEST_DID, collection: 'app.bsky.feed.post', swapCommit: head.cid, record: { text: `race ${i}`, createdAt: new Date().toISOString() } },
        }),
      ),
    )
    expect(results.filter((r) => r.status === 200)).toHaveLength(1)
    const losers = results.filter((r) => r.status !== 200)
    expect(losers.map((r) => [r.status, r.json.error])).toEqual(Array(7).fill([400, 'InvalidSwap']))
    const after = (await agent.com.atproto.sync.getLatestCommit({ did: TEST_DID })).data
    expect(after.cid).toBe(results.find((r) => r.status === 200)!.json.commit.cid)
  })
})
