import { describe, expect, it } from 'vitest'
import { randomBytes, referenceBlob, uploadBlob } from '../../blobs/fixtures'
import { TEST_DID, xrpc } from '../../helpers'

/** An uploaded blob a new post references; the rev of that post's commit. */
async function referencedBlob(): Promise<{ cid: string; rev: string }> {
  const cid = await uploadBlob(randomBytes(32))
  return { cid, rev: (await referenceBlob(cid)).rev }
}

describe('com.atproto.sync.listBlobs', () => {
  it('pages through the referenced blobs in CID order, skipping temporary ones, each CID once', async () => {
    const referenced = []
    for (let i = 0; i < 7; i++) referenced.push((await referencedBlob()).cid)
    // Referenced twice: listed once.
    await referenceBlob(referenced[0]!)
    // Temporary: never listed.
    await uploadBlob(randomBytes(8))

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
    const old = await referencedBlob()
    const fresh = await referencedBlob()
    const res = await xrpc('com.atproto.sync.listBlobs', { params: { did: TEST_DID, since: old.rev } })
    expect(res.json.cids).toContain(fresh.cid)
    expect(res.json.cids).not.toContain(old.cid)
  })

  it('refuses another DID with RepoNotFound and a bad limit with InvalidRequest', async () => {
    const other = await xrpc('com.atproto.sync.listBlobs', { params: { did: 'did:web:other.test' } })
    expect([other.status, other.json.error]).toEqual([400, 'RepoNotFound'])
    const bad = await xrpc('com.atproto.sync.listBlobs', { params: { did: TEST_DID, limit: 1001 } })
    expect([bad.status, bad.json.error]).toEqual([400, 'InvalidRequest'])
  })
})
