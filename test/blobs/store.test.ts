import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { blobKey, discardStaged, ingestBlob, placeBlob } from '../../src/blobs/store'
import { TEST_DID } from '../helpers'
import { expectedCid, r2Keys, randomBytes } from './fixtures'

const MiB = 1024 * 1024
// R2's smallest multipart part: the smallest part size that exercises the streaming path.
const PART = 5 * MiB

/** A stream of `bytes` in odd-sized chunks that straddle part boundaries; no declared length. */
function streamOf(bytes: Uint8Array, chunk = 700_001): ReadableStream<Uint8Array> {
  let offset = 0
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close()
      controller.enqueue(bytes.slice(offset, offset + chunk))
      offset += chunk
    },
  })
}

describe('ingestBlob', () => {
  it('streams an upload larger than a part through a multipart temp object, then stores it under the key given, only', async () => {
    const bytes = randomBytes(2 * PART + 12_345)
    const result = await ingestBlob(env.BLOBS, TEST_DID, streamOf(bytes), 20 * MiB, { partBytes: PART })
    const cid = await expectedCid(bytes)
    expect(result).toMatchObject({ ok: true, cid, size: bytes.byteLength })
    if (!result.ok) throw new Error('not staged')
    expect(result.tempKey).toMatch(/^tmp\//)
    const key = blobKey(TEST_DID, cid, 'g1')
    await placeBlob(env.BLOBS, result, key)
    await discardStaged(env.BLOBS, result)
    expect(await r2Keys()).toEqual([key])
    // Compared by hash: a failing toEqual on megabytes would print them all.
    const stored = new Uint8Array(await (await env.BLOBS.get(key))!.arrayBuffer())
    expect(stored.byteLength).toBe(bytes.byteLength)
    expect(await expectedCid(stored)).toBe(cid)

    // A small upload stays in memory until placed: nothing in R2 before.
    const small = await ingestBlob(env.BLOBS, TEST_DID, streamOf(randomBytes(1000)), 20 * MiB, { partBytes: PART })
    expect(small.ok && small.bytes?.byteLength).toBe(1000)
    expect(await r2Keys()).toEqual([key])
  })

  it('aborts a streamed upload that grows past the limit and leaves nothing in R2', async () => {
    const before = await r2Keys()
    const result = await ingestBlob(env.BLOBS, TEST_DID, streamOf(randomBytes(3 * PART)), 2 * PART + 1, { partBytes: PART })
    expect(result).toEqual({ ok: false, reason: 'tooLarge' })
    expect(await r2Keys()).toEqual(before)
  })

  it('keeps the first bytes for sniffing even when they arrive one byte at a time', async () => {
    const bytes = randomBytes(100)
    const result = await ingestBlob(env.BLOBS, TEST_DID, streamOf(bytes, 1), MiB)
    expect(result.ok && result.head).toEqual(bytes.slice(0, 64))
    expect(result.ok && result.cid).toBe(await expectedCid(bytes))
  })

  it('reads a request body (a byte stream) in large reads, whole and unchanged', async () => {
    const bytes = randomBytes(3 * MiB + 7)
    const body = new Request('https://pds.test/', { method: 'POST', body: bytes }).body!
    const result = await ingestBlob(env.BLOBS, TEST_DID, body, 4 * MiB)
    expect(result).toMatchObject({ ok: true, cid: await expectedCid(bytes), size: bytes.byteLength })
    const tooLarge = await ingestBlob(env.BLOBS, TEST_DID, new Request('https://pds.test/', { method: 'POST', body: bytes }).body!, 2 * MiB)
    expect(tooLarge).toEqual({ ok: false, reason: 'tooLarge' })
  })
})
