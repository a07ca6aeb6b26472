import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { getDb } from '../../../src/db/client'
import { putBlob } from '../../../src/db/blobs'
import { expectedCid, randomBytes, referenceBlob } from '../../blobs/fixtures'
import { TEST_DID, xrpc } from '../../helpers'

async function blobReferencedAt(rev: string): Promise<string> {
  const cid = await expectedCid(randomBytes(32))
  await putBlob(getDb(env.DB), { did: TEST_DID, cid, mimeType: 'image/png', size: 32, createdAt: Date.now() })
  await referenceBlob(cid, { rev })
  return cid
}

describe('com.atproto.sync.listBlobs', () => {
  it('pages through the referenced blobs in CID order, skipping temporary ones, each CID once', async () => {
    const referenced = []
    for (let i = 0; i < 7; i++) referenced.push(await blobReferencedAt('3l22222222a22'))
    // Referenced twice: listed once.
    await referenceBlob(referenced[0]!)
    // Temporary: never listed.
    await putBlob(getDb(env.DB), { did: TEST_DID, cid: await expectedCid(randomBytes(8)), mimeType: 'image/png', size: 8, createdAt: Date.now() })

    const seen: string[] = []
    let cursor: string | undefined
    let pages = 0
    do {
      const res = await xrpc('com.atproto.sync.listBlobs', { params: { did: TEST_DID, limit: 3, ...(cursor ? { cursor } : {}) } })
      expect(res.status).toBe(200)
      expect(res.json.cids.length).toBeLessThanOrEqual(3)
      seen.push(...res.json.cids)
      cursor = res.json.cursor
      pages++
    } while (cursor)
    expect(seen).toEqual([...referenced].sort())
    expect(pages).toBe(3)
  })

  it('lists only blobs of records written after rev `since`', async () => {
    const old = await blobReferencedAt('3l22222222b22')
    const fresh = await blobReferencedAt('3l22222222c22')
    const res = await xrpc('com.atproto.sync.listBlobs', { params: { did: TEST_DID, since: '3l22222222b22' } })
    expect(res.json.cids).toContain(fresh)
    expect(res.json.cids).not.toContain(old)
  })

  it('refuses another DID with RepoNotFound and a bad limit with InvalidRequest', async () => {
    const other = await xrpc('com.atproto.sync.listBlobs', { params: { did: 'did:web:other.test' } })
    expect([other.status, other.json.error]).toEqual([400, 'RepoNotFound'])
    const bad = await xrpc('com.atproto.sync.listBlobs', { params: { did: TEST_DID, limit: 1001 } })
    expect([bad.status, bad.json.error]).toEqual([400, 'InvalidRequest'])
  })
})
