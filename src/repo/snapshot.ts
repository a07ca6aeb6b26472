import { cborToLex } from '@atproto/repo'
import { getBlock, getBlocks, MAX_CIDS_PER_QUERY } from '../db/blocks'

/**
 * How long a block stays readable after a commit made it unreachable: an
 * export (getRepo) that started from an older commit has this long to finish.
 */
export const SNAPSHOT_LIFETIME_MS = 60 * 60 * 1000

/** Blocks fetched per D1 query. */
const CHUNK = MAX_CIDS_PER_QUERY

export class SnapshotGoneError extends Error {
  name = 'SnapshotGoneError'
}

interface MstNode {
  l: unknown | null
  e: { v: unknown; t: unknown | null }[]
}

/**
 * Every block of the repo as of commit `commitCid`: the commit, then its MST
 * walked depth first, each node's records with it. Commits landing meanwhile
 * do not disturb it, since unreachable blocks are kept a while
 * (SNAPSHOT_LIFETIME_MS). Memory holds only the CIDs still to visit along the
 * current path (a few thousand at most), never the repo: node and record bytes are
 * yielded as fetched, CHUNK per query.
 */
export async function* snapshotBlocks(d1: D1Database, did: string, commitCid: string): AsyncGenerator<{ cid: string; bytes: Uint8Array }> {
  const commit = await getBlock(d1, did, commitCid, { removed: true })
  if (!commit) throw new SnapshotGoneError(`commit ${commitCid} is no longer stored; retry the export`)
  yield { cid: commitCid, bytes: commit }
  const stack: string[][] = [[String((cborToLex(commit) as { data: unknown }).data)]]
  while (stack.length > 0) {
    const top = stack.at(-1)!
    const chunk = top.splice(0, CHUNK)
    if (top.length === 0) stack.pop()
    const children: string[] = []
    const records = new Set<string>()
    for (const { cid, bytes } of await fetchAll(d1, did, chunk)) {
      yield { cid, bytes }
      const node = cborToLex(bytes) as unknown as MstNode
      if (node.l) children.push(String(node.l))
      for (const entry of node.e) {
        records.add(String(entry.v))
        if (entry.t) children.push(String(entry.t))
      }
    }
    const leaves = [...records]
    for (let i = 0; i < leaves.length; i += CHUNK) yield* await fetchAll(d1, did, leaves.slice(i, i + CHUNK))
    if (children.length > 0) stack.push(children)
  }
}

async function fetchAll(d1: D1Database, did: string, cids: string[]): Promise<{ cid: string; bytes: Uint8Array }[]> {
  const found = await getBlocks(d1, did, cids, { removed: true })
  return cids.map((cid) => {
    const bytes = found.get(cid)
    if (!bytes) throw new SnapshotGoneError(`block ${cid} is no longer stored; the export outlived its snapshot, retry it`)
    return { cid, bytes }
  })
}
