import { fromHex } from '../lib/hex'
import { blockInserts, rootUpsert } from './commitWrites'
import { chunks } from './statements'

/**
 * Importing a repo (account migration) in two steps, because a whole repo
 * fits neither one Worker's memory nor one D1 batch:
 *
 * 1. staging (the Worker, in bounded pages as the CAR streams in and as the
 *    MST is walked): blocks go into `repo_block` under the import's marker
 *    rev, hidden from reads (STAGED_REMOVED_AT) and never touching a block
 *    already stored; the verified MST nodes and record index rows go into
 *    `import_node` / `import_record`. A refused or failed import changes
 *    nothing readable, and its leftovers are found by marker.
 * 2. the switch (the actor, one batch of set-based statements whatever the
 *    repo's size): the new repo's blocks take the new rev and are live, every
 *    other block is marked removed (pruned later, as after any commit), the
 *    record index and blob references are rebuilt from the staged rows, and
 *    the head moves, atomically.
 */

/** Every import marker starts with this (staged blocks' `repo_rev`). */
export const IMPORT_MARKER_PREFIX = 'import-'

/**
 * `removed_at` of a staged block: set, so live reads (getBlock, getRecord)
 * never see it; far in the future, so pruneRemovedBlocks never deletes it
 * while its import runs.
 */
export const STAGED_REMOVED_AT = Number.MAX_SAFE_INTEGER

/**
 * Bytes of block content per staging statement (one BLOB parameter; D1 allows 2 MB per value).
 * Not hex like the commit path's: hex would halve what fits in a value, and an import is one bulk
 * transfer where statements per invocation, not encoding, is the limit.
 */
export const STAGE_BYTES_PER_STATEMENT = 1024 * 1024

/**
 * One statement staging many blocks: their bytes travel concatenated in one
 * BLOB parameter and are cut apart with substr() by the [cid, offset, length]
 * rows of a JSON parameter, so a repo of any size costs about one statement
 * per MB (D1 counts queries per invocation; 33 rows of three bound
 * parameters each would cost thirty times as many).
 */
export function stageBlocksStatement(d1: D1Database, did: string, marker: string, blocks: { cid: string; bytes: Uint8Array }[]): D1PreparedStatement {
  const size = blocks.reduce((n, b) => n + b.bytes.byteLength, 0)
  const content = new Uint8Array(size)
  const rows: [string, number, number][] = []
  let offset = 0
  for (const b of blocks) {
    content.set(b.bytes, offset)
    rows.push([b.cid, offset + 1, b.bytes.byteLength])
    offset += b.bytes.byteLength
  }
  return d1
    .prepare(
      `INSERT INTO repo_block (did, cid, repo_rev, content, size, removed_at)
       SELECT ?1, json_extract(value, '$[0]'), ?2, substr(?3, json_extract(value, '$[1]'), json_extract(value, '$[2]')), json_extract(value, '$[2]'), ?4
       FROM json_each(?5) WHERE true
       ON CONFLICT (did, cid) DO NOTHING`,
    )
    .bind(did, marker, content, STAGED_REMOVED_AT, JSON.stringify(rows))
}

/** The stored blocks among `cids` (staged or already there, live or not), by CID. */
export async function readStagedBlocks(d1: D1Database, did: string, cids: string[]): Promise<Map<string, Uint8Array>> {
  const { results } = await d1
    .prepare('SELECT cid, hex(content) AS content FROM repo_block WHERE did = ?1 AND cid IN (SELECT value FROM json_each(?2))')
    .bind(did, JSON.stringify(cids))
    .all<{ cid: string; content: string }>()
  return new Map(results.map((r) => [r.cid, fromHex(r.content)]))
}

export function stageNodesStatements(d1: D1Database, marker: string, cids: string[]): D1PreparedStatement[] {
  return chunks(cids, (c) => c.length).map((chunk) =>
    d1.prepare('INSERT INTO import_node (marker, cid) SELECT ?1, value FROM json_each(?2) WHERE true ON CONFLICT DO NOTHING').bind(marker, JSON.stringify(chunk)),
  )
}

export interface StagedRecord {
  uri: string
  collection: string
  rkey: string
  cid: string
  blobs: string[]
}

export function stageRecordsStatements(d1: D1Database, marker: string, rows: StagedRecord[]): D1PreparedStatement[] {
  return chunks(rows, (r) => r.uri.length + r.cid.length + r.blobs.length * 64 + 32).map((chunk) =>
    d1
      .prepare(
        `INSERT INTO import_record (marker, uri, collection, rkey, cid, blobs)
         SELECT ?1, json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]')
         FROM json_each(?2) WHERE true`,
      )
      .bind(marker, JSON.stringify(chunk.map((r) => [r.uri, r.collection, r.rkey, r.cid, JSON.stringify(r.blobs)]))),
  )
}

/** Everything one import staged (a refused or failed import's cleanup): never another import's rows. */
export function dropStaged(d1: D1Database, did: string, marker: string): D1PreparedStatement[] {
  return [
    d1.prepare('DELETE FROM repo_block WHERE did = ? AND repo_rev = ?').bind(did, marker),
    d1.prepare('DELETE FROM import_node WHERE marker = ?').bind(marker),
    d1.prepare('DELETE FROM import_record WHERE marker = ?').bind(marker),
  ]
}

/**
 * What imports whose Worker died left behind (no cleanup ran). Only run by
 * the holder of the import lease: any other marker's import has lapsed.
 */
export function dropAbandoned(d1: D1Database, did: string, marker: string): D1PreparedStatement[] {
  return [
    d1.prepare(`DELETE FROM repo_block WHERE did = ?1 AND repo_rev LIKE '${IMPORT_MARKER_PREFIX}%' AND repo_rev != ?2`).bind(did, marker),
    d1.prepare('DELETE FROM import_node WHERE marker != ?').bind(marker),
    d1.prepare('DELETE FROM import_record WHERE marker != ?').bind(marker),
  ]
}

export interface ImportSwitch {
  /** The import's marker: its staged blocks and rows. */
  marker: string
  /** How many nodes and records the walk staged: the switch refuses to run on anything else. */
  staged: { nodes: number; records: number }
  commit: { cid: string; rev: string; bytes: Uint8Array }
  dataCid: string
}

/**
 * The switch, in a fixed number of statements whatever the repo's size (each
 * set-based over the staged rows). The first one fails the whole batch if the
 * staged rows are not exactly what the walk staged, or a block the new head
 * needs is missing (e.g. pruned since the walk found it), so the head never
 * points at an incomplete repo.
 */
export function importSwitchStatements(d1: D1Database, did: string, s: ImportSwitch): D1PreparedStatement[] {
  const rev = s.commit.rev
  const now = Date.now()
  const reachable = `SELECT cid FROM import_node WHERE marker = ?3 UNION SELECT cid FROM import_record WHERE marker = ?3`
  return [
    // repo_root.cid is NOT NULL: inserting a NULL aborts the batch.
    d1
      .prepare(
        `INSERT INTO repo_root (did, cid, rev, data_cid, indexed_at)
         SELECT ?1, NULL, ?2, '', 0
         WHERE (SELECT COUNT(*) FROM import_node WHERE marker = ?3) != ?4 OR (SELECT COUNT(*) FROM import_record WHERE marker = ?3) != ?5
            OR EXISTS (SELECT 1 FROM (${reachable}) n WHERE NOT EXISTS (SELECT 1 FROM repo_block b WHERE b.did = ?1 AND b.cid = n.cid))`,
      )
      .bind(did, rev, s.marker, s.staged.nodes, s.staged.records),
    ...blockInserts(d1, did, [{ cid: s.commit.cid, rev, bytes: s.commit.bytes }]),
    d1.prepare(`UPDATE repo_block SET repo_rev = ?2, removed_at = NULL WHERE did = ?1 AND cid IN (${reachable})`).bind(did, rev, s.marker),
    // Staged blocks the new repo does not reach (extras in the CAR) go; the old repo's are marked removed.
    d1.prepare('DELETE FROM repo_block WHERE did = ?1 AND repo_rev = ?2').bind(did, s.marker),
    d1.prepare('UPDATE repo_block SET removed_at = ?3 WHERE did = ?1 AND repo_rev != ?2 AND removed_at IS NULL').bind(did, rev, now),
    d1.prepare('DELETE FROM record WHERE did = ?').bind(did),
    d1
      .prepare(
        `INSERT INTO record (uri, did, collection, rkey, cid, repo_rev, indexed_at)
         SELECT uri, ?1, collection, rkey, cid, ?2, ?4 FROM import_record WHERE marker = ?3`,
      )
      .bind(did, rev, s.marker, now),
    d1.prepare('DELETE FROM record_blob WHERE did = ?').bind(did),
    // Imported references usually point at blobs not uploaded yet: listMissingBlobs reports them.
    d1
      .prepare(
        `INSERT INTO record_blob (did, blob_cid, record_uri)
         SELECT ?1, b.value, r.uri FROM import_record r, json_each(r.blobs) b WHERE r.marker = ?2
         ON CONFLICT DO NOTHING`,
      )
      .bind(did, s.marker),
    rootUpsert(d1, did, { cid: s.commit.cid, rev, dataCid: s.dataCid }),
    d1.prepare('DELETE FROM import_node WHERE marker = ?').bind(s.marker),
    d1.prepare('DELETE FROM import_record WHERE marker = ?').bind(s.marker),
  ]
}
