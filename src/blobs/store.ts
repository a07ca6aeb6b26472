/**
 * Blob bytes in R2. Each account's blobs live under `blobs/<did>/<cid>/<generation>`
 * (older rows: `blobs/<did>/<cid>`), so the same bytes are stored once per
 * account, garbage collection of one account's blob never touches another's,
 * and an upload racing the collector of the same CID writes an object the
 * collector does not know of (see `src/blobs/upload.ts`). Uploads too large to
 * buffer are streamed to a temporary key first (the CID is only known at the
 * end) and then copied under the CID: R2 has no rename.
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

/** Where a blob row's bytes are: `generation` null for rows from before generations. */
export const blobKey = (did: string, cid: string, generation: string | null) => (generation ? `blobs/${did}/${cid}/${generation}` : `blobs/${did}/${cid}`)
const tempKey = (did: string) => `${TEMP_PREFIX}${did}/${crypto.randomUUID()}`

/** An upload read and hashed, not yet under any blob key: in memory, or in a temporary R2 object. */
export interface StagedBlob {
  cid: string
  size: number
  /** The first bytes, for sniffing the type. */
  head: Uint8Array
  sha256: Uint8Array
  bytes?: Uint8Array
  tempKey?: string
}

export type IngestResult = ({ ok: true } & StagedBlob) | { ok: false; reason: 'empty' | 'tooLarge' | 'stalled' }

export interface IngestOptions {
  partBytes?: number
  /** Gives up when the client sends nothing for this long (a stalled upload must not hold the request). */
  idleMs?: number
}

/** How long an upload may send nothing before it is abandoned, unless configured. */
export const DEFAULT_UPLOAD_IDLE_MS = 20_000

/**
 * Reads an upload body once: hashes it incrementally (DigestStream is the
 * runtime's native streaming SHA-256), keeps its first bytes for sniffing and
 * stages it (`placeBlob` then stores it under a key). Memory stays around two
 * parts whatever the size. More than `maxBytes`, or a client that stalls →
 * nothing is left in R2.
 */
export async function ingestBlob(bucket: R2Bucket, did: string, body: ReadableStream<Uint8Array>, maxBytes: number, opts: IngestOptions = {}): Promise<IngestResult> {
  const partBytes = opts.partBytes ?? PART_BYTES
  const hasher = new crypto.DigestStream('SHA-256')
  const hashWriter = hasher.getWriter()
  const head = new Uint8Array(SNIFF_BYTES)
  let headLength = 0
  let part = new Uint8Array(partBytes)
  let filled = 0
  let size = 0
  let upload: PartUploader | null = null
  const chunks = readChunks(body, opts.idleMs ?? DEFAULT_UPLOAD_IDLE_MS)
  try {
    for await (const value of chunks) {
      if (value === STALLED) {
        await upload?.abort()
        return { ok: false, reason: 'stalled' }
      }
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
  const sha256 = new Uint8Array(await hasher.digest)
  const staged = { cid: blobCid(sha256).toString(), size, head: head.subarray(0, headLength), sha256 }
  if (!upload) return { ok: true, ...staged, bytes: part.subarray(0, filled) }
  if (filled > 0) await upload.push(part.subarray(0, filled))
  const temp = await upload.complete()
  return { ok: true, ...staged, tempKey: temp.key }
}

/** Stores staged bytes under `key`; R2 checks the sha-256 again, so the bytes under a CID are the ones hashed. */
export async function placeBlob(bucket: R2Bucket, staged: StagedBlob, key: string): Promise<void> {
  if (staged.bytes) {
    await bucket.put(key, staged.bytes, { sha256: staged.sha256 })
    return
  }
  const object = await bucket.get(staged.tempKey!)
  if (!object) throw new Error(`temporary upload ${staged.tempKey} vanished`)
  await bucket.put(key, object.body, { sha256: staged.sha256 })
}

/** Drops the temporary object of a staged upload, if it has one. */
export async function discardStaged(bucket: R2Bucket, staged: StagedBlob): Promise<void> {
  if (staged.tempKey) await bucket.delete(staged.tempKey)
}

/** Reads of at least this much, so a large body is not thousands of tiny chunks. */
const MIN_READ_BYTES = 256 * 1024

/** Yielded instead of bytes when the client sent nothing for the idle timeout. */
const STALLED = Symbol('stalled')

/**
 * A body's bytes in chunks of at least MIN_READ_BYTES (but the last), each in
 * its own buffer, or STALLED once a read has waited `idleMs` for any byte.
 * Request bodies in workerd are byte streams, read straight into the chunk's
 * buffer; other streams (tests) are read as they come.
 */
async function* readChunks(body: ReadableStream<Uint8Array>, idleMs: number): AsyncGenerator<Uint8Array | typeof STALLED, void, undefined> {
  let byob: ReadableStreamBYOBReader | null = null
  try {
    byob = body.getReader({ mode: 'byob' })
  } catch {}
  const reader = byob ?? body.getReader()
  const read = <T>(pending: Promise<T>) => withIdleTimeout(pending, idleMs)
  try {
    if (byob) {
      for (;;) {
        // Filled by successive reads, each timed on its own: a slow client that keeps sending is never cut off.
        let buffer = new Uint8Array(4 * MIN_READ_BYTES)
        let filled = 0
        let done = false
        while (filled < MIN_READ_BYTES && !done) {
          const result = await read(byob.read(buffer.subarray(filled)))
          if (result === STALLED) return yield STALLED
          if (result.value) {
            buffer = new Uint8Array(result.value.buffer)
            filled += result.value.byteLength
          }
          done = result.done
        }
        if (filled > 0) yield buffer.subarray(0, filled)
        if (done) return
      }
    }
    const plain = reader as ReadableStreamDefaultReader<Uint8Array>
    for (;;) {
      const result = await read(plain.read())
      if (result === STALLED) return yield STALLED
      if (result.done) return
      yield result.value
    }
  } finally {
    // Also what ends a stalled read: cancelling the body rejects it.
    await reader.cancel().catch(() => {})
  }
}

async function withIdleTimeout<T>(pending: Promise<T>, idleMs: number): Promise<T | typeof STALLED> {
  let timer: ReturnType<typeof setTimeout> | null = null
  const idle = new Promise<typeof STALLED>((resolve) => (timer = setTimeout(() => resolve(STALLED), idleMs)))
  try {
    return await Promise.race([pending, idle])
  } finally {
    clearTimeout(timer)
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
