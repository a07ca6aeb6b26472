import { fromHex } from '../lib/hex'
import type { D1Reader } from './readReplica'

export interface StoredRecord {
  uri: string
  cid: string
  content: Uint8Array
}

/** A record row with its content, which crosses D1 as hex (src/lib/hex.ts). */
const WITH_CONTENT = 'SELECT r.uri, r.cid, hex(b.content) AS content FROM record r JOIN repo_block b ON b.did = r.did AND b.cid = r.cid'
type Row = { uri: string; cid: string; content: string }
const stored = (row: Row): StoredRecord => ({ uri: row.uri, cid: row.cid, content: fromHex(row.content) })

export async function getRecord(d1: D1Reader, uri: string): Promise<StoredRecord | null> {
  const row = await d1
    .prepare(`${WITH_CONTENT} WHERE r.uri = ?`)
    .bind(uri)
    .first<Row>()
  return row ? stored(row) : null
}

/**
 * A record of the account whose current handle is `handle`, in the same one
 * query: null when there is no such record or the handle is not the account's.
 */
export async function getRecordByHandle(d1: D1Reader, did: string, handle: string, uri: string): Promise<StoredRecord | null> {
  const row = await d1
    .prepare(
      `${WITH_CONTENT}
       WHERE r.uri = ?1 AND EXISTS (SELECT 1 FROM account a WHERE a.did = ?2 AND a.handle = ?3)`,
    )
    .bind(uri, did, handle)
    .first<Row>()
  return row ? stored(row) : null
}

/**
 * Newest rkey first by default (TIDs sort by time), as the reference PDS.
 * With `handle`, rows come back only while the account holds that handle:
 * the handle check rides in the same query.
 */
export async function listRecords(d1: D1Reader, did: string, collection: string, opts: { limit: number; cursor?: string; reverse: boolean; handle?: string }): Promise<StoredRecord[]> {
  const order = opts.reverse ? 'ASC' : 'DESC'
  const cmp = opts.reverse ? '>' : '<'
  const cursorClause = opts.cursor !== undefined ? `AND r.rkey ${cmp} ?4` : ''
  const handleClause = opts.handle !== undefined ? 'AND EXISTS (SELECT 1 FROM account a WHERE a.did = ?1 AND a.handle = ?5)' : ''
  const { results } = await d1
    .prepare(
      `${WITH_CONTENT}
       WHERE r.did = ?1 AND r.collection = ?2 ${cursorClause} ${handleClause} ORDER BY r.rkey ${order} LIMIT ?3`,
    )
    // Exactly as many values as the highest parameter used (?4 may be unused when ?5 is).
    .bind(...[did, collection, opts.limit, opts.cursor ?? null, opts.handle ?? null].slice(0, opts.handle !== undefined ? 5 : opts.cursor !== undefined ? 4 : 3))
    .all<Row>()
  return results.map(stored)
}

/**
 * The repo's collections, one index probe per collection (a loose index scan
 * over record_collection_idx) rather than a DISTINCT over every record.
 */
const COLLECTIONS_SQL = `WITH RECURSIVE c(name) AS (
    SELECT (SELECT collection FROM record WHERE did = ?1 ORDER BY collection LIMIT 1)
    UNION ALL
    SELECT (SELECT collection FROM record WHERE did = ?1 AND collection > c.name ORDER BY collection LIMIT 1) FROM c WHERE c.name IS NOT NULL
  ) SELECT name AS collection FROM c WHERE name IS NOT NULL`

export async function listCollections(d1: D1Reader, did: string): Promise<string[]> {
  const { results } = await d1.prepare(COLLECTIONS_SQL).bind(did).all<{ collection: string }>()
  return results.map((r) => r.collection)
}

/** What describeRepo needs, in one round trip: the stored handle (null before the account row exists) and the collections. */
export async function repoDescription(d1: D1Reader, did: string): Promise<{ handle: string | null; collections: string[] }> {
  const [account, collections] = await d1.batch([d1.prepare('SELECT handle FROM account WHERE did = ?').bind(did), d1.prepare(COLLECTIONS_SQL).bind(did)])
  return {
    handle: (account!.results[0] as { handle: string } | undefined)?.handle ?? null,
    collections: (collections!.results as { collection: string }[]).map((r) => r.collection),
  }
}
