import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { getDb } from '../../src/db/client'
import { findBlobs, putBlob } from '../../src/db/blobs'
import { TEST_DID } from '../helpers'
import { expectedCid, randomBytes } from '../blobs/fixtures'

describe('findBlobs', () => {
  it("returns size and type of the account's uploaded blobs among many CIDs in one call, and nothing for others", async () => {
    const db = getDb(env.DB)
    const cids = await Promise.all(Array.from({ length: 150 }, () => expectedCid(randomBytes(16))))
    const [a, b] = [cids[3]!, cids[140]!]
    await putBlob(db, { did: TEST_DID, cid: a, mimeType: 'image/png', size: 16, createdAt: Date.now() })
    await putBlob(db, { did: TEST_DID, cid: b, mimeType: 'image/jpeg', size: 17, createdAt: Date.now() })
    await putBlob(db, { did: 'did:web:other.test', cid: cids[7]!, mimeType: 'image/png', size: 1, createdAt: Date.now() })

    const found = await findBlobs(db, TEST_DID, [...cids, a])
    expect(found).toEqual(
      new Map([
        [a, { mimeType: 'image/png', size: 16 }],
        [b, { mimeType: 'image/jpeg', size: 17 }],
      ]),
    )
    expect(await findBlobs(db, TEST_DID, [])).toEqual(new Map())
  })
})
