/** Reads of `repo_block`, the content-addressed blocks of the repo (commits, MST nodes, records). */

/** D1 caps bound parameters per statement at 100. */
const MAX_CIDS_PER_QUERY = 90

export async function getBlock(d1: D1Database, did: string, cid: string): Promise<Uint8Array | null> {
  const row = await d1.prepare('SELECT content FROM repo_block WHERE did = ? AND cid = ?').bind(did, cid).first<{ content: ArrayBuffer | number[] }>()
  return row ? new Uint8Array(row.content) : null
}

/** The blocks found among `cids` (any number of them), by CID string. */
export async function getBlocks(d1: D1Database, did: string, cids: string[]): Promise<Map<string, Uint8Array>> {
  const found = new Map<string, Uint8Array>()
  for (let i = 0; i < cids.length; i += MAX_CIDS_PER_QUERY) {
    const chunk = cids.slice(i, i + MAX_CIDS_PER_QUERY)
    const { results } = await d1
      .prepare(`SELECT cid, content FROM repo_block WHERE did = ? AND cid IN (${chunk.map(() => '?').join(',')})`)
      .bind(did, ...chunk)
      .all<{ cid: string; content: ArrayBuffer | number[] }>()
    for (const row of results) found.set(row.cid, new Uint8Array(row.content))
  }
  return found
}

/**
 * Blocks of a repo in pages, in key order of the index that serves the
 * query: by CID for a full export, by (rev, CID) for the blocks since a rev,
 * so neither scans the blocks it does not return.
 */
export async function* repoBlocks(d1: D1Database, did: string, since?: string, pageSize = 500): AsyncGenerator<{ cid: string; bytes: Uint8Array }> {
  // With `since`, start past every CID of that rev itself (U+10FFFF sorts after any CID).
  let after = { rev: since ?? '', cid: since ? '\u{10FFFF}' : '' }
  for (;;) {
    const { results } = since
      ? await d1
          .prepare(
            `SELECT cid, repo_rev, content FROM repo_block WHERE did = ?1 AND (repo_rev > ?2 OR (repo_rev = ?2 AND cid > ?3))
             ORDER BY repo_rev, cid LIMIT ?4`,
          )
          .bind(did, after.rev, after.cid, pageSize)
          .all<{ cid: string; repo_rev: string; content: ArrayBuffer }>()
      : await d1
          .prepare('SELECT cid, repo_rev, content FROM repo_block WHERE did = ?1 AND cid > ?2 ORDER BY cid LIMIT ?3')
          .bind(did, after.cid, pageSize)
          .all<{ cid: string; repo_rev: string; content: ArrayBuffer }>()
    for (const row of results) yield { cid: row.cid, bytes: new Uint8Array(row.content) }
    if (results.length < pageSize) return
    const last = results.at(-1)!
    after = { rev: last.repo_rev, cid: last.cid }
  }
}
