import { env } from 'cloudflare:workers'
import { blobKey } from '../../../src/blobs/store'
import { describe, expect, it } from 'vitest'
import { blobRows, expectedCid, JPEG, PNG, r2Keys, randomBytes } from '../../blobs/fixtures'
import { loggedInAgent, TEST_DID, worker, xrpcUrl } from '../../helpers'

const LIMIT = 1048576 // BLOB_MAX_BYTES in test/vitest.config.ts

async function upload(body: BodyInit | null, opts: { token?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...opts.headers }
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  const res = await worker.fetch(xrpcUrl('com.atproto.repo.uploadBlob'), { method: 'POST', headers, body })
  return { status: res.status, json: (await res.json()) as any }
}

/** Where the blob row says its bytes are. */
async function storedKey(cid: string): Promise<string> {
  const generation = await env.DB.prepare('SELECT generation FROM blob WHERE cid = ?').bind(cid).first<string | null>('generation')
  return blobKey(TEST_DID, cid, generation)
}

async function accessToken() {
  return (await loggedInAgent()).session!.accessJwt
}

/** A body without Content-Length: the Worker only learns the size by reading it. */
function chunkedBody(total: number, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  let sent = 0
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close()
      const n = Math.min(chunk, total - sent)
      controller.enqueue(randomBytes(n))
      sent += n
    },
  })
}

describe('com.atproto.repo.uploadBlob', () => {
  it('stores a real PNG and JPEG from AtpAgent under the CID multiformats computes', async () => {
    const agent = await loggedInAgent()
    for (const [bytes, mimeType] of [
      [PNG, 'image/png'],
      [JPEG, 'image/jpeg'],
    ] as const) {
      const { data } = await agent.uploadBlob(bytes, { encoding: mimeType })
      const cid = await expectedCid(bytes)
      expect(data.blob.ref.toString()).toBe(cid)
      expect(data.blob.mimeType).toBe(mimeType)
      expect(data.blob.size).toBe(bytes.byteLength)
      const object = await env.BLOBS.get(await storedKey(cid))
      expect(new Uint8Array(await object!.arrayBuffer())).toEqual(bytes)
    }
    const rows = await blobRows()
    expect(rows.map((r) => [r.cid, r.mime_type, r.size]).sort()).toEqual(
      [
        [await expectedCid(JPEG), 'image/jpeg', JPEG.byteLength],
        [await expectedCid(PNG), 'image/png', PNG.byteLength],
      ].sort(),
    )
  })

  it('answers the lexicon shape and the same ref for the same bytes, stored once', async () => {
    const token = await accessToken()
    const bytes = randomBytes(3000)
    const first = await upload(bytes, { token, headers: { 'content-type': 'application/x-thing' } })
    expect(first.status).toBe(200)
    expect(first.json).toEqual({ blob: { $type: 'blob', ref: { $link: await expectedCid(bytes) }, mimeType: 'application/x-thing', size: 3000 } })
    const before = await r2Keys()
    // Declared differently the second time: the stored type wins, so the ref is deterministic.
    const second = await upload(bytes, { token, headers: { 'content-type': 'text/plain' } })
    expect(second.json).toEqual(first.json)
    expect(await r2Keys()).toEqual(before)
    expect((await blobRows()).filter((r) => r.cid === first.json.blob.ref.$link)).toHaveLength(1)
  })

  it('sniffs the type from magic numbers over the declared one, and falls back to octet-stream', async () => {
    const token = await accessToken()
    const sniffed = await upload(PNG, { token, headers: { 'content-type': 'application/octet-stream' } })
    expect(sniffed.json.blob.mimeType).toBe('image/png')
    const declared = await upload(randomBytes(100), { token, headers: { 'content-type': 'Text/Plain; charset=utf-8' } })
    expect(declared.json.blob.mimeType).toBe('text/plain')
    const none = await upload(randomBytes(100), { token })
    expect(none.json.blob.mimeType).toBe('application/octet-stream')
  })

  it('accepts a body without Content-Length (streamed) up to the limit', async () => {
    const res = await upload(chunkedBody(LIMIT), { token: await accessToken() })
    expect(res.status).toBe(200)
    expect(res.json.blob.size).toBe(LIMIT)
    const object = await env.BLOBS.head(await storedKey(res.json.blob.ref.$link))
    expect(object?.size).toBe(LIMIT)
  })

  it('refuses a body over the limit with 413 PayloadTooLarge, declared or discovered while streaming, storing nothing', async () => {
    const token = await accessToken()
    const keys = await r2Keys()
    const rows = await blobRows()
    const declared = await upload(randomBytes(LIMIT + 1), { token })
    expect(declared.status).toBe(413)
    expect(declared.json).toEqual({ error: 'PayloadTooLarge', message: `Blob is larger than the ${LIMIT} byte limit` })
    const streamed = await upload(chunkedBody(LIMIT + 1), { token })
    expect(streamed.status).toBe(413)
    expect(streamed.json.error).toBe('PayloadTooLarge')
    expect(await r2Keys()).toEqual(keys)
    expect(await blobRows()).toEqual(rows)
  })

  it('refuses an empty body with 400 InvalidRequest, declared or streamed', async () => {
    const token = await accessToken()
    const keys = await r2Keys()
    for (const body of [new Uint8Array(0), null, chunkedBody(0)]) {
      const res = await upload(body, { token })
      expect(res.status).toBe(400)
      expect(res.json).toEqual({ error: 'InvalidRequest', message: 'Request body is empty' })
    }
    expect(await r2Keys()).toEqual(keys)
  })

  it('refuses a missing, forged or refresh token before storing anything', async () => {
    const keys = await r2Keys()
    const rows = await blobRows()
    const agent = await loggedInAgent()
    const missing = await upload(PNG.slice())
    expect([missing.status, missing.json.error]).toEqual([401, 'AuthMissing'])
    for (const token of ['not-a-jwt', agent.session!.refreshJwt]) {
      const res = await upload(randomBytes(10), { token })
      expect([res.status, res.json.error]).toEqual([400, 'InvalidToken'])
    }
    expect(await r2Keys()).toEqual(keys)
    expect(await blobRows()).toEqual(rows)
  })
})
