import { readCarStream } from '@atproto/repo'
import { stageBlocksStatement, STAGE_BYTES_PER_STATEMENT } from '../../db/importWrites'
import { InvalidRequestError, PayloadTooLargeError, XrpcError } from '../../lib/errors'

export interface StagedCar {
  root: string
  /** The root commit's bytes (not staged: the switch writes our own commit). */
  commit: Uint8Array
  blocks: number
  bytes: number
}

export interface StageOptions {
  maxBytes: number
  /** Runs when the root commit arrives (checks that can refuse before the rest is staged). */
  onCommit?: (root: string, bytes: Uint8Array) => Promise<void>
  /** Runs between staging statements (the import lease is renewed there). */
  onProgress?: () => Promise<void>
}

/**
 * Stages a repo CAR into D1 as it streams in: blocks are checked against
 * their CIDs and written about a megabyte per statement, one statement in
 * flight while the next is read, so memory holds two pages whatever the
 * CAR's size. Throws InvalidRequestError for a CAR that is malformed or
 * truncated mid-block (one truncated between blocks is caught by the walk).
 */
export async function stageCar(d1: D1Database, did: string, marker: string, body: ReadableStream<Uint8Array>, opts: StageOptions): Promise<StagedCar> {
  let bytes = 0
  const counted = (async function* () {
    const reader = body.getReader()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        bytes += value.byteLength
        if (bytes > opts.maxBytes) throw new PayloadTooLargeError(`Repo CAR is larger than ${opts.maxBytes} bytes`)
        yield value
      }
    } finally {
      reader.releaseLock()
    }
  })()

  let root: string | null = null
  let commit: Uint8Array | null = null
  let blocks = 0
  let page: { cid: string; bytes: Uint8Array }[] = []
  let pageBytes = 0
  // The statement in flight settles to its error (or null), so a failure is never an unhandled rejection.
  let inflight: Promise<unknown> = Promise.resolve(null)
  let writeFailure: unknown = null
  const settle = async () => {
    const failed = await inflight
    inflight = Promise.resolve(null)
    if (failed) throw (writeFailure = failed)
  }
  const flush = async () => {
    await settle()
    await opts.onProgress?.()
    if (page.length === 0) return
    const stmt = stageBlocksStatement(d1, did, marker, page)
    inflight = stmt.run().then(
      () => null,
      (err: unknown) => err,
    )
    page = []
    pageBytes = 0
  }

  try {
    const car = await readCarStream(counted)
    if (car.roots.length !== 1) throw new InvalidRequestError(`Invalid repo CAR: expected one root, found ${car.roots.length}`)
    root = car.roots[0]!.toString()
    for await (const block of car.blocks) {
      const cid = block.cid.toString()
      blocks++
      if (cid === root) {
        commit = block.bytes.slice()
        await opts.onCommit?.(root, commit)
        continue
      }
      page.push({ cid, bytes: block.bytes })
      pageBytes += block.bytes.byteLength
      if (pageBytes >= STAGE_BYTES_PER_STATEMENT) await flush()
    }
    await flush()
    await settle()
  } catch (err) {
    await inflight
    // Refusals and D1's own failures pass as they are; anything else is the CAR's fault.
    if (err instanceof XrpcError || err === writeFailure) throw err
    if (bytes === 0) throw new InvalidRequestError('Request body is empty')
    throw new InvalidRequestError(`Invalid repo CAR: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (!commit) throw new InvalidRequestError(`Invalid repo CAR: the root commit ${root} is not in it`)
  return { root: root!, commit, blocks, bytes }
}
