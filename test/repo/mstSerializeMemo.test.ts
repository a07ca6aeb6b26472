import { Secp256k1Keypair } from '@atproto/crypto'
import { MemoryBlockstore, Repo, WriteOpAction, type RecordWriteOp } from '@atproto/repo'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, it } from 'vitest'
import '../../src/repo/mstSerializeMemo'
import { carBytes } from '../../src/repo/car'
import { proofCar, relayOps } from './commitChain'
import { CommitVerifier } from '../firehose/verifier'

/**
 * The remembered MST node encodings (src/repo/mstSerializeMemo.ts) must never
 * be stale: every commit's proof blocks, built through one chain of repos with
 * creates, updates and deletes in the same commits, must let a strict relay
 * invert the ops back to the previous tree, and every block must be what its
 * CID says.
 */
describe('remembered MST node encodings', () => {
  it('give every commit exact covering proofs across creates, updates and deletes', async () => {
    const keypair = await Secp256k1Keypair.create()
    const storage = new MemoryBlockstore()
    let repo = await Repo.create(storage, 'did:web:memo.test', keypair)
    const verifier = new CommitVerifier(keypair.did())
    await verifier.anchorOn({ blocks: carBytes(repo.cid, [{ cid: repo.cid, bytes: (await storage.getBytes(repo.cid))! }]), rev: repo.commit.rev })
    const live = new Map<string, unknown>()
    let n = 0
    for (let round = 0; round < 30; round++) {
      const writes: RecordWriteOp[] = []
      const touched = new Set<string>()
      for (let i = 0; i < 20; i++) {
        const keys = [...live.keys()].filter((k) => !touched.has(k))
        const pick = keys[(round * 7 + i * 13) % Math.max(keys.length, 1)]
        const kind = i % 4 === 0 && pick ? 'delete' : i % 4 === 1 && pick ? 'update' : 'create'
        const rkey = kind === 'create' ? `k${String(n++).padStart(5, '0')}` : pick!
        touched.add(rkey)
        const record = { $type: 'com.example.note', text: `${kind} ${round}/${i}` }
        if (kind === 'delete') writes.push({ action: WriteOpAction.Delete, collection: 'com.example.note', rkey })
        else writes.push({ action: kind === 'create' ? WriteOpAction.Create : WriteOpAction.Update, collection: 'com.example.note', rkey, record })
      }
      const before = await repo.data.getPointer()
      const commit = await repo.formatCommit(writes, keypair)
      for (const [cid, bytes] of commit.relevantBlocks) expect(CID.create(1, 0x71, await sha256.digest(bytes)).toString()).toBe(cid.toString())
      const ops = await relayOps(writes, live)
      await verifier.verify({ seq: round + 1, commit: commit.cid, rev: commit.rev, since: repo.commit.rev, prevData: before, ops, blocks: proofCar(commit), tooBig: false, rebase: false, blobs: [] })
      await storage.applyCommit(commit)
      repo = await Repo.load(storage, commit.cid)
    }
    expect(verifier.verified).toBe(30)
    expect(live.size).toBeGreaterThan(150)
  })
})
