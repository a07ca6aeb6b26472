import { env } from 'cloudflare:workers'
import { readCarWithRoot, verifyRepoCar } from '@atproto/repo'
import { describe, expect, it } from 'vitest'
import { decodeFrame } from '../../src/firehose/frames'
import { CommitVerifier, didKeyFromDidDoc } from '../firehose/consumer'
import { loggedInAgent, TEST_DID, worker, xrpc, xrpcUrl } from '../helpers'

async function allEvents() {
  const { results } = await env.DB.prepare('SELECT seq, frame FROM repo_event ORDER BY seq').all<{ seq: number; frame: number[] }>()
  return results.map((r) => ({ seq: r.seq, ...decodeFrame(new Uint8Array(r.frame)) }))
}

async function commitEvents() {
  return (await allEvents()).filter((e) => (e.header as { t?: string }).t === '#commit')
}

describe('concurrent writes', () => {
  it('200 writes from 16 parallel clients: nothing lost, queued writes share commits, revs strictly increasing, seqs contiguous, every commit verifies', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    await agent.post({ text: 'first write creates the repo', createdAt: new Date().toISOString() })
    const before = (await env.DB.prepare('SELECT MAX(seq) AS seq FROM repo_event').first<{ seq: number | null }>())?.seq ?? 0
    const uris: string[] = []
    const commitOf = new Map<string, string>()
    await Promise.all(
      Array.from({ length: 16 }, async (_, client) => {
        for (let i = client; i < 200; i += 16) {
          const res = await xrpc('com.atproto.repo.createRecord', {
            token,
            body: { repo: TEST_DID, collection: 'app.bsky.feed.post', record: { text: `c${client} #${i}`, createdAt: new Date().toISOString() } },
          })
          expect(res.status, res.text).toBe(200)
          uris.push(res.json.uri)
          commitOf.set(res.json.uri, res.json.commit.cid)
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
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: events.length }, (_, i) => before + 1 + i))
    for (let i = 1; i < events.length; i++) expect(events[i]!.body.rev > events[i - 1]!.body.rev).toBe(true)
    // Each write is in exactly one commit, and writes that queued together shared one.
    const created = events.flatMap((e) => e.body.ops.map((op: { path: string }) => `at://${TEST_DID}/${op.path}`))
    expect(created.sort()).toEqual([...uris].sort())
    expect(events.length).toBeLessThan(200)
    // Each response names the commit that holds its write.
    for (const e of events) for (const op of e.body.ops) expect(commitOf.get(`at://${TEST_DID}/${op.path}`)).toBe(e.body.commit.toString())
    const verifier = new CommitVerifier(await didKeyFromDidDoc())
    for (const e of await allEvents()) await verifier.frame(e as never)
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

  it('racing puts and deletes on the same few records fold into batches that leave D1 exactly the repo: no lost row, no orphan block', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    await agent.post({ text: 'exists', createdAt: new Date().toISOString() })
    const keys = ['a', 'b', 'c', 'd']
    await Promise.all(
      Array.from({ length: 12 }, async (_, client) => {
        for (let i = 0; i < 15; i++) {
          const rkey = keys[(client + i) % keys.length]!
          const body = { repo: TEST_DID, collection: 'com.example.churn', rkey }
          const res =
            (client + i) % 3 === 0
              ? await xrpc('com.atproto.repo.deleteRecord', { token, body })
              : await xrpc('com.atproto.repo.putRecord', { token, body: { ...body, record: { n: (client * 31 + i) % 5 } } })
          expect(res.status, res.text).toBe(200)
        }
      }),
    )
    const car = new Uint8Array(await (await worker.fetch(xrpcUrl('com.atproto.sync.getRepo', { did: TEST_DID }))).arrayBuffer())
    const { blocks } = await readCarWithRoot(car)
    const doc: any = await (await worker.fetch('https://pds.test/.well-known/did.json')).json()
    const verified = await verifyRepoCar(car, TEST_DID, `did:key:${doc.verificationMethod[0].publicKeyMultibase}`)
    const { results: rows } = await env.DB.prepare('SELECT uri, cid FROM record ORDER BY uri').all<{ uri: string; cid: string }>()
    expect(rows.map((r) => `${r.uri}=${r.cid}`)).toEqual(verified.creates.map((c) => `at://${TEST_DID}/${c.collection}/${c.rkey}=${c.cid}`).sort())
    // Every stored block is in the export and vice versa: nothing a folded group dropped is left behind.
    const stored = await env.DB.prepare('SELECT cid FROM repo_block WHERE removed_at IS NULL').all<{ cid: string }>()
    expect(stored.results.map((r) => r.cid).sort()).toEqual(blocks.cids().map(String).sort())
  })
})
