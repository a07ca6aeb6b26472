export interface StoredRecord {
  uri: string
  cid: string
  content: Uint8Array
}

export async function getRecord(d1: D1Database, uri: string): Promise<StoredRecord | null> {
  const row = await d1
    .prepare('SELECT r.uri, r.cid, b.content FROM record r JOIN repo_block b ON b.did = r.did AND b.cid = r.cid WHERE r.uri = ?')
    .bind(uri)
    .first<{ uri: string; cid: string; content: ArrayBuffer }>()
  return row ? { uri: row.uri, cid: row.cid, content: new Uint8Array(row.content) } : null
}

/** Newest rkey first by default (TIDs sort by time), as the reference PDS. */
export async function listRecords(d1: D1Database, did: string, collection: string, opts: { limit: number; cursor?: string; reverse: boolean }): Promise<StoredRecord[]> {
  const order = opts.reverse ? 'ASC' : 'DESC'
  const cmp = opts.reverse ? '>' : '<'
  const cursorClause = opts.cursor !== undefined ? `AND r.rkey ${cmp} ?4` : ''
  const { results } = await d1
    .prepare(
      `SELECT r.uri, r.cid, b.content FROM record r JOIN repo_block b ON b.did = r.did AND b.cid = r.cid
       WHERE r.did = ?1 AND r.collection = ?2 ${cursorClause} ORDER BY r.rkey ${order} LIMIT ?3`,
    )
    .bind(...[did, collection, opts.limit, ...(opts.cursor !== undefined ? [opts.cursor] : [])])
    .all<{ uri: string; cid: string; content: ArrayBuffer }>()
  return results.map((r) => ({ uri: r.uri, cid: r.cid, content: new Uint8Array(r.content) }))
}

export async function listCollections(d1: D1Database, did: string): Promise<string[]> {
  const { results } = await d1.prepare('SELECT DISTINCT collection FROM record WHERE did = ? ORDER BY collection').bind(did).all<{ collection: string }>()
  return results.map((r) => r.collection)
}
