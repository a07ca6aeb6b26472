/**
 * An upload, from request body to a temporary blob row. Garbage collection of
 * the same CID may run at any moment; two rules keep every row's bytes in R2:
 * an existing row is kept by refreshing its time (the collector only deletes
 * old rows, in one statement), and a new row's bytes go under a fresh
 * generation, a key no collector run can have picked. The collector deletes
 * an object only after deleting the row that names it.
 */
import type { Db } from '../db/client'
import { putBlob, touchBlob } from '../db/blobs'
import { declaredMime, sniffMime } from './sniffMime'
import { blobKey, discardStaged, ingestBlob, placeBlob, type IngestOptions } from './store'

export type UploadResult = { ok: true; cid: string; mimeType: string; size: number } | { ok: false; reason: 'empty' | 'tooLarge' | 'stalled' }

export async function storeUpload(
  db: Db,
  bucket: R2Bucket,
  did: string,
  req: { body: ReadableStream<Uint8Array>; contentType: string | null },
  maxBytes: number,
  opts: IngestOptions = {},
): Promise<UploadResult> {
  const staged = await ingestBlob(bucket, did, req.body, maxBytes, opts)
  if (!staged.ok) return staged
  try {
    const now = Date.now()
    const existing = await touchBlob(db, did, staged.cid, now)
    if (existing) return { ok: true, cid: staged.cid, mimeType: existing.mimeType, size: existing.size }

    const generation = crypto.randomUUID()
    await placeBlob(bucket, staged, blobKey(did, staged.cid, generation))
    const mimeType = sniffMime(staged.head) ?? declaredMime(req.contentType) ?? 'application/octet-stream'
    const row = await putBlob(db, { did, cid: staged.cid, mimeType, size: staged.size, createdAt: now, generation })
    // A concurrent upload of the same bytes inserted first: its object serves, ours is surplus.
    if (row.generation !== generation) await bucket.delete(blobKey(did, staged.cid, generation))
    return { ok: true, cid: staged.cid, mimeType: row.mimeType, size: row.size }
  } finally {
    await discardStaged(bucket, staged)
  }
}
