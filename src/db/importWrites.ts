import { blockInserts, recordInserts, rootUpsert } from './commitWrites'
import { chunks } from './statements'

/**
 * Importing a repo (account migration) in two steps, because a whole repo
 * does not fit one D1 batch:
 *
 * 1. staging (the Worker): the imported blocks are inserted under a marker
 *    rev, never touching a block already stored, so a refused or failed
 *    import changes nothing readable and its leftovers are found by marker;
 * 2. the switch (the actor, one batch): every block of the new repo takes
 *    the new rev, every other block goes, the record index and blob
 *    references are rebuilt, and the head moves, atomically.
 */

export const STAGE_STATEMENTS_PER_BATCH = 50

export function stagingBatches(d1: D1Database, did: string, marker: string, blocks: { cid: string; bytes: Uint8Array }[]): D1PreparedStatement[][] {
  const stmts = blockInserts(d1, did, blocks.map((b) => ({ ...b, rev: marker })), true)
  return chunks(stmts, () => 1, STAGE_STATEMENTS_PER_BATCH)
}

export function dropStaged(d1: D1Database, did: string, marker: string): D1PreparedStatement {
  return d1.prepare('DELETE FROM repo_block WHERE did = ? AND repo_rev = ?').bind(did, marker)
}

export interface ImportSwitch {
  commit: { cid: string; rev: string; bytes: Uint8Array }
  dataCid: string
  /** Every block CID of the new repo (MST nodes and records), staged or already stored. */
  blockCids: string[]
  records: { uri: string; collection: string; rkey: string; cid: string }[]
  blobRefs: { uri: string; blobCid: string }[]
}

export function importSwitchStatements(d1: D1Database, did: string, s: ImportSwitch): D1PreparedStatement[] {
  const rev = s.commit.rev
  return [
    ...blockInserts(d1, did, [{ cid: s.commit.cid, rev, bytes: s.commit.bytes }]),
    ...chunks(s.blockCids, (cid) => cid.length + 4).map((cids) =>
      d1.prepare('UPDATE repo_block SET repo_rev = ?1, removed_at = NULL WHERE did = ?2 AND cid IN (SELECT value FROM json_each(?3))').bind(rev, did, JSON.stringify(cids)),
    ),
    d1.prepare('DELETE FROM repo_block WHERE did = ? AND repo_rev != ?').bind(did, rev),
    d1.prepare('DELETE FROM record WHERE did = ?').bind(did),
    ...recordInserts(d1, did, s.records.map((r) => ({ ...r, rev }))),
    d1.prepare('DELETE FROM record_blob WHERE did = ?').bind(did),
    // Imported references usually point at blobs not uploaded yet: listMissingBlobs reports them.
    ...chunks(s.blobRefs, (r) => r.uri.length + r.blobCid.length + 32).map((refs) =>
      d1
        .prepare(
          `INSERT INTO record_blob (did, blob_cid, record_uri)
           SELECT ?1, json_extract(value, '$.blobCid'), json_extract(value, '$.uri') FROM json_each(?2) WHERE true
           ON CONFLICT DO NOTHING`,
        )
        .bind(did, JSON.stringify(refs)),
    ),
    rootUpsert(d1, did, { cid: s.commit.cid, rev, dataCid: s.dataCid }),
  ]
}
