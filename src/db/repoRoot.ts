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

/** Blocks of a repo in pages (by CID), optionally only those written after `since`. */
export async function* repoBlocks(d1: D1Database, did: string, since?: string, pageSize = 500): AsyncGenerator<{ cid: string; bytes: Uint8Array }> {
  let after = ''
  for (;;) {
    const { results } = await d1
      .prepare(`SELECT cid, content FROM repo_block WHERE did = ?1 AND cid > ?2 ${since ? 'AND repo_rev > ?4' : ''} ORDER BY cid LIMIT ?3`)
      .bind(...[did, after, pageSize, ...(since ? [since] : [])])
      .all<{ cid: string; content: ArrayBuffer }>()
    for (const row of results) yield { cid: row.cid, bytes: new Uint8Array(row.content) }
    if (results.length < pageSize) return
    after = results.at(-1)!.cid
  }
}
