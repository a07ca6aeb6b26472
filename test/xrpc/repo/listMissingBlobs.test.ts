import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { getDb } from '../../../src/db/client'
import { putBlob } from '../../../src/db/blobs'
import { expectedCid, randomBytes, referenceBlob } from '../../blobs/fixtures'
import { loggedInAgent, TEST_DID, xrpc } from '../../helpers'

describe('com.atproto.repo.listMissingBlobs', () => {
  it('lists referenced blobs that were never uploaded (an imported repo), one entry per CID, paged', async () => {
    const agent = await loggedInAgent()
    // References without bytes, as after importing a repo from another PDS.
    const missing: { cid: string; recordUri: string }[] = []
    for (let i = 0; i < 5; i++) {
      const cid = await expectedCid(randomBytes(20))
      missing.push({ cid, recordUri: await referenceBlob(cid) })
    }
    await referenceBlob(missing[0]!.cid, { rkey: 'zzzzzzzzzzzzz' })
    // Uploaded and referenced: not missing.
    const present = await expectedCid(randomBytes(20))
    await putBlob(getDb(env.DB), { did: TEST_DID, cid: present, mimeType: 'image/png', size: 20, createdAt: Date.now() })
    await referenceBlob(present)

    const seen: { cid: string; recordUri: string }[] = []
    let cursor: string | undefined
    do {
      const { data } = await agent.com.atproto.repo.listMissingBlobs({ limit: 2, cursor })
      seen.push(...data.blobs)
      cursor = data.cursor
    } while (cursor)
    expect(seen).toEqual([...missing].sort((a, b) => (a.cid < b.cid ? -1 : 1)))

    // Uploading one removes it from the list.
    await putBlob(getDb(env.DB), { did: TEST_DID, cid: missing[1]!.cid, mimeType: 'image/png', size: 20, createdAt: Date.now() })
    const { data } = await agent.com.atproto.repo.listMissingBlobs({})
    expect(data.blobs.map((b) => b.cid)).not.toContain(missing[1]!.cid)
    expect(data.blobs).toHaveLength(4)
  })

  it('requires auth', async () => {
    const res = await xrpc('com.atproto.repo.listMissingBlobs')
    expect([res.status, res.json.error]).toEqual([401, 'AuthMissing'])
  })
})
