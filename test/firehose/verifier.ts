import { cborToLex, MemoryBlockstore, MST, readCarWithRoot, verifyCommitSig, type Commit } from '@atproto/repo'
import type { Cid } from '@atproto/lex-data'

/**
 * What a strict (sync 1.1) relay checks of each #commit: the signature against
 * the DID document key, the since/prevData chain, and that inverting the ops
 * on the MST built from the frame's blocks alone arrives exactly at prevData.
 * Every #commit must chain onto what came before it: a #sync (or #commit)
 * seen in the same stream, or one the test anchors on explicitly when the
 * stream starts mid-chain. A #commit with nothing to chain onto fails.
 */
export class CommitVerifier {
  lastRev: string | null = null
  lastData: string | null = null
  verified = 0
  synced = 0

  constructor(private readonly didKey: string) {}

  /** One frame of a stream, in order: #sync anchors the chain, #commit must chain onto it, others pass. */
  async frame(f: { header: { t?: string }; body: Record<string, any> }): Promise<void> {
    if (f.header.t === '#commit') await this.verify(f.body)
    else if (f.header.t === '#sync') await this.sync(f.body)
  }

  /** A #sync: a signed commit the next #commit must chain onto (its rev never goes back). */
  async sync(body: Record<string, any>): Promise<void> {
    const commit = await this.#signedCommit(body)
    if (this.lastRev !== null && commit.rev < this.lastRev) throw new Error(`seq ${body.seq}: #sync rev ${commit.rev} is before ${this.lastRev}`)
    this.lastRev = commit.rev
    this.lastData = commit.data.toString()
    this.synced++
  }

  /**
   * For a stream joined mid-chain: the #commit or #sync event just before it
   * (e.g. read from the event log), whose signed commit the stream must chain onto.
   */
  async anchorOn(body: Record<string, any>): Promise<void> {
    const commit = await this.#signedCommit(body)
    this.lastRev = commit.rev
    this.lastData = commit.data.toString()
  }

  async #signedCommit(body: Record<string, any>): Promise<Commit> {
    const { root, blocks } = await readCarWithRoot(body.blocks)
    if (body.commit !== undefined && !root.equals(body.commit)) throw new Error(`seq ${body.seq}: CAR root is not the commit`)
    const commit = cborToLex(blocks.get(root)!) as unknown as Commit
    if (!(await verifyCommitSig(commit, this.didKey))) throw new Error(`seq ${body.seq}: bad commit signature`)
    if (commit.rev !== body.rev) throw new Error(`seq ${body.seq}: rev mismatch`)
    return commit
  }

  async verify(body: Record<string, any>): Promise<void> {
    if (this.lastRev === null || this.lastData === null) throw new Error(`seq ${body.seq}: #commit with nothing to chain onto (no #sync or #commit before it)`)
    const { root, blocks } = await readCarWithRoot(body.blocks)
    if (!root.equals(body.commit)) throw new Error(`seq ${body.seq}: CAR root is not the commit`)
    const storage = new MemoryBlockstore(blocks)
    const commit = cborToLex(blocks.get(root)!) as unknown as Commit
    if (!(await verifyCommitSig(commit, this.didKey))) throw new Error(`seq ${body.seq}: bad commit signature`)
    if (commit.rev !== body.rev) throw new Error(`seq ${body.seq}: rev mismatch`)
    if (body.since !== this.lastRev) throw new Error(`seq ${body.seq}: since ${body.since} does not chain onto ${this.lastRev}`)
    if (body.prevData?.toString() !== this.lastData) throw new Error(`seq ${body.seq}: prevData does not chain`)
    if (!(commit.rev > this.lastRev)) throw new Error(`seq ${body.seq}: rev did not increase`)
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

