/**
 * The SQL of a group of consecutive commits, as statements for one D1 batch.
 *
 * The group is folded into its net effect first (a block added by one commit
 * and dropped by the next is never written; a record created then deleted is
 * only deleted). Bytes go in as hex parameters that `unhex()` stores as
 * BLOBs (src/lib/hex.ts says why), many rows per statement; small rows
 * travel as JSON parameters (json_each). So a group costs a handful of
 * statements however many commits it holds, and D1's 100-parameter and
 * per-invocation query limits are never approached.
 */
import { toHex } from '../lib/hex'
import { eventStatements, type EventRow } from './events'
import { chunks, MAX_PARAMS } from './statements'

export interface CommitRows {
  did: string
  cid: string
  rev: string
  dataCid: string
  /** [cid, bytes] of every new block. */
  blocks: [string, Uint8Array][]
  /** CIDs the commit made unreachable (old MST nodes, old commit, replaced records). */
  removedCids: string[]
  upserts: { uri: string; collection: string; rkey: string; cid: string }[]
  deletes: string[]
  /** URIs of the upserts that replaced a stored record (updates): their old blob references go. */
  replaced: string[]
  blobRefs: { uri: string; blobCid: string }[]
  event: EventRow
}

type RecordRow = CommitRows['upserts'][number] & { rev: string; blobs: string[] }

export function commitStatements(d1: D1Database, group: CommitRows[]): D1PreparedStatement[] {
  if (group.length === 0) return []
  const did = group[0]!.did
  const last = group.at(-1)!

  // Net effect of the group, commit by commit in order.
  const blocks = new Map<string, { rev: string; bytes: Uint8Array } | null>()
  const records = new Map<string, RecordRow | null>()
  /** Records whose stored blob references may be stale: deleted or updated. A create has none. */
  const dropRefs = new Set<string>()
  for (const c of group) {
    for (const uri of [...c.deletes, ...c.replaced]) dropRefs.add(uri)
    for (const cid of c.removedCids) blocks.set(cid, null)
    for (const [cid, bytes] of c.blocks) blocks.set(cid, { rev: c.rev, bytes })
    for (const uri of c.deletes) records.set(uri, null)
    for (const u of c.upserts) records.set(u.uri, { ...u, rev: c.rev, blobs: [] })
    for (const ref of c.blobRefs) records.get(ref.uri)?.blobs.push(ref.blobCid)
  }
  const added = [...blocks].flatMap(([cid, b]) => (b ? [{ cid, ...b }] : []))
  const removed = [...blocks].flatMap(([cid, b]) => (b ? [] : [cid]))
  const upserts = [...records.values()].filter((r): r is RecordRow => r !== null)
  const deletes = [...records].flatMap(([uri, r]) => (r ? [] : [uri]))

  const stmts: D1PreparedStatement[] = []
  stmts.push(...blockInserts(d1, did, added))
  if (deletes.length > 0) {
    stmts.push(d1.prepare('DELETE FROM record WHERE uri IN (SELECT value FROM json_each(?1))').bind(JSON.stringify(deletes)))
  }
  stmts.push(...recordInserts(d1, did, upserts.map(({ blobs: _, ...r }) => r)))
  if (dropRefs.size > 0) {
    // An update or delete drops the record's old blob references; the final writes add theirs below.
    stmts.push(d1.prepare('DELETE FROM record_blob WHERE record_uri IN (SELECT value FROM json_each(?1))').bind(JSON.stringify([...dropRefs])))
  }
  const blobRefs = upserts.flatMap((r) => r.blobs.map((blobCid) => ({ uri: r.uri, blobCid })))
  if (blobRefs.length > 0) {
    stmts.push(
      d1
        .prepare(
          // The blob CID is re-read from `blob`: if GC deleted it after the actor's check,
          // the NOT NULL column fails the whole batch instead of leaving a dangling reference.
          `INSERT INTO record_blob (did, blob_cid, record_uri)
           SELECT ?1, (SELECT cid FROM blob WHERE did = ?1 AND cid = json_extract(value, '$.blobCid')), json_extract(value, '$.uri')
           FROM json_each(?2) WHERE true
           ON CONFLICT DO NOTHING`,
        )
        .bind(did, JSON.stringify(blobRefs)),
    )
  }
  if (removed.length > 0) {
    // Marked, not deleted: an export of an older commit may still be reading it (pruneRemovedBlocks).
    // Two records may share content (one CID): keep a block some record still points at.
    // `+removed_at` keeps SQLite on the primary key (see blocks.ts), not a scan of every live block.
    stmts.push(
      d1
        .prepare(
          `UPDATE repo_block SET removed_at = ?3 WHERE did = ?1 AND cid IN (SELECT value FROM json_each(?2)) AND +removed_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM record r WHERE r.did = ?1 AND r.cid = repo_block.cid)`,
        )
        .bind(did, JSON.stringify(removed), Date.now()),
    )
  }
  stmts.push(rootUpsert(d1, did, last))
  stmts.push(...eventStatements(d1, did, group.map((c) => c.event)))
  return stmts
}

/** Moves the head. */
export function rootUpsert(d1: D1Database, did: string, head: { cid: string; rev: string; dataCid: string }): D1PreparedStatement {
  return d1
    .prepare(
      `INSERT INTO repo_root (did, cid, rev, data_cid, indexed_at) VALUES (?1, ?2, ?3, ?4, ?5)
       ON CONFLICT (did) DO UPDATE SET cid = excluded.cid, rev = excluded.rev, data_cid = excluded.data_cid, indexed_at = excluded.indexed_at`,
    )
    .bind(did, head.cid, head.rev, head.dataCid, Date.now())
}

/**
 * Inserts blocks, many rows per statement with the bytes bound as hex. A
 * block already stored takes the new rev (and is live again), unless `keepExisting` (import staging).
 */
export function blockInserts(d1: D1Database, did: string, blocks: { cid: string; rev: string; bytes: Uint8Array }[], keepExisting = false): D1PreparedStatement[] {
  const onConflict = keepExisting ? 'DO NOTHING' : 'DO UPDATE SET repo_rev = excluded.repo_rev, removed_at = NULL'
  return chunks(blocks, (b) => 2 * b.bytes.byteLength, Math.floor((MAX_PARAMS - 1) / 3)).map((rows) =>
    d1
      .prepare(
        `INSERT INTO repo_block (did, cid, repo_rev, content, size) VALUES ${rows.map((_, i) => `(?1, ?${i * 3 + 2}, ?${i * 3 + 3}, unhex(?${i * 3 + 4}), length(?${i * 3 + 4}) / 2)`).join(', ')}
         ON CONFLICT (did, cid) ${onConflict}`,
      )
      .bind(did, ...rows.flatMap((b) => [b.cid, b.rev, toHex(b.bytes)])),
  )
}

/** Record index rows, as JSON parameters. */
export function recordInserts(d1: D1Database, did: string, rows: { uri: string; collection: string; rkey: string; cid: string; rev: string }[]): D1PreparedStatement[] {
  const now = Date.now()
  return chunks(rows, (r) => r.uri.length + 120).map((chunk) =>
    d1
      .prepare(
        `INSERT INTO record (uri, did, collection, rkey, cid, repo_rev, indexed_at)
         SELECT json_extract(value, '$.uri'), ?1, json_extract(value, '$.collection'), json_extract(value, '$.rkey'), json_extract(value, '$.cid'), json_extract(value, '$.rev'), ?2
         FROM json_each(?3) WHERE true
         ON CONFLICT (uri) DO UPDATE SET cid = excluded.cid, repo_rev = excluded.repo_rev, indexed_at = excluded.indexed_at`,
      )
      .bind(did, now, JSON.stringify(chunk)),
  )
}
