import { fromHex } from '../lib/hex'

export interface RecentRecord {
  uri: string
  cid: string
  content: Uint8Array
  /** When the record was written here (Unix ms). */
  indexedAt: number
}

/** How many of the account's newest records read-after-write looks at (the reference PDS's limit). */
const LIMIT = 10

/**
 * The account's records written after `rev` (oldest first), for read-after-write.
 * Empty when no record is at or before `rev` either: then the rev is not one of
 * this repo's history as we hold it (an import, a rebuilt AppView) and
 * "newer than" means nothing.
 */
export async function getRecordsSinceRev(d1: D1Database, did: string, rev: string): Promise<RecentRecord[]> {
  const [newer, older] = await d1.batch<{ uri: string; cid: string; content: string; indexed_at: number } | { one: number }>([
    d1
      .prepare(
        `SELECT r.uri, r.cid, hex(b.content) AS content, r.indexed_at FROM record r JOIN repo_block b ON b.did = r.did AND b.cid = r.cid
         WHERE r.did = ?1 AND r.repo_rev > ?2 ORDER BY r.repo_rev ASC LIMIT ${LIMIT}`,
      )
      .bind(did, rev),
    d1.prepare('SELECT 1 AS one FROM record WHERE did = ?1 AND repo_rev <= ?2 LIMIT 1').bind(did, rev),
  ])
  if (!older?.results.length) return []
  return (newer!.results as { uri: string; cid: string; content: string; indexed_at: number }[]).map((r) => ({
    uri: r.uri,
    cid: r.cid,
    content: fromHex(r.content),
    indexedAt: r.indexed_at,
  }))
}

/** The account's current profile record (`app.bsky.actor.profile/self`), if any. */
export async function getProfileRecord(d1: D1Database, did: string): Promise<Uint8Array | null> {
  const row = await d1
    .prepare('SELECT hex(b.content) AS content FROM record r JOIN repo_block b ON b.did = r.did AND b.cid = r.cid WHERE r.uri = ?')
    .bind(`at://${did}/app.bsky.actor.profile/self`)
    .first<{ content: string }>()
  return row ? fromHex(row.content) : null
}
