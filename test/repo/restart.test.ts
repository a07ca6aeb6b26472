import type { AccountActor } from '../../actors/account-actor'
import { abortAllDurableObjects, evictDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { verifyRepoCar } from '@atproto/repo'
import { getServerByName } from 'partyserver'
import { describe, expect, it } from 'vitest'
import { decodeFrame } from '../../src/firehose/frames'
import { CommitVerifier, didKeyFromDidDoc } from '../firehose/consumer'
import { loggedInAgent, TEST_DID, worker, xrpc, xrpcUrl } from '../helpers'

const actor = () => getServerByName(env.ACCOUNT as unknown as DurableObjectNamespace<AccountActor>, TEST_DID)

/** Everything a reader can see agrees: head, export, record index, event log. */
async function assertConsistent() {
  const latest = await xrpc('com.atproto.sync.getLatestCommit', { params: { did: TEST_DID } })
  const car = new Uint8Array(await (await worker.fetch(xrpcUrl('com.atproto.sync.getRepo', { did: TEST_DID }))).arrayBuffer())
  const verified = await verifyRepoCar(car, TEST_DID, await didKeyFromDidDoc())
  expect(verified.commit.cid.toString()).toBe(latest.json.cid)
  const { results: rows } = await env.DB.prepare('SELECT uri, cid FROM record ORDER BY uri').all<{ uri: string; cid: string }>()
  expect(rows.map((r) => `${r.uri}=${r.cid}`)).toEqual(
    verified.creates.map((c) => `at://${TEST_DID}/${c.collection}/${c.rkey}=${c.cid}`).sort(),
  )
  const { results: events } = await env.DB.prepare('SELECT seq, type, frame FROM repo_event ORDER BY seq').all<{ seq: number; type: string; frame: number[] }>()
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1))
  const verifier = new CommitVerifier(await didKeyFromDidDoc())
  for (const e of events) await verifier.frame(decodeFrame(new Uint8Array(e.frame)) as never)
  const lastCommit = events.filter((e) => e.type === 'commit').at(-1)
  if (lastCommit) expect(String(decodeFrame(new Uint8Array(lastCommit.frame)).body.commit)).toBe(latest.json.cid)
  return rows.length
}

describe('actor restarts', () => {
  it('keeps head, records and sequence consistent when evicted between writes', async () => {
    const agent = await loggedInAgent()
    for (let i = 0; i < 5; i++) await agent.post({ text: `before ${i}`, createdAt: new Date().toISOString() })
    await evictDurableObject(await actor())
    for (let i = 0; i < 5; i++) await agent.post({ text: `after ${i}`, createdAt: new Date().toISOString() })
    expect(await assertConsistent()).toBe(10)
  })

  it('never exposes a half-written commit when aborted during writes, and keeps going afterwards', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    const inflight = Array.from({ length: 24 }, (_, i) =>
      xrpc('com.atproto.repo.createRecord', {
        token,
        body: { repo: TEST_DID, collection: 'app.bsky.feed.post', record: { text: `during ${i}`, createdAt: new Date().toISOString() } },
      }).catch((err) => ({ status: 599, json: { error: String(err) } }) as const),
    )
    // Abort as soon as the first write is acknowledged, with the others still in flight.
    await Promise.race(inflight.map((p) => p.then((r) => (r.status === 200 ? r : new Promise(() => {})))))
    await abortAllDurableObjects()
    const settled = await Promise.all(inflight)
    const acknowledged = settled.filter((r) => r.status === 200)
    expect(acknowledged.length).toBeGreaterThan(0)
    // Every acknowledged write is durable and readable.
    for (const res of acknowledged) {
      const rkey = (res.json as any).uri.split('/').at(-1)
      expect((await xrpc('com.atproto.repo.getRecord', { params: { repo: TEST_DID, collection: 'app.bsky.feed.post', rkey } })).status).toBe(200)
    }
    const count = await assertConsistent()
    expect(count).toBeGreaterThanOrEqual(acknowledged.length)
    await agent.post({ text: 'after abort', createdAt: new Date().toISOString() })
    expect(await assertConsistent()).toBe(count + 1)
  })
})
