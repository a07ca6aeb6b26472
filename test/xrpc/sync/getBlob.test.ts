import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { dereference, expectedCid, JPEG, PNG, randomBytes, referenceBlob } from '../../blobs/fixtures'
import { loggedInAgent, TEST_DID, worker, xrpc, xrpcUrl } from '../../helpers'

const SAFE_HEADERS = {
  'content-security-policy': "default-src 'none'; sandbox",
  'x-content-type-options': 'nosniff',
  'cache-control': 'public, max-age=31536000, immutable',
}

async function uploaded(bytes: Uint8Array, encoding?: string): Promise<string> {
  const agent = await loggedInAgent()
  const { data } = await agent.uploadBlob(bytes, encoding ? { encoding } : undefined)
  return data.blob.ref.toString()
}

const getBlob = (cid: string, did = TEST_DID, headers?: Record<string, string>) => worker.fetch(xrpcUrl('com.atproto.sync.getBlob', { did, cid }), { headers })
const getPlain = (cid: string, init?: RequestInit) => worker.fetch(`https://pds.test/blobs/${cid}`, init)

describe('com.atproto.sync.getBlob and GET /blobs/:cid', () => {
  it('serve a referenced PNG and JPEG byte for byte with safe, immutable headers', async () => {
    for (const [bytes, mime] of [
      [PNG, 'image/png'],
      [JPEG, 'image/jpeg'],
    ] as const) {
      const cid = await uploaded(bytes)
      expect(cid).toBe(await expectedCid(bytes))
      // Only committed blobs are public: a post references it.
      await referenceBlob(cid)
      for (const res of [await getBlob(cid), await getPlain(cid)]) {
        expect(res.status).toBe(200)
        expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes)
        expect(res.headers.get('content-type')).toBe(mime)
        expect(res.headers.get('content-length')).toBe(String(bytes.byteLength))
        expect(Object.fromEntries(Object.keys(SAFE_HEADERS).map((h) => [h, res.headers.get(h)]))).toEqual(SAFE_HEADERS)
      }
    }
  })

  it('do not serve a temporary blob no record references, nor one whose references were dropped', async () => {
    const cid = await uploaded(randomBytes(500))
    const temp = await getBlob(cid)
    expect(temp.status).toBe(400)
    expect(await temp.json()).toEqual({ error: 'BlobNotFound', message: 'Blob not found' })
    const plain = await getPlain(cid)
    expect(plain.status).toBe(404)
    expect(((await plain.json()) as any).error).toBe('BlobNotFound')

    const { uri } = await referenceBlob(cid)
    expect((await getBlob(cid)).status).toBe(200)
    await dereference(uri)
    expect((await getBlob(cid)).status).toBe(400)
  })

  it('answer RepoNotFound for another DID, BlobNotFound for an unknown CID, InvalidRequest for a malformed one', async () => {
    const cid = await uploaded(randomBytes(300))
    await referenceBlob(cid)
    const otherRepo = await xrpc('com.atproto.sync.getBlob', { params: { did: 'did:web:other.test', cid } })
    expect([otherRepo.status, otherRepo.json.error]).toEqual([400, 'RepoNotFound'])

    const unknown = await expectedCid(randomBytes(10))
    const missing = await xrpc('com.atproto.sync.getBlob', { params: { did: TEST_DID, cid: unknown } })
    expect([missing.status, missing.json.error]).toEqual([400, 'BlobNotFound'])
    expect((await getPlain(unknown)).status).toBe(404)

    for (const bad of ['not-a-cid', 'bafy', `${cid}x`]) {
      const res = await xrpc('com.atproto.sync.getBlob', { params: { did: TEST_DID, cid: bad } })
      expect([bad, res.status, res.json.error]).toEqual([bad, 400, 'InvalidRequest'])
      const plainRes = await getPlain(bad)
      expect([bad, plainRes.status, ((await plainRes.json()) as any).error]).toEqual([bad, 400, 'InvalidRequest'])
    }
    const noCid = await xrpc('com.atproto.sync.getBlob', { params: { did: TEST_DID } })
    expect([noCid.status, noCid.json.error]).toEqual([400, 'InvalidRequest'])
  })

  it('serve a byte range (video seeking), 304 for a known ETag and 416 past the end', async () => {
    const bytes = randomBytes(1000)
    const cid = await uploaded(bytes, 'video/mp4')
    await referenceBlob(cid)
    const part = await getBlob(cid, TEST_DID, { range: 'bytes=100-199' })
    expect(part.status).toBe(206)
    expect(part.headers.get('content-range')).toBe('bytes 100-199/1000')
    expect(part.headers.get('content-length')).toBe('100')
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(bytes.slice(100, 200))

    const full = await getPlain(cid)
    const etag = full.headers.get('etag')!
    await full.arrayBuffer()
    expect(etag).toBe(`"${cid}"`)
    const cached = await getPlain(cid, { headers: { 'if-none-match': etag } })
    expect(cached.status).toBe(304)

    const past = await getPlain(cid, { headers: { range: 'bytes=5000-' } })
    expect(past.status).toBe(416)
    expect(past.headers.get('content-range')).toBe('bytes */1000')
  })

  it('answer BlobNotFound, not a 500, when the row exists but R2 lost the bytes', async () => {
    const cid = await uploaded(randomBytes(200))
    await referenceBlob(cid)
    await env.BLOBS.delete((await env.BLOBS.list({ prefix: `blobs/${TEST_DID}/${cid}` })).objects.map((o) => o.key))
    const res = await xrpc('com.atproto.sync.getBlob', { params: { did: TEST_DID, cid } })
    expect([res.status, res.json.error]).toEqual([400, 'BlobNotFound'])
  })
})
