/** Reads of `repo_block`, the content-addressed blocks of the repo (commits, MST nodes, records). */
import { fromHex } from '../lib/hex'

/**
 * CIDs per query. They travel as one JSON-array parameter (json_each), so D1's
 * 100-parameter cap does not apply; this bounds the answer's size instead
 * (a thousand records or MST nodes is well under a megabyte).
 */
export const MAX_CIDS_PER_QUERY = 1000

/**
 * Reads see the repo's live blocks; `removed: true` also those a commit made
 * unreachable and the alarm has not pruned yet (an export's snapshot).
 */
export interface BlockReadOptions {
  removed?: boolean
}

// `+removed_at`: with a plain `removed_at IS NULL` SQLite prefers the (did, removed_at) index for
// `cid IN (…)` and reads every live block of the repo; the unary + leaves it the primary key.
const live = (opts?: BlockReadOptions) => (opts?.removed ? '' : ' AND +removed_at IS NULL')

export async function getBlock(d1: D1Database, did: string, cid: string, opts?: BlockReadOptions): Promise<Uint8Array | null> {
  const row = await d1.prepare(`SELECT hex(content) AS content FROM repo_block WHERE did = ? AND cid = ?${live(opts)}`).bind(did, cid).first<{ content: string }>()
  return row ? fromHex(row.content) : null
}

/** The blocks found among `cids` (any number of them), by CID string. */
export async function getBlocks(d1: D1Database, did: string, cids: string[], opts?: BlockReadOptions): Promise<Map<string, Uint8Array>> {
  const found = new Map<string, Uint8Array>()
  for (let i = 0; i < cids.length; i += MAX_CIDS_PER_QUERY) {
    const chunk = cids.slice(i, i + MAX_CIDS_PER_QUERY)
    const { results } = await d1
      .prepare(`SELECT cid, hex(content) AS content FROM repo_block WHERE did = ?1 AND cid IN (SELECT value FROM json_each(?2))${live(opts)}`)
      .bind(did, JSON.stringify(chunk))
      .all<{ cid: string; content: string }>()
    for (const row of results) found.set(row.cid, fromHex(row.content))
  }
  return found
}

/**
 * The blocks written after rev `since` that were still live at `asOf` (when
 * the export began), in pages in (rev, CID) order, the key order of the index
 * that serves it. Blocks of commits landing meanwhile may be included: they
 * are harmless extras, where a missing block would not be.
 */
export async function* blocksSince(d1: D1Database, did: string, since: string, asOf: number, pageSize = 500): AsyncGenerator<{ cid: string; bytes: Uint8Array }> {
  // Start past every CID of that rev itself (U+10FFFF sorts after any CID).
  let after = { rev: since, cid: '\u{10FFFF}' }
  for (;;) {
    const { results } = await d1
      .prepare(
        `SELECT cid, repo_rev, hex(content) AS content FROM repo_block
         WHERE did = ?1 AND (repo_rev > ?2 OR (repo_rev = ?2 AND cid > ?3)) AND (removed_at IS NULL OR removed_at >= ?5)
         ORDER BY repo_rev, cid LIMIT ?4`,
      )
      .bind(did, after.rev, after.cid, pageSize, asOf)
      .all<{ cid: string; repo_rev: string; content: string }>()
    for (const row of results) yield { cid: row.cid, bytes: fromHex(row.content) }
    if (results.length < pageSize) return
    const last = results.at(-1)!
    after = { rev: last.repo_rev, cid: last.cid }
  }
}

/** Deletes blocks that became unreachable before `before`; returns how many. */
export async function pruneRemovedBlocks(d1: D1Database, did: string, before: number): Promise<number> {
  const res = await d1.prepare('DELETE FROM repo_block WHERE did = ? AND removed_at < ?').bind(did, before).run()
  return res.meta.changes ?? 0
}
