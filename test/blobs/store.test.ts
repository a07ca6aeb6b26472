import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { blobKey, ingestBlob } from '../../src/blobs/store'
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
  it('streams an upload larger than a part through a multipart temp object, then stores it under its CID only', async () => {
    const bytes = randomBytes(2 * PART + 12_345)
    const result = await ingestBlob(env.BLOBS, TEST_DID, streamOf(bytes), 20 * MiB, PART)
    const cid = await expectedCid(bytes)
    expect(result).toMatchObject({ ok: true, cid, size: bytes.byteLength })
    expect(await r2Keys()).toEqual([blobKey(TEST_DID, cid)])
    // Compared by hash: a failing toEqual on megabytes would print them all.
    const stored = new Uint8Array(await (await env.BLOBS.get(blobKey(TEST_DID, cid)))!.arrayBuffer())
    expect(stored.byteLength).toBe(bytes.byteLength)
    expect(await expectedCid(stored)).toBe(cid)

    // The same bytes again: same CID, still one object, no temp left behind.
    const again = await ingestBlob(env.BLOBS, TEST_DID, streamOf(bytes, 1 * MiB), 20 * MiB, PART)
    expect(again).toMatchObject({ ok: true, cid })
    expect(await r2Keys()).toEqual([blobKey(TEST_DID, cid)])
  })

  it('aborts a streamed upload that grows past the limit and leaves nothing in R2', async () => {
    const before = await r2Keys()
    const result = await ingestBlob(env.BLOBS, TEST_DID, streamOf(randomBytes(3 * PART)), 2 * PART + 1, PART)
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
