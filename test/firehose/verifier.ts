import { cborToLex, MemoryBlockstore, MST, readCarWithRoot, verifyCommitSig, type Commit } from '@atproto/repo'
import type { Cid } from '@atproto/lex-data'

/**
 * What a strict (sync 1.1) relay checks of each #commit: the signature against
 * the DID document key, the since/prevData chain, and that inverting the ops
 * on the MST built from the frame's blocks alone arrives exactly at prevData.
 */
export class CommitVerifier {
  lastRev: string | null = null
  lastData: string | null = null
  verified = 0

  constructor(private readonly didKey: string) {}

  async verify(body: Record<string, any>): Promise<void> {
    const { root, blocks } = await readCarWithRoot(body.blocks)
    if (!root.equals(body.commit)) throw new Error(`seq ${body.seq}: CAR root is not the commit`)
    const storage = new MemoryBlockstore(blocks)
    const commit = cborToLex(blocks.get(root)!) as unknown as Commit
    if (!(await verifyCommitSig(commit, this.didKey))) throw new Error(`seq ${body.seq}: bad commit signature`)
    if (commit.rev !== body.rev) throw new Error(`seq ${body.seq}: rev mismatch`)
    if (this.lastRev !== null && body.since !== this.lastRev) throw new Error(`seq ${body.seq}: since ${body.since} does not chain onto ${this.lastRev}`)
    if (this.lastData !== null && body.prevData?.toString() !== this.lastData) throw new Error(`seq ${body.seq}: prevData does not chain`)
    if (this.lastRev !== null && !(commit.rev > this.lastRev)) throw new Error(`seq ${body.seq}: rev did not increase`)
    if (body.ops.length > 200 || body.tooBig !== false || body.rebase !== false || body.blobs.length !== 0) throw new Error(`seq ${body.seq}: bad flags`)

    let mst = MST.load(storage, commit.data as Cid)
    for (const op of [...body.ops].reverse()) {
      if (op.action === 'create') {
        if (!(await mst.get(op.path))?.equals(op.cid)) throw new Error(`seq ${body.seq}: created ${op.path} not in tree`)
        mst = await mst.delete(op.path)
      } else if (op.action === 'update') {
        if (!(await mst.get(op.path))?.equals(op.cid)) throw new Error(`seq ${body.seq}: updated ${op.path} not in tree`)
        mst = await mst.update(op.path, op.prev)
      } else if (op.action === 'delete') {
        if (op.cid !== null || !op.prev) throw new Error(`seq ${body.seq}: delete op shape`)
        mst = await mst.add(op.path, op.prev)
      }
    }
    const inverted = (await mst.getPointer()).toString()
    if (inverted !== body.prevData.toString()) throw new Error(`seq ${body.seq}: inverting ops gave ${inverted}, prevData is ${body.prevData}`)
    this.lastRev = commit.rev
    this.lastData = commit.data.toString()
    this.verified++
  }
}

