import { env } from 'cloudflare:workers'
import { evictDurableObject, runInDurableObject } from 'cloudflare:test'
import { getServerByName } from 'partyserver'
import { describe, expect, it } from 'vitest'
import type { AccountActor } from '../../actors/account-actor'
import { loggedInAgent, TEST_DID, xrpc } from '../helpers'
import { CommitVerifier, didKeyFromDidDoc, FirehoseClient } from './consumer'
import { decodeFrame } from '../../src/firehose/frames'
import { COLLECTION } from './writers'

const actor = () => getServerByName((env as unknown as { ACCOUNT: DurableObjectNamespace<AccountActor> }).ACCOUNT, TEST_DID)

describe('subscribers across hibernation', () => {
  it('every open socket still receives the next commit after the actor is evicted, twice over', async () => {
    const token = (await loggedInAgent()).session!.accessJwt
    const commit = async () => {
      const res = await xrpc('com.atproto.repo.createRecord', { token, body: { repo: TEST_DID, collection: COLLECTION, record: { at: Date.now() } } })
      expect(res.status).toBe(200)
    }
    for (let i = 0; i < 3; i++) await commit() // seq 4..6

    const live = await FirehoseClient.connect()
    const replayed = await FirehoseClient.connect(0)
    const fromMiddle = await FirehoseClient.connect(4)
    const leaving = await FirehoseClient.connect()
    await replayed.until((f) => f.length >= 6)
    await fromMiddle.until((f) => f.length >= 2)

    // Mark this instance so we can tell a fresh one afterwards.
    await runInDurableObject(await actor(), (instance: AccountActor) => void Object.assign(instance, { marker: 'before' }))
    await evictDurableObject(await actor())
    await commit() // seq 7: the write wakes a fresh instance, which finds the sockets and their state in the attachments
    expect(await runInDurableObject(await actor(), (instance: AccountActor) => (instance as unknown as { marker?: string }).marker)).toBeUndefined()

    // A socket closed while the actor sleeps is handed to the fresh instance's onClose; the rest carry on.
    await evictDurableObject(await actor())
    leaving.close()
    await new Promise((r) => setTimeout(r, 50))
    await commit() // seq 8

    for (const sub of [live, replayed, fromMiddle]) await sub.until((f) => f.at(-1)?.body.seq === 8)
    expect(live.seqs()).toEqual([7, 8])
    expect(replayed.seqs()).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(fromMiddle.seqs()).toEqual([5, 6, 7, 8])
    expect(leaving.seqs()).toEqual([7])

    const verifier = new CommitVerifier(await didKeyFromDidDoc())
    for (const f of replayed.frames) await verifier.frame(f)
    expect(verifier.verified).toBe(5)
    for (const sub of [live, replayed, fromMiddle]) sub.close()
  })

  it('a replay an eviction cut short resumes from the cursor kept in the socket, with nothing missed or repeated', async () => {
    const token = (await loggedInAgent()).session!.accessJwt
    const commit = async () => expect((await xrpc('com.atproto.repo.createRecord', { token, body: { repo: TEST_DID, collection: COLLECTION, record: { at: Date.now() } } })).status).toBe(200)
    for (let i = 0; i < 4; i++) await commit()
    const head = (await xrpc('com.atproto.sync.getLatestCommit', { params: { did: TEST_DID } })).json
    const lastSeq = (await env.DB.prepare('SELECT MAX(seq) AS seq FROM repo_event').first<{ seq: number }>())!.seq
    expect(head.rev).toBeTruthy()

    // Caught up and live; then put the socket in the state an evicted replay leaves behind:
    // not live, last sent seq 5, and no replay running in the (new) instance.
    const sub = await FirehoseClient.connect(lastSeq)
    await evictDurableObject(await actor())
    await runInDurableObject(await actor(), (instance: AccountActor) => {
      for (const conn of instance.getConnections<{ live: boolean; cursor?: number }>()) conn.setState({ live: false, cursor: 5 })
    })
    await commit() // its broadcast finds the stalled socket and resumes the replay from 5

    await sub.until((f) => f.at(-1)?.body.seq === lastSeq + 1)
    expect(sub.seqs()).toEqual(Array.from({ length: lastSeq + 1 - 5 }, (_, i) => 6 + i))
    const verifier = new CommitVerifier(await didKeyFromDidDoc())
    // The stream starts mid-chain, after seq 5: it must chain onto that event's commit, and each frame onto the one before.
    const anchor = await env.DB.prepare('SELECT frame FROM repo_event WHERE seq = 5').first<{ frame: ArrayBuffer }>()
    await verifier.anchorOn(decodeFrame(new Uint8Array(anchor!.frame)).body)
    for (const f of sub.frames) await verifier.frame(f)
    expect(verifier.verified).toBe(sub.frames.filter((f) => f.header.t === '#commit').length)
    sub.close()
  })
})

