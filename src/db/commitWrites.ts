/**
 * The SQL of one commit, as statements for a single D1 batch. Rows travel as
 * one JSON parameter per table (json_each), so a commit costs a fixed number
 * of statements however many blocks or records it touches, and D1's
 * 100-parameter limit never splits it.
 */

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
  blobRefs: { uri: string; blobCid: string }[]
  event: { seq: number; type: string; frame: Uint8Array; time: number }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))
const hex = (bytes: Uint8Array) => {
  let out = ''
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!]
  return out
}

export function commitStatements(d1: D1Database, c: CommitRows): D1PreparedStatement[] {
  const now = Date.now()
  const touchedUris = [...c.upserts.map((u) => u.uri), ...c.deletes]
  const stmts: D1PreparedStatement[] = []
  if (c.blocks.length > 0) {
    stmts.push(
      d1
        .prepare(
          `INSERT INTO repo_block (did, cid, repo_rev, size, content)
           SELECT ?1, json_extract(value, '$[0]'), ?2, json_extract(value, '$[1]'), unhex(json_extract(value, '$[2]'))
           FROM json_each(?3) WHERE true
           ON CONFLICT (did, cid) DO UPDATE SET repo_rev = excluded.repo_rev`,
        )
        .bind(c.did, c.rev, JSON.stringify(c.blocks.map(([cid, bytes]) => [cid, bytes.byteLength, hex(bytes)]))),
    )
  }
  if (c.deletes.length > 0) {
    stmts.push(d1.prepare('DELETE FROM record WHERE uri IN (SELECT value FROM json_each(?1))').bind(JSON.stringify(c.deletes)))
  }
  if (c.upserts.length > 0) {
    stmts.push(
      d1
        .prepare(
          `INSERT INTO record (uri, did, collection, rkey, cid, repo_rev, indexed_at)
           SELECT json_extract(value, '$.uri'), ?1, json_extract(value, '$.collection'), json_extract(value, '$.rkey'), json_extract(value, '$.cid'), ?2, ?3
           FROM json_each(?4) WHERE true
           ON CONFLICT (uri) DO UPDATE SET cid = excluded.cid, repo_rev = excluded.repo_rev, indexed_at = excluded.indexed_at`,
        )
        .bind(c.did, c.rev, now, JSON.stringify(c.upserts)),
    )
  }
  if (touchedUris.length > 0) {
    // An update or delete drops the record's old blob references; creates and updates add theirs below.
    stmts.push(d1.prepare('DELETE FROM record_blob WHERE record_uri IN (SELECT value FROM json_each(?1))').bind(JSON.stringify(touchedUris)))
  }
  if (c.blobRefs.length > 0) {
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
        .bind(c.did, JSON.stringify(c.blobRefs)),
    )
  }
  if (c.removedCids.length > 0) {
    // Two records may share content (one CID): keep a block some record still points at.
    stmts.push(
      d1
        .prepare(
          `DELETE FROM repo_block WHERE did = ?1 AND cid IN (SELECT value FROM json_each(?2))
           AND cid NOT IN (SELECT cid FROM record WHERE did = ?1)`,
        )
        .bind(c.did, JSON.stringify(c.removedCids)),
    )
  }
  stmts.push(
    d1
      .prepare(
        `INSERT INTO repo_root (did, cid, rev, data_cid, indexed_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (did) DO UPDATE SET cid = excluded.cid, rev = excluded.rev, data_cid = excluded.data_cid, indexed_at = excluded.indexed_at`,
      )
      .bind(c.did, c.cid, c.rev, c.dataCid, now),
  )
  // seq is the primary key: a second writer minting the same seq fails the whole batch.
  stmts.push(eventStatement(d1, c.did, c.event))
  return stmts
}

export function eventStatement(d1: D1Database, did: string, e: CommitRows['event']): D1PreparedStatement {
  return d1.prepare('INSERT INTO repo_event (seq, did, type, frame, sequenced_at) VALUES (?, ?, ?, ?, ?)').bind(e.seq, did, e.type, e.frame, e.time)
}
