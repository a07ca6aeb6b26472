import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { blocksSince, getBlock, getBlocks, pruneRemovedBlocks } from '../../src/db/blocks'
import { blockInserts } from '../../src/db/commitWrites'
import { eventsAfter, eventStatements } from '../../src/db/events'
import { snapshotBlocks } from '../../src/repo/snapshot'
import { loggedInAgent, TEST_DID } from '../helpers'

async function collect(blocks: AsyncIterable<{ cid: string }>) {
  const out: string[] = []
  for await (const b of blocks) out.push(b.cid)
  return out
}

const live = async () =>
  (await env.DB.prepare('SELECT cid, repo_rev FROM repo_block WHERE removed_at IS NULL').all<{ cid: string; repo_rev: string }>()).results

describe('repo blocks', () => {
  it('blocksSince returns every block after a rev once across small pages', async () => {
    const agent = await loggedInAgent()
    const revs: string[] = []
    for (let i = 0; i < 6; i++) {
      await agent.post({ text: `p${i}`, createdAt: new Date().toISOString() })
      revs.push((await agent.com.atproto.sync.getLatestCommit({ did: TEST_DID })).data.rev)
    }
    const results = await live()
    for (const since of [revs[0]!, revs[3]!]) {
      const expected = results.filter((r) => r.repo_rev > since).map((r) => r.cid).sort()
      expect(expected.length).toBeGreaterThan(3)
      const got = await collect(blocksSince(env.DB, TEST_DID, since, Date.now(), 2))
      expect(got).toHaveLength(new Set(got).size)
      expect(got.sort()).toEqual(expected)
    }
  })

  it('a snapshot is exactly the live blocks; blocks a commit drops stay for it until pruned', async () => {
    const agent = await loggedInAgent()
    const posts = []
    for (let i = 0; i < 8; i++) posts.push(await agent.post({ text: `q${i}`, createdAt: new Date().toISOString() }))
    const head = (await agent.com.atproto.sync.getLatestCommit({ did: TEST_DID })).data
    const before = (await collect(snapshotBlocks(env.DB, TEST_DID, head.cid))).sort()
    expect(before).toEqual((await live()).map((r) => r.cid).sort())

    await agent.deletePost(posts[0]!.uri)
    const liveAfter = new Set((await live()).map((r) => r.cid))
    expect(before.filter((cid) => !liveAfter.has(cid)).length).toBeGreaterThan(0)
    // The old snapshot is still whole.
    expect((await collect(snapshotBlocks(env.DB, TEST_DID, head.cid))).sort()).toEqual(before)

    expect(await pruneRemovedBlocks(env.DB, TEST_DID, Date.now() + 1)).toBeGreaterThan(0)
    await expect(collect(snapshotBlocks(env.DB, TEST_DID, head.cid))).rejects.toThrow(/no longer stored/)
  })

  it('a block two records share stays live when one of them goes, and a removed block keeps its content and rev', async () => {
    const agent = await loggedInAgent()
    const record = { text: 'same words', createdAt: '2026-01-01T00:00:00.000Z' }
    const a = await agent.post(record)
    const b = await agent.post(record)
    expect(a.cid).toBe(b.cid)
    const row = () => env.DB.prepare('SELECT repo_rev, removed_at, length(content) AS size FROM repo_block WHERE did = ? AND cid = ?').bind(TEST_DID, a.cid).first<{ repo_rev: string; removed_at: number | null; size: number }>()
    const stored = await row()
    await agent.deletePost(a.uri)
    expect(await row()).toEqual(stored) // b still points at it: live, untouched
    const beforeRemoval = (await live()).map((r) => r.cid)
    await agent.deletePost(b.uri)
    const removed = await row()
    expect(removed!.removed_at).toBeGreaterThan(0)
    expect({ ...removed, removed_at: null }).toEqual(stored) // marked, content and rev kept for older snapshots
    // Every block the delete dropped is marked; nothing else changed state.
    const stillLive = new Set((await live()).map((r) => r.cid))
    expect(beforeRemoval.filter((cid) => !stillLive.has(cid)).length).toBeGreaterThan(1)
  })

  it('bytes cross D1 as hex and are stored as the same BLOBs: every byte value, any length', async () => {
    const did = 'did:web:hex.test'
    const every = Uint8Array.from({ length: 512 }, (_, i) => i % 256)
    const blocks = [
      { cid: 'bafyhexevery', rev: 'r1', bytes: every },
      { cid: 'bafyhexone', rev: 'r1', bytes: Uint8Array.of(0) },
      { cid: 'bafyhexbig', rev: 'r1', bytes: crypto.getRandomValues(new Uint8Array(60_000)) },
    ]
    const seq = 1_000_000_000
    await env.DB.batch([...blockInserts(env.DB, did, blocks), ...eventStatements(env.DB, did, [{ seq, type: 'commit', frame: every, time: Date.now() }])])

    const stored = await env.DB.prepare("SELECT cid, typeof(content) AS type, size, length(content) AS length FROM repo_block WHERE did = ? ORDER BY cid").bind(did).all()
    expect(stored.results).toEqual(
      [...blocks].sort((a, b) => a.cid.localeCompare(b.cid)).map((b) => ({ cid: b.cid, type: 'blob', size: b.bytes.length, length: b.bytes.length })),
    )
    for (const b of blocks) expect(await getBlock(env.DB, did, b.cid)).toEqual(b.bytes)
    expect(await getBlocks(env.DB, did, blocks.map((b) => b.cid))).toEqual(new Map(blocks.map((b) => [b.cid, b.bytes])))
    expect(await eventsAfter(env.DB, seq - 1, 1)).toEqual([{ seq, frame: every }])
    await env.DB.batch([env.DB.prepare('DELETE FROM repo_block WHERE did = ?').bind(did), env.DB.prepare('DELETE FROM repo_event WHERE seq = ?').bind(seq)])
  })
})
