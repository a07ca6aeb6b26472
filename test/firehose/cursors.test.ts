import { env } from 'cloudflare:workers'
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { getServerByName } from 'partyserver'
import { beforeAll, describe, expect, it } from 'vitest'
import type { AccountActor } from '../../actors/account-actor'
import { loggedInAgent, TEST_DID, xrpc } from '../helpers'
import { CommitVerifier, didKeyFromDidDoc, FirehoseClient } from './consumer'
import { decodeFrame } from '../../src/firehose/frames'
import { COLLECTION } from './writers'

const db = (env as unknown as { DB: D1Database }).DB
const actor = () => getServerByName((env as unknown as { ACCOUNT: DurableObjectNamespace<AccountActor> }).ACCOUNT, TEST_DID)

let token: string
let n = 0
async function commit(): Promise<void> {
  const res = await xrpc('com.atproto.repo.createRecord', { token, body: { repo: TEST_DID, collection: COLLECTION, record: { n: n++ } } })
  if (res.status !== 200) throw new Error(`createRecord: ${res.status} ${res.text}`)
}
async function eventCount(): Promise<{ n: number; min: number; max: number }> {
  return (await db.prepare('SELECT COUNT(*) AS n, MIN(seq) AS min, MAX(seq) AS max FROM repo_event').first())!
}
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

beforeAll(async () => {
  token = (await loggedInAgent()).session!.accessJwt
  for (let i = 0; i < 5; i++) await commit()
})

describe('subscribeRepos cursors', () => {
  it('without a cursor sends live events only', async () => {
    const { max } = await eventCount()
    const sub = await FirehoseClient.connect()
    await commit()
    await sub.until((f) => f.length >= 1)
    await new Promise((r) => setTimeout(r, 100))
    expect(sub.seqs()).toEqual([max + 1])
    expect(sub.frames[0]!.header).toEqual({ op: 1, t: '#commit' })
    sub.close()
  })

  it('answers a cursor beyond the newest event with FutureCursor, then closes', async () => {
    const { max } = await eventCount()
    const sub = await FirehoseClient.connect(max + 1)
    await sub.until(() => sub.closed !== null).catch(() => {})
    expect(sub.frames).toEqual([{ header: { op: -1 }, body: { error: 'FutureCursor', message: 'Cursor in the future.' } }])
    expect(sub.closed?.code).toBe(1008)
  })

  it('accepts the newest seq as a cursor: nothing to replay, then live', async () => {
    const { max } = await eventCount()
    const sub = await FirehoseClient.connect(max)
    await commit()
    await sub.until((f) => f.length >= 1)
    expect(sub.seqs()).toEqual([max + 1])
    sub.close()
  })

  it.each(['abc', '-1', '1.5', ''])('refuses the cursor %j with an error frame, then closes', async (cursor) => {
    const sub = await FirehoseClient.connect(cursor)
    await sub.until(() => sub.closed !== null).catch(() => {})
    expect(sub.frames.map((f) => f.header)).toEqual([{ op: -1 }])
    expect(sub.frames[0]!.body.error).toBe('InvalidRequest')
    expect(sub.closed).not.toBeNull()
  })
})

describe('a refused commit', () => {
  it('emits nothing and writes no event row (InvalidSwap on swapCommit and on swapRecord)', async () => {
    const before = await eventCount()
    const sub = await FirehoseClient.connect()
    const latest = await xrpc('com.atproto.sync.getLatestCommit', { params: { did: TEST_DID } })
    const created = await xrpc('com.atproto.repo.createRecord', { token, body: { repo: TEST_DID, collection: COLLECTION, rkey: 'swap', record: { n: 1 } } })
    expect(created.status).toBe(200)

    // swapCommit names a commit that is no longer the head.
    const staleCommit = await xrpc('com.atproto.repo.createRecord', { token, body: { repo: TEST_DID, collection: COLLECTION, record: { n: 2 }, swapCommit: latest.json.cid } })
    expect([staleCommit.status, staleCommit.json.error]).toEqual([400, 'InvalidSwap'])
    // swapRecord names content the record does not have.
    const staleRecord = await xrpc('com.atproto.repo.putRecord', { token, body: { repo: TEST_DID, collection: COLLECTION, rkey: 'swap', record: { n: 3 }, swapRecord: latest.json.cid } })
    expect([staleRecord.status, staleRecord.json.error]).toEqual([400, 'InvalidSwap'])

    const after = await eventCount()
    expect(after.max).toBe(before.max + 1) // only the createRecord
    await commit()
    await sub.until((f) => f.length >= 2)
    await new Promise((r) => setTimeout(r, 100))
    // The next commit takes the next seq and chains onto the last good one: no seq was burnt, nothing was sent in between.
    expect(sub.seqs()).toEqual([before.max + 1, before.max + 2])
    const verifier = new CommitVerifier(await didKeyFromDidDoc())
    // The stream joined after seq before.max: chain it onto that event's commit.
    const anchor = await env.DB.prepare('SELECT frame FROM repo_event WHERE seq = ?').bind(before.max).first<{ frame: ArrayBuffer }>()
    await verifier.anchorOn(decodeFrame(new Uint8Array(anchor!.frame)).body)
    for (const f of sub.frames) await verifier.frame(f)
    expect(verifier.verified).toBe(2)
    expect(sub.frames[1]!.body.since).toBe(sub.frames[0]!.body.rev)
    sub.close()
  })
})

describe('retention', () => {
  it('the prune alarm is scheduled when the actor starts', async () => {
    const alarm = await runInDurableObject(await actor(), (_: unknown, state: DurableObjectState) => state.storage.getAlarm())
    expect(alarm).toBeGreaterThan(Date.now())
  })

  it('prunes events past retention; a cursor older than the log gets #info OutdatedCursor, then everything kept, no gap', async () => {
    const { min, max } = await eventCount()
    expect(min).toBe(1)
    const cutoff = 6
    await db.prepare('UPDATE repo_event SET sequenced_at = 0 WHERE seq <= ?').bind(cutoff).run()
    expect(await runDurableObjectAlarm(await actor())).toBe(true)
    expect(await eventCount()).toMatchObject({ min: cutoff + 1, max })
    // The alarm comes back.
    const alarm = await runInDurableObject(await actor(), (_: unknown, state: DurableObjectState) => state.storage.getAlarm())
    expect(alarm).toBeGreaterThan(Date.now())

    for (const cursor of [0, cutoff - 1]) {
      const sub = await FirehoseClient.connect(cursor)
      await commit()
      const newest = max + 1 + (cursor === 0 ? 0 : 1)
      await sub.until((f) => f.at(-1)?.body.seq === newest)
      expect(sub.frames[0]).toEqual({ header: { op: 1, t: '#info' }, body: { name: 'OutdatedCursor', message: expect.any(String) } })
      expect(sub.seqs()).toEqual(range(cutoff + 1, newest))
      sub.close()
    }
    // A cursor at the edge of the log is not outdated: it misses nothing.
    const edge = await FirehoseClient.connect(cutoff)
    await edge.until((f) => f.length >= 1)
    expect(edge.frames[0]!.header.t).toBe('#commit')
    expect(edge.frames[0]!.body.seq).toBe(cutoff + 1)
    edge.close()
  })

  it('never prunes the newest event: it carries the seq, and after a restart the sequence continues from it', async () => {
    const { max } = await eventCount()
    await db.prepare('UPDATE repo_event SET sequenced_at = 0').run()
    expect(await runDurableObjectAlarm(await actor())).toBe(true)
    expect(await eventCount()).toEqual({ n: 1, min: max, max })
    const sub = await FirehoseClient.connect(0)
    await sub.until((f) => f.length >= 2)
    // A fresh instance reloads its head from D1: the next seq follows the one kept event.
    await evictDurableObject(await actor())
    await commit()
    await sub.until((f) => f.at(-1)?.body.seq === max + 1)
    expect(sub.frames[0]!.body.name).toBe('OutdatedCursor')
    expect(sub.seqs()).toEqual([max, max + 1])
    sub.close()
  })
})
