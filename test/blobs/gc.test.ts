import { createExecutionContext, createScheduledController, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { collectGarbage } from '../../src/blobs/gc'
import { blobKey } from '../../src/blobs/store'
import { putBlob } from '../../src/db/blobs'
import { getDb } from '../../src/db/client'
import worker from '../../src/index'
import type { Env } from '../../src/env'
import { loggedInAgent, TEST_DID } from '../helpers'
import { blobRows, dereference, expectedCid, r2Keys, randomBytes, referenceBlob } from './fixtures'

const HOUR = 3600_000
const GRACE = 24 * HOUR // BLOB_TEMP_GRACE_HOURS default

let agent: Awaited<ReturnType<typeof loggedInAgent>> | undefined

async function upload(size = 100): Promise<string> {
  agent ??= await loggedInAgent()
  const { data } = await agent.uploadBlob(randomBytes(size))
  return data.blob.ref.toString()
}

/** Time passing: move a blob's upload time into the past. */
async function age(cid: string, ms: number) {
  await env.DB.prepare('UPDATE blob SET created_at = created_at - ? WHERE cid = ?').bind(ms, cid).run()
}

async function stored(cid: string) {
  // Any object of this CID, whatever its generation.
  return { row: (await blobRows()).some((r) => r.cid === cid), bytes: (await env.BLOBS.list({ prefix: `blobs/${TEST_DID}/${cid}` })).objects.length > 0 }
}

describe('collectGarbage', () => {
  it('removes exactly the unreferenced blobs past the grace period, from D1 and R2', async () => {
    const [fresh, stale, referenced, dropped, referencedTwice] = [await upload(), await upload(), await upload(), await upload(), await upload()]
    for (const cid of [stale, referenced, dropped, referencedTwice]) await age(cid, GRACE + HOUR)
    await referenceBlob(referenced)
    const { uri: droppedUri } = await referenceBlob(dropped)
    const [first] = [await referenceBlob(referencedTwice), await referenceBlob(referencedTwice)]
    await dereference(droppedUri) // the post was deleted
    await dereference(first!.uri) // one of two posts deleted: still referenced

    const result = await collectGarbage(env as unknown as Env, Date.now())
    expect(result.blobsDeleted).toBe(2)
    expect(await stored(stale)).toEqual({ row: false, bytes: false })
    expect(await stored(dropped)).toEqual({ row: false, bytes: false })
    for (const kept of [fresh, referenced, referencedTwice]) expect(await stored(kept)).toEqual({ row: true, bytes: true })

    // Nothing more to do on a second run.
    expect((await collectGarbage(env as unknown as Env, Date.now())).blobsDeleted).toBe(0)
  })

  it('keeps a blob referenced after upload however old it gets', async () => {
    const cid = await upload()
    await referenceBlob(cid)
    await age(cid, 365 * 24 * HOUR)
    await collectGarbage(env as unknown as Env, Date.now())
    expect(await stored(cid)).toEqual({ row: true, bytes: true })
  })

  it('deletes more than one batch, and temp objects abandoned by dead uploads', async () => {
    const db = getDb(env.DB)
    for (let i = 0; i < 210; i++) {
      const bytes = randomBytes(20)
      const cid = await expectedCid(bytes)
      // Rows from before generations: bytes under the CID alone.
      await env.BLOBS.put(blobKey(TEST_DID, cid, null), bytes)
      await putBlob(db, { did: TEST_DID, cid, mimeType: 'application/octet-stream', size: 20, createdAt: Date.now() })
    }
    await env.DB.prepare('UPDATE blob SET created_at = created_at - ?').bind(GRACE + HOUR).run()
    await env.DB.prepare('DELETE FROM record_blob').run()
    await env.BLOBS.put(`tmp/${TEST_DID}/abandoned`, randomBytes(10))
    // R2 stamps objects with the real time: run the collector as if a day had passed.
    const result = await collectGarbage(env as unknown as Env, Date.now() + GRACE + HOUR)
    expect(result.tempObjectsDeleted).toBe(1)
    expect(result.blobsDeleted).toBeGreaterThanOrEqual(210)
    expect(await blobRows()).toEqual([])
    expect(await r2Keys()).toEqual([])
  })

  it('runs from the cron trigger through the Worker’s scheduled handler', async () => {
    const cid = await upload()
    await age(cid, GRACE + HOUR)
    const ctx = createExecutionContext()
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: '17 * * * *' }), env as unknown as Env, ctx)
    await waitOnExecutionContext(ctx)
    expect(await stored(cid)).toEqual({ row: false, bytes: false })
  })
})
