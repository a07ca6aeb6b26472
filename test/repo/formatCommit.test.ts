import { Secp256k1Keypair } from '@atproto/crypto'
import { MemoryBlockstore, Repo, verifyCommitSig, WriteOpAction, type CommitData, type RecordWriteOp } from '@atproto/repo'
import { describe, expect, it } from 'vitest'
import '../../src/repo/mstSerializeMemo'
import { carBytes } from '../../src/repo/car'
import { proofCar, relayOps } from './commitChain'
import { formatCommit } from '../../src/repo/formatCommit'
import { CommitVerifier } from '../firehose/verifier'

const cids = (m: { keys?: () => unknown; forEach: (fn: (v: unknown, k: { toString(): string }) => void) => void }, except?: string) => {
  const out: string[] = []
  m.forEach((_, cid) => out.push(cid.toString()))
  return out.filter((c) => c !== except).sort()
}

/**
 * The actor's commits (src/repo/formatCommit.ts) build on the tree the last
 * commit left in memory instead of reloading it from blocks. Run side by side
 * with the library's own chain (Repo.formatCommit, then Repo.load from the
 * stored blocks) over the same creates, updates and deletes, every commit must
 * produce the same tree blocks, the same removed blocks and the same proofs,
 * signed over the same data root; a relay must verify each one; and the tree
 * kept in memory must hold exactly the records a fresh load finds.
 */
describe('formatCommit keeping the tree', () => {
  it('matches the library commit for commit, and its tree matches a fresh load', async () => {
    const keypair = await Secp256k1Keypair.create()
    const did = 'did:web:chain.test'
    const ours = new MemoryBlockstore()
    const lib = new MemoryBlockstore()
    const init = await Repo.formatInitCommit(ours, did, keypair)
    await ours.applyCommit(init)
    await lib.applyCommit(init)
    let repo = await Repo.load(ours, init.cid)
    let libRepo = await Repo.load(lib, init.cid)
    const verifier = new CommitVerifier(keypair.did())
    await verifier.anchorOn({ blocks: carBytes(init.cid, [{ cid: init.cid, bytes: init.newBlocks.get(init.cid)! }]), rev: init.rev })

    const live = new Map<string, unknown>()
    let n = 0
    for (let round = 0; round < 60; round++) {
      const writes: RecordWriteOp[] = []
      const touched = new Set<string>()
      for (let i = 0; i < 1 + (round % 7) * 3; i++) {
        const keys = [...live.keys()].filter((k) => !touched.has(k))
        const pick = keys[(round * 11 + i * 17) % Math.max(keys.length, 1)]
        const kind = i % 3 === 1 && pick ? 'delete' : i % 3 === 2 && pick ? 'update' : 'create'
        const rkey = kind === 'create' ? `3k${String(n++).padStart(11, 'a')}` : pick!
        touched.add(rkey)
        const record = { $type: 'com.example.note', text: `${kind} ${round}/${i}` }
        if (kind === 'delete') writes.push({ action: WriteOpAction.Delete, collection: 'com.example.note', rkey })
        else writes.push({ action: kind === 'create' ? WriteOpAction.Create : WriteOpAction.Update, collection: 'com.example.note', rkey, record })
      }

      const before = await repo.data.getPointer()
      const { commit, next } = await formatCommit(repo, writes, keypair)
      const expected: CommitData = await libRepo.formatCommit(writes, keypair)
      // The commit blocks differ only by rev (a clock); everything the tree decides is the library's.
      expect(cids(commit.newBlocks, commit.cid.toString())).toEqual(cids(expected.newBlocks, expected.cid.toString()))
      expect(cids(commit.relevantBlocks, commit.cid.toString())).toEqual(cids(expected.relevantBlocks, expected.cid.toString()))
      // Each chain's previous commit block goes too (they differ by rev): compare the rest, then those.
      const removed = commit.removedCids.toList().map(String)
      const libRemoved = expected.removedCids.toList().map(String)
      expect(removed.filter((c) => c !== repo.cid.toString()).sort()).toEqual(libRemoved.filter((c) => c !== libRepo.cid.toString()).sort())
      expect(removed).toContain(repo.cid.toString())
      expect(commit.prev?.toString()).toBe(repo.cid.toString())
      expect(commit.since).toBe(repo.commit.rev)
      expect(commit.rev > repo.commit.rev).toBe(true)

      // The repo handed back is the commit's: its root, its signature, its rev.
      expect(next.cid.toString()).toBe(commit.cid.toString())
      expect((await next.data.getPointer()).toString()).toBe(next.commit.data.toString())
      expect(next.commit.rev).toBe(commit.rev)
      expect(await verifyCommitSig(next.commit, keypair.did())).toBe(true)

      const ops = await relayOps(writes, live)
      await verifier.verify({ seq: round + 1, commit: commit.cid, rev: commit.rev, since: commit.since, prevData: before, ops, blocks: proofCar(commit), tooBig: false, rebase: false, blobs: [] })

      await ours.applyCommit(commit)
      repo = next
      await lib.applyCommit(expected)
      libRepo = await Repo.load(lib, expected.cid)
    }
    expect(verifier.verified).toBe(60)

    // The tree kept in memory and one loaded from the stored blocks hold the same records.
    const fresh = await Repo.load(ours, repo.cid)
    const kept = (await repo.data.list()).map((l) => `${l.key} ${l.value.toString()}`)
    expect(kept).toEqual((await fresh.data.list()).map((l) => `${l.key} ${l.value.toString()}`))
    expect(kept).toHaveLength(live.size)
    expect(live.size).toBeGreaterThan(50)
  })
})
