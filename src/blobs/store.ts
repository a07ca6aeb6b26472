/**
 * Blob bytes in R2. Each account's blobs live under `blobs/<did>/<cid>`, so
 * the same bytes are stored once per account and garbage collection of one
 * account's blob never touches another's. Uploads too large to buffer are
 * streamed to a temporary key first (the CID is only known at the end) and
 * then copied under the CID: R2 has no rename.
 */
import { blobCid } from './cid'
import { SNIFF_BYTES } from './sniffMime'

/**
 * Uploads up to this size are buffered and written once, under their CID;
 * larger ones go to R2 as a multipart upload of parts this size (R2 wants
 * every part but the last the same size, and at least 5 MiB).
 */
export const PART_BYTES = 8 * 1024 * 1024

const TEMP_PREFIX = 'tmp/'

export const blobKey = (did: string, cid: string) => `blobs/${did}/${cid}`
const tempKey = (did: string) => `${TEMP_PREFIX}${did}/${crypto.randomUUID()}`

export type IngestResult =
  | { ok: true; cid: string; size: number; head: Uint8Array }
  | { ok: false; reason: 'empty' | 'tooLarge' }

/**
 * Reads an upload body once: hashes it incrementally (DigestStream is the
 * runtime's native streaming SHA-256), keeps its first bytes for sniffing and
 * stores it in R2 under its CID. Memory stays around two parts whatever the
 * size. More than `maxBytes` → nothing is left in R2.
 */
export async function ingestBlob(bucket: R2Bucket, did: string, body: ReadableStream<Uint8Array>, maxBytes: number, partBytes = PART_BYTES): Promise<IngestResult> {
  const hasher = new crypto.DigestStream('SHA-256')
  const hashWriter = hasher.getWriter()
  const head = new Uint8Array(SNIFF_BYTES)
  let headLength = 0
  let part = new Uint8Array(partBytes)
  let filled = 0
  let size = 0
  let upload: PartUploader | null = null
  const chunks = readChunks(body)
  try {
    for await (const value of chunks) {
      size += value.byteLength
      if (size > maxBytes) {
        // Leaving the loop cancels the rest of the body.
        await upload?.abort()
        return { ok: false, reason: 'tooLarge' }
      }
      if (headLength < SNIFF_BYTES) {
        const n = Math.min(SNIFF_BYTES - headLength, value.byteLength)
        head.set(value.subarray(0, n), headLength)
        headLength += n
      }
      for (let offset = 0; offset < value.byteLength; ) {
        if (filled === partBytes) {
          // A full part and more bytes to come: this upload is too large to buffer.
          upload ??= new PartUploader(await bucket.createMultipartUpload(tempKey(did)))
          await upload.push(part)
          part = new Uint8Array(partBytes)
          filled = 0
        }
        const n = Math.min(partBytes - filled, value.byteLength - offset)
        part.set(value.subarray(offset, offset + n), filled)
        filled += n
        offset += n
      }
      // After the copy above: a native sink may take the chunk's buffer.
      await hashWriter.write(value)
    }
  } catch (err) {
    await upload?.abort()
    throw err
  }
  await hashWriter.close()
  if (size === 0) return { ok: false, reason: 'empty' }
  const digest = new Uint8Array(await hasher.digest)
  const cid = blobCid(digest).toString()
  const key = blobKey(did, cid)

  if (!upload) {
    // Unconditional: rewriting identical bytes is harmless and heals a racing GC delete.
    await bucket.put(key, part.subarray(0, filled), { sha256: digest })
  } else {
    if (filled > 0) await upload.push(part.subarray(0, filled))
    const temp = await upload.complete()
    try {
      if (!(await bucket.head(key))) {
        const object = await bucket.get(temp.key)
        if (!object) throw new Error(`temporary upload ${temp.key} vanished`)
        // R2 checks the sha-256 again on the copy: the bytes under the CID are the ones hashed.
        await bucket.put(key, object.body, { sha256: digest })
      }
    } finally {
      await bucket.delete(temp.key)
    }
  }
  return { ok: true, cid, size, head: head.subarray(0, headLength) }
}

/** Reads of at least this much, so a large body is not thousands of tiny chunks. */
const MIN_READ_BYTES = 256 * 1024

/**
 * A body's bytes in chunks of at least MIN_READ_BYTES (but the last), each in
 * its own buffer. Request bodies in workerd are byte streams with
 * `readAtLeast`; other streams (tests) are read as they come.
 */
async function* readChunks(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array, void, undefined> {
  let byob: ReadableStreamBYOBReader | null = null
  try {
    byob = body.getReader({ mode: 'byob' })
  } catch {}
  if (byob && 'readAtLeast' in byob) {
    try {
      for (;;) {
        // readAtLeast (workerd) waits for MIN_READ_BYTES unless the body ends first.
        const { done, value } = await byob.readAtLeast(MIN_READ_BYTES, new Uint8Array(4 * MIN_READ_BYTES))
        if (value && value.byteLength > 0) yield value
        if (done) return
      }
    } finally {
      await byob.cancel().catch(() => {})
    }
  }
  const reader = body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      yield value
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
}

/** Multipart upload with one part in flight while the next is being read. */
class PartUploader {
  #parts: R2UploadedPart[] = []
  #inFlight: Promise<void> = Promise.resolve()

  constructor(readonly upload: R2MultipartUpload) {}

  async push(bytes: Uint8Array): Promise<void> {
    await this.#inFlight
    const partNumber = this.#parts.length + 1
    this.#inFlight = this.upload.uploadPart(partNumber, bytes).then((p) => {
      this.#parts[partNumber - 1] = p
    })
    // Reserve the slot now so the next part number is right.
    this.#parts.length = partNumber
  }

  async complete(): Promise<R2Object> {
    await this.#inFlight
    return this.upload.complete(this.#parts)
  }

  async abort(): Promise<void> {
    await this.#inFlight.catch(() => {})
    await this.upload.abort().catch(() => {})
  }
}

/** Temporary objects left by uploads that died mid-way, older than `before`. */
export async function deleteStaleTempObjects(bucket: R2Bucket, before: number): Promise<number> {
  let deleted = 0
  let cursor: string | undefined
  do {
    const page = await bucket.list({ prefix: TEMP_PREFIX, cursor, limit: 1000 })
    const stale = page.objects.filter((o) => o.uploaded.getTime() < before).map((o) => o.key)
    if (stale.length > 0) await bucket.delete(stale)
    deleted += stale.length
    cursor = page.truncated ? page.cursor : undefined
  } while (cursor)
  return deleted
}
