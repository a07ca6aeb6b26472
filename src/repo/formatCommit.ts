import { TID } from '@atproto/common-web'
import type { Keypair } from '@atproto/crypto'
import { encode } from '@atproto/lex-cbor'
import { cidForCbor } from '@atproto/lex-data'
import { BlockMap, DataDiff, Repo, WriteOpAction, formatDataKey, signCommit, type CommitData, type RecordWriteOp } from '@atproto/repo'

/**
 * The signed commit of `writes` on top of `repo`, built as `Repo.formatCommit`
 * builds it and from the same library pieces (MST operations, diff, covering
 * proofs, signCommit), and the repo at that commit.
 *
 * What this adds is the second half: the library's commit leaves its new tree
 * behind, so the next commit would `Repo.load` it from blocks and decode and
 * validate every node on its path again (a third of a sequential write's CPU
 * outside the signature). The tree as built is immutable and content-addressed,
 * so it is the same tree, with its nodes decoded and their encodings remembered
 * (mstSerializeMemo.ts).
 */
export async function formatCommit(repo: Repo, writes: RecordWriteOp[], keypair: Keypair): Promise<{ commit: CommitData; next: Repo }> {
  const leaves = new BlockMap()
  let data = repo.data
  for (const write of writes) {
    const key = formatDataKey(write.collection, write.rkey)
    if (write.action === WriteOpAction.Delete) data = await data.delete(key)
    else if (write.action === WriteOpAction.Create) data = await data.add(key, await leaves.add(write.record))
    else data = await data.update(key, await leaves.add(write.record))
  }
  const dataCid = await data.getPointer()
  const diff = await DataDiff.of(data, repo.data)
  const newBlocks = diff.newMstBlocks
  const removedCids = diff.removedCids
  // What a relay needs to check each op against the new root: the path to every written key.
  const relevantBlocks = new BlockMap()
  for (const write of writes) relevantBlocks.addMap(await data.getCoveringProof(formatDataKey(write.collection, write.rkey)))
  const added = leaves.getMany(diff.newLeafCids.toList())
  if (added.missing.length > 0) throw new Error(`Missing leaf blocks: ${added.missing.join(', ')}`)
  newBlocks.addMap(added.blocks)
  relevantBlocks.addMap(added.blocks)

  const rev = TID.nextStr(repo.commit.rev)
  const signed = await signCommit({ did: repo.did, version: 3, rev, prev: null, data: dataCid }, keypair)
  const bytes = encode(signed)
  const cid = await cidForCbor(bytes)
  if (!cid.equals(repo.cid)) {
    newBlocks.set(cid, bytes)
    relevantBlocks.set(cid, bytes)
    removedCids.add(repo.cid)
  }
  const commit: CommitData = { cid, rev, since: repo.commit.rev, prev: repo.cid, newBlocks, relevantBlocks, removedCids }
  return { commit, next: new Repo({ storage: repo.storage, data, commit: signed, cid }) }
}
