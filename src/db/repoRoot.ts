import { fromHex } from '../lib/hex'
import { ACCOUNT_DEFAULTS } from './accounts'

export interface RepoRoot {
  did: string
  cid: string
  rev: string
}

export async function getRepoRoot(d1: D1Database, did: string): Promise<RepoRoot | null> {
  return d1.prepare('SELECT did, cid, rev FROM repo_root WHERE did = ?').bind(did).first<RepoRoot>()
}

export async function listRepoRoots(d1: D1Database, opts: { limit: number; cursor?: string }): Promise<RepoRoot[]> {
  const { results } = await d1
    .prepare('SELECT did, cid, rev FROM repo_root WHERE did > ? ORDER BY did LIMIT ?')
    .bind(opts.cursor ?? '', opts.limit)
    .all<RepoRoot>()
  return results
}

/** What the actor's next commit builds on: the head (null before the repo exists), the last seq, and whether writes are allowed. */
export interface HeadState {
  root: { cid: string; rev: string; dataCid: string } | null
  seq: number
  active: boolean
  /**
   * The commit, the MST root, and the live MST nodes the latest commits wrote
   * (at most RECENT_NODES): the paths to the keys written last, in each
   * collection written lately. New record keys are TIDs, so the next write
   * usually walks one of those paths (the newest post's, the newest like's),
   * and a cold actor's first write would otherwise fetch it one query per level.
   */
  blocks: { cid: string; bytes: Uint8Array }[]
}

/**
 * Live MST nodes from the newest blocks: a few paths' worth (a path is one node
 * per level, about five at 10k records). They are found among the newest
 * RECENT_SCAN blocks, so the rows read stay bounded however the repo was
 * written (an import writes every block under one rev).
 */
const RECENT_NODES = 128
const RECENT_SCAN = 512

/** Head, last firehose seq, account status and the head's blocks (see HeadState), read in one round trip. */
export async function getHeadState(d1: D1Database, did: string): Promise<HeadState> {
  const [root, last, account, blocks] = await d1.batch([
    d1.prepare('SELECT cid, rev, data_cid AS dataCid FROM repo_root WHERE did = ?').bind(did),
    d1.prepare('SELECT MAX(seq) AS seq FROM repo_event'),
    d1.prepare('SELECT active FROM account WHERE did = ?').bind(did),
    d1
      .prepare(
        // A live block no record points at is the commit or an MST node (record_cid_idx answers that).
        `SELECT b.cid, hex(b.content) AS content FROM repo_root r JOIN repo_block b ON b.did = r.did AND b.cid IN (r.cid, r.data_cid) WHERE r.did = ?1
         UNION
         SELECT * FROM (
           SELECT b.cid, hex(b.content) AS content
           FROM (SELECT cid, content, removed_at FROM repo_block WHERE did = ?1 ORDER BY repo_rev DESC LIMIT ?3) b
           WHERE b.removed_at IS NULL AND NOT EXISTS (SELECT 1 FROM record r WHERE r.did = ?1 AND r.cid = b.cid)
           LIMIT ?2)`,
      )
      .bind(did, RECENT_NODES, RECENT_SCAN),
  ])
  const row = root!.results[0] as HeadState['root'] | undefined
  const seq = (last!.results[0] as { seq: number | null } | undefined)?.seq ?? 0
  const active = (account!.results[0] as { active: number } | undefined)?.active
  return {
    root: row ?? null,
    seq,
    active: active === undefined ? ACCOUNT_DEFAULTS.active : Boolean(active),
    blocks: (blocks!.results as { cid: string; content: string }[]).map((b) => ({ cid: b.cid, bytes: fromHex(b.content) })),
  }
}
