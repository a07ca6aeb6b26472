/**
 * Blob garbage collection, run by the cron trigger (wrangler.toml). A blob no
 * record references — never committed, or every referencing record deleted or
 * updated away — is deleted from D1 and R2 once it is older than the grace
 * period, which gives a client time to commit the post it uploaded for.
 */
import { readConfig, type Env } from '../env'
import { getDb } from '../db/client'
import { deleteUnreferencedBlobs } from '../db/blobs'
import { blobKey, deleteStaleTempObjects } from './store'

/** Rows per D1 statement; R2 deletes up to 1000 keys per call. */
const BATCH = 200

export interface GcResult {
  blobsDeleted: number
  tempObjectsDeleted: number
}

export async function collectGarbage(env: Env, now: number): Promise<GcResult> {
  const config = readConfig(env)
  const db = getDb(env.DB)
  const cutoff = now - config.blobTempGraceMs
  let blobsDeleted = 0
  for (;;) {
    // Rows first: if the R2 delete then fails, the bytes are orphaned (never
    // served, wasted space) rather than a row pointing at missing bytes. An
    // upload of the same CID meanwhile inserts a row of a new generation,
    // whose object this delete does not name.
    const rows = await deleteUnreferencedBlobs(db, cutoff, BATCH)
    if (rows.length === 0) break
    await env.BLOBS.delete(rows.map((r) => blobKey(r.did, r.cid, r.generation)))
    blobsDeleted += rows.length
    if (rows.length < BATCH) break
  }
  const tempObjectsDeleted = await deleteStaleTempObjects(env.BLOBS, cutoff)
  return { blobsDeleted, tempObjectsDeleted }
}
