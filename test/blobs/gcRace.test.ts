import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { collectGarbage } from '../../src/blobs/gc'
import type { Env } from '../../src/env'
import { loggedInAgent, TEST_DID, worker, xrpcUrl } from '../helpers'
import { randomBytes } from './fixtures'

const GRACE = 24 * 3600_000 // BLOB_TEMP_GRACE_HOURS default

/** R2 as the collector sees it, its deletes held until `release()`; `reached` settles when the first is attempted. */
function pausedDeletes(bucket: R2Bucket) {
  let release!: () => void
  let reach!: () => void
  const gate = new Promise<void>((r) => (release = r))
  const reached = new Promise<void>((r) => (reach = r))
  const paused = new Proxy(bucket, {
    get(target, prop) {
      if (prop === 'delete')
        return async (keys: string | string[]) => {
          reach()
          await gate
          return target.delete(keys)
        }
      const value = Reflect.get(target, prop)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  return { paused, reached, release }
}

const objectsOf = async (cid: string) => (await env.BLOBS.list({ prefix: `blobs/${TEST_DID}/${cid}` })).objects.map((o) => o.key)

describe('garbage collection racing an upload of the same bytes', () => {
  it('never leaves a row without bytes: the upload made while the collector deletes is served', async () => {
    const agent = await loggedInAgent()
    const bytes = randomBytes(4000)
    const first = await agent.uploadBlob(bytes, { encoding: 'application/octet-stream' })
    const cid = first.data.blob.ref.toString()
    // Uploaded long ago and never used: the collector's to delete.
    await env.DB.prepare('UPDATE blob SET created_at = created_at - ? WHERE cid = ?').bind(GRACE + 3600_000, cid).run()
    const [oldObject] = await objectsOf(cid)

    // The collector has deleted the row and is about to delete the bytes...
    const r2 = pausedDeletes(env.BLOBS)
    const gc = collectGarbage({ ...env, BLOBS: r2.paused } as unknown as Env, Date.now())
    await r2.reached
    // ...when the same bytes are uploaded again and committed.
    const again = await agent.uploadBlob(bytes, { encoding: 'application/octet-stream' })
    expect(again.data.blob.ref.toString()).toBe(cid)
    await agent.com.atproto.repo.createRecord({ repo: TEST_DID, collection: 'com.example.attachment', record: { $type: 'com.example.attachment', file: again.data.blob } })
    r2.release()
    expect((await gc).blobsDeleted).toBe(1)

    const res = await worker.fetch(xrpcUrl('com.atproto.sync.getBlob', { did: TEST_DID, cid }))
    expect(res.status).toBe(200)
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes)
    // The collected row's object went; the new row's stayed.
    const left = await objectsOf(cid)
    expect(left).toHaveLength(1)
    expect(left).not.toContain(oldObject)
  })

  it('an upload of bytes already stored keeps the existing row and object, writing no second one', async () => {
    const agent = await loggedInAgent()
    const bytes = randomBytes(3000)
    const first = await agent.uploadBlob(bytes)
    const before = await objectsOf(first.data.blob.ref.toString())
    const again = await agent.uploadBlob(bytes)
    expect(again.data.blob).toEqual(first.data.blob)
    expect(await objectsOf(first.data.blob.ref.toString())).toEqual(before)
    expect((await env.BLOBS.list({ prefix: 'tmp/' })).objects).toEqual([])
  })
})
