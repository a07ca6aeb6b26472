import { BlockMap, ReadableBlockstore, type CommitData, type RepoStorage } from '@atproto/repo'
import type { Cid } from '@atproto/lex-data'
import { getBlock, getBlocks } from '../db/blocks'
import { storedCid } from '../lib/cid'

/**
 * Read-only block access over D1's `repo_block` for one repo, with overlays
 * of blocks not yet in D1 (`pending`: the commits of a group being built;
 * `below`: those of the group in flight under it, read where they are, not
 * copied) and a cache. Blocks are content-addressed and immutable, so caching them
 * can never show state ahead of storage: only the head pointer can, and that
 * is not held here.
 */
export class D1Blockstore extends ReadableBlockstore implements RepoStorage {
  readonly pending = new BlockMap()

  constructor(
    private readonly d1: D1Database,
    private readonly did: string,
    private readonly cache?: BlockCache,
    private readonly below?: BlockMap,
  ) {
    super()
  }

  #local(cid: Cid): Uint8Array | undefined {
    return this.pending.get(cid) ?? this.below?.get(cid) ?? this.cache?.get(cid.toString())
  }

  async getBytes(cid: Cid): Promise<Uint8Array | null> {
    const local = this.#local(cid)
    if (local) return local
    const bytes = await getBlock(this.d1, this.did, cid.toString())
    if (bytes) this.cache?.set(cid.toString(), bytes)
    return bytes
  }

  async has(cid: Cid): Promise<boolean> {
    return (await this.getBytes(cid)) !== null
  }

  async getBlocks(cids: Cid[]): Promise<{ blocks: BlockMap; missing: Cid[] }> {
    const blocks = new BlockMap()
    const toFetch: Cid[] = []
    for (const cid of cids) {
      const local = this.#local(cid)
      if (local) blocks.set(cid, local)
      else toFetch.push(cid)
    }
    for (const [cid, bytes] of await getBlocks(this.d1, this.did, toFetch.map((c) => c.toString()))) {
      this.cache?.set(cid, bytes)
      blocks.set(storedCid(cid), bytes)
    }
    const missing = cids.filter((cid) => !blocks.has(cid))
    return { blocks, missing }
  }

  // Writes go through the actor's commit batch, never through this store.
  async getRoot(): Promise<Cid | null> {
    throw new Error('D1Blockstore is read-only: the head lives in repo_root')
  }
  async putBlock(): Promise<void> {
    throw new Error('D1Blockstore is read-only')
  }
  async putMany(): Promise<void> {
    throw new Error('D1Blockstore is read-only')
  }
  async updateRoot(): Promise<void> {
    throw new Error('D1Blockstore is read-only')
  }
  async applyCommit(_commit: CommitData): Promise<void> {
    throw new Error('D1Blockstore is read-only')
  }
}

/** A bounded LRU of immutable blocks, by CID string. */
export class BlockCache {
  #map = new Map<string, Uint8Array>()
  #bytes = 0

  constructor(private readonly maxBytes = 32 * 1024 * 1024) {}

  /** For operators (npm run inspect). */
  get size(): { entries: number; bytes: number; maxBytes: number } {
    return { entries: this.#map.size, bytes: this.#bytes, maxBytes: this.maxBytes }
  }

  get(cid: string): Uint8Array | undefined {
    const hit = this.#map.get(cid)
    if (hit) {
      this.#map.delete(cid)
      this.#map.set(cid, hit)
    }
    return hit
  }

  set(cid: string, bytes: Uint8Array): void {
    if (this.#map.has(cid)) return
    this.#map.set(cid, bytes)
    this.#bytes += bytes.byteLength
    while (this.#bytes > this.maxBytes) {
      const oldest = this.#map.keys().next().value as string
      this.#bytes -= this.#map.get(oldest)!.byteLength
      this.#map.delete(oldest)
    }
  }
}
