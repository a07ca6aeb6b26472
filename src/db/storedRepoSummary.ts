import { and, count, countDistinct, eq, isNull } from 'drizzle-orm'
import type { Db } from './client'
import { blobMeta, record, recordBlob, repoBlock, repoRoot } from './schema'

/** What checkAccountStatus reports about the stored repo: head, and how much of it is here. */
export async function getStoredRepoSummary(db: Db, did: string) {
  const [root, blocks, records, imported, expected] = await db.batch([
    db.select({ cid: repoRoot.cid, rev: repoRoot.rev }).from(repoRoot).where(eq(repoRoot.did, did)),
    db.select({ n: count() }).from(repoBlock).where(and(eq(repoBlock.did, did), isNull(repoBlock.removedAt))),
    db.select({ n: count() }).from(record).where(eq(record.did, did)),
    db.select({ n: count() }).from(blobMeta).where(eq(blobMeta.did, did)),
    db.select({ n: countDistinct(recordBlob.blobCid) }).from(recordBlob).where(eq(recordBlob.did, did)),
  ])
  return {
    head: root[0] ?? null,
    repoBlocks: blocks[0]?.n ?? 0,
    indexedRecords: records[0]?.n ?? 0,
    importedBlobs: imported[0]?.n ?? 0,
    expectedBlobs: expected[0]?.n ?? 0,
  }
}
