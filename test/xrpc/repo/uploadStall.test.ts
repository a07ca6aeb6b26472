import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import type { Env } from '../../../src/env'
import worker from '../../../src/index'
import { blobRows, r2Keys, randomBytes } from '../../blobs/fixtures'
import { loggedInAgent, xrpcUrl } from '../../helpers'

const MiB = 1024 * 1024
// Large enough for the declared 40 MB; a short idle timeout keeps the test quick.
const testEnv = { ...env, BLOB_MAX_BYTES: String(64 * MiB), BLOB_UPLOAD_IDLE_MS: '300' } as unknown as Env

/** Sends `sendBytes` in 1 MiB chunks, then neither more bytes nor the end: a client that stalled. */
function stallingBody(sendBytes: number, type?: 'bytes'): ReadableStream<Uint8Array> {
  let sent = 0
  return new ReadableStream({
    type,
    pull(controller) {
      if (sent >= sendBytes) return new Promise<void>(() => {})
      controller.enqueue(randomBytes(MiB))
      sent += MiB
    },
  } as UnderlyingByteSource)
}

describe('an upload that stalls', () => {
  it('is answered 408 RequestTimeout once the client sends nothing for the idle timeout, storing nothing', async () => {
    const token = (await loggedInAgent()).session!.accessJwt
    for (const type of [undefined, 'bytes'] as const) {
      const keys = await r2Keys()
      const rows = await blobRows()
      const req = new Request(xrpcUrl('com.atproto.repo.uploadBlob'), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'video/mp4', 'content-length': String(40 * MiB) },
        body: stallingBody(10 * MiB, type),
      })
      const ctx = createExecutionContext()
      const res = await worker.fetch(req, testEnv, ctx)
      await waitOnExecutionContext(ctx)
      expect([type, res.status, await res.json()]).toEqual([type, 408, { error: 'RequestTimeout', message: 'Upload stalled: no bytes received for 0.3 s' }])
      expect(await r2Keys()).toEqual(keys)
      expect(await blobRows()).toEqual(rows)
    }
  })
})
