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
