import { Secp256k1Keypair } from '@atproto/crypto'
import { jsonToLex } from '@atproto/lex-json'
import { blocksToCarFile, MemoryBlockstore, Repo, WriteOpAction } from '@atproto/repo'
import { describe, expect, it } from 'vitest'
import { expectedCid, randomBytes, uploadBlob } from '../../blobs/fixtures'
import { loggedInAgent, TEST_DID, worker, xrpc, xrpcUrl } from '../../helpers'

/** A repo exported by another PDS whose posts reference blobs (rkey -> blob CID). */
async function exportedRepo(posts: [rkey: string, blobCid: string][]): Promise<Uint8Array> {
  const storage = new MemoryBlockstore()
  const repo = await Repo.create(
    storage,
    TEST_DID,
    await Secp256k1Keypair.create(),
    posts.map(([rkey, cid]) => ({
      action: WriteOpAction.Create,
      collection: 'app.bsky.feed.post',
      rkey,
      record: jsonToLex({
        $type: 'app.bsky.feed.post',
        text: rkey,
        createdAt: '2025-01-01T00:00:00.000Z',
        embed: { $type: 'app.bsky.embed.images', images: [{ alt: '', image: { $type: 'blob', ref: { $link: cid }, mimeType: 'image/png', size: 20 } }] },
      }) as never,
    })),
  )
  return blocksToCarFile(repo.cid, storage.blocks)
}

describe('com.atproto.repo.listMissingBlobs', () => {
  it('lists referenced blobs that were never uploaded (an imported repo), one entry per CID, paged', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    // References without bytes come from importing a repo from another PDS.
    const bytes = Array.from({ length: 5 }, () => randomBytes(20))
    const missing = await Promise.all(bytes.map(async (b, i) => ({ cid: await expectedCid(b), recordUri: `at://${TEST_DID}/app.bsky.feed.post/3kaaaaaaaaa${'abcde'[i]}2` })))
    const presentBytes = randomBytes(20)
    const present = await expectedCid(presentBytes)
    const car = await exportedRepo([
      ...missing.map((m) => [m.recordUri.split('/').at(-1)!, m.cid] as [string, string]),
      ['zzzzzzzzzzzzz', missing[0]!.cid], // a second reference: still one entry
      ['3kaaaaaaaaaz2', present],
    ])
    expect((await xrpc('com.atproto.server.deactivateAccount', { token, body: {} })).status).toBe(200)
    const imported = await worker.fetch(xrpcUrl('com.atproto.repo.importRepo'), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/vnd.ipld.car' }, body: car })
    expect(imported.status).toBe(200)
    // Uploaded: not missing.
    expect(await uploadBlob(presentBytes, 'image/png')).toBe(present)

    const seen: { cid: string; recordUri: string }[] = []
    let cursor: string | undefined
    do {
      const { data } = await agent.com.atproto.repo.listMissingBlobs({ limit: 2, cursor })
      seen.push(...data.blobs)
      cursor = data.cursor
    } while (cursor)
    expect(seen.map((b) => b.cid)).toEqual(missing.map((m) => m.cid).sort())
    for (const b of seen) {
      const m = missing.find((x) => x.cid === b.cid)!
      expect(b.cid === missing[0]!.cid ? [m.recordUri, `at://${TEST_DID}/app.bsky.feed.post/zzzzzzzzzzzzz`] : [m.recordUri]).toContain(b.recordUri)
    }

    // Uploading one removes it from the list.
    expect(await uploadBlob(bytes[1]!, 'image/png')).toBe(missing[1]!.cid)
    const { data } = await agent.com.atproto.repo.listMissingBlobs({})
    expect(data.blobs.map((b) => b.cid)).not.toContain(missing[1]!.cid)
    expect(data.blobs).toHaveLength(4)
  })

  it('requires auth', async () => {
    const res = await xrpc('com.atproto.repo.listMissingBlobs')
    expect([res.status, res.json.error]).toEqual([401, 'AuthMissing'])
  })
})
