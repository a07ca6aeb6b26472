/**
 * Blob metadata in D1. A `blob` row is written once the bytes are in R2; it is
 * temporary while no `record_blob` row references it, and only referenced
 * blobs are served, listed or kept past the grace period.
 */
import { and, asc, eq, gt, sql } from 'drizzle-orm'
import type { Db } from './client'
import { blobMeta, record, recordBlob } from './schema'

/**
 * The uploaded blobs among `cids` (present or not, referenced or not) with the
 * size and MIME type a record's blob ref must match. The commit path calls it
 * to refuse refs to blobs that were never uploaded. One statement whatever the
 * count: the CIDs travel as one JSON parameter (D1 binds at most 100).
 */
export async function findBlobs(db: Db, did: string, cids: string[]): Promise<Map<string, { mimeType: string; size: number }>> {
  const found = new Map<string, { mimeType: string; size: number }>()
  if (cids.length === 0) return found
  const rows = await db
    .select({ cid: blobMeta.cid, mimeType: blobMeta.mimeType, size: blobMeta.size })
    .from(blobMeta)
    .where(and(eq(blobMeta.did, did), sql`${blobMeta.cid} in (select value from json_each(${JSON.stringify([...new Set(cids)])}))`))
  for (const row of rows) found.set(row.cid, { mimeType: row.mimeType, size: row.size })
  return found
}

/**
 * Restarts the temporary grace period of a blob already uploaded, returning
 * it (its MIME type stays the first upload's, so the ref stays the same); null
 * when there is no row. A row this returns cannot be collected meanwhile: the
 * collector only deletes rows older than the grace period.
 */
export async function touchBlob(db: Db, did: string, cid: string, now: number) {
  const [row] = await db
    .update(blobMeta)
    .set({ createdAt: now })
    .where(and(eq(blobMeta.did, did), eq(blobMeta.cid, cid)))
    .returning({ mimeType: blobMeta.mimeType, size: blobMeta.size, generation: blobMeta.generation })
  return row ?? null
}

/**
 * Records an upload whose bytes are stored under its generation. When a
 * concurrent upload of the same bytes got there first, its row (and
 * generation) stays and is returned.
 */
export async function putBlob(db: Db, row: { did: string; cid: string; mimeType: string; size: number; createdAt: number; generation?: string | null }) {
  const [stored] = await db
    .insert(blobMeta)
    .values(row)
    .onConflictDoUpdate({ target: [blobMeta.did, blobMeta.cid], set: { createdAt: sql`excluded.created_at` } })
    .returning({ mimeType: blobMeta.mimeType, size: blobMeta.size, generation: blobMeta.generation })
  return stored!
}

/** A blob some record references, or null (unknown or still temporary). */
export async function getReferencedBlob(db: Db, did: string, cid: string) {
  const row = await db
    .select({ did: blobMeta.did, cid: blobMeta.cid, mimeType: blobMeta.mimeType, size: blobMeta.size, generation: blobMeta.generation })
    .from(blobMeta)
    .where(and(eq(blobMeta.did, did), eq(blobMeta.cid, cid), sql`exists (select 1 from ${recordBlob} where ${recordBlob.did} = ${did} and ${recordBlob.blobCid} = ${cid})`))
    .get()
  return row ?? null
}

/** Distinct CIDs of blobs referenced by the repo's records, optionally only by records written after rev `since`. */
export async function listReferencedBlobCids(db: Db, did: string, opts: { since?: string; limit: number; cursor?: string }): Promise<string[]> {
  const conditions = [eq(recordBlob.did, did)]
  if (opts.cursor) conditions.push(gt(recordBlob.blobCid, opts.cursor))
  const base = db.selectDistinct({ cid: recordBlob.blobCid }).from(recordBlob)
  const rows = await (opts.since
    ? base.innerJoin(record, eq(record.uri, recordBlob.recordUri)).where(and(...conditions, gt(record.repoRev, opts.since)))
    : base.where(and(...conditions))
  )
    .orderBy(asc(recordBlob.blobCid))
    .limit(opts.limit)
  return rows.map((r) => r.cid)
}

/** Referenced blobs with no `blob` row (e.g. after a repo import): one record per missing CID. */
export async function listMissingBlobs(db: Db, did: string, opts: { limit: number; cursor?: string }) {
  const conditions = [
    eq(recordBlob.did, did),
    sql`not exists (select 1 from ${blobMeta} where ${blobMeta.did} = ${recordBlob.did} and ${blobMeta.cid} = ${recordBlob.blobCid})`,
  ]
  if (opts.cursor) conditions.push(gt(recordBlob.blobCid, opts.cursor))
  return db
    .select({ cid: recordBlob.blobCid, recordUri: sql<string>`min(${recordBlob.recordUri})` })
    .from(recordBlob)
    .where(and(...conditions))
    .groupBy(recordBlob.blobCid)
    .orderBy(asc(recordBlob.blobCid))
    .limit(opts.limit)
}

/**
 * Deletes up to `limit` blob rows created before `cutoff` that no record
 * references, returning them so their bytes can go too. The reference check
 * and the delete are one statement, so a blob referenced by the time it runs
 * is never deleted.
 */
export async function deleteUnreferencedBlobs(db: Db, cutoff: number, limit: number): Promise<{ did: string; cid: string; generation: string | null }[]> {
  return db.all<{ did: string; cid: string; generation: string | null }>(sql`
    delete from ${blobMeta} where rowid in (
      select b.rowid from ${blobMeta} b
      where b.created_at < ${cutoff}
        and not exists (select 1 from ${recordBlob} rb where rb.did = b.did and rb.blob_cid = b.cid)
      limit ${limit})
    returning did, cid, generation`)
}
