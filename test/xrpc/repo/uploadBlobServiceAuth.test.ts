import { Secp256k1Keypair } from '@atproto/crypto'
import { describe, expect, it } from 'vitest'
import { createServiceJwt } from '../../../src/auth/serviceAuth'
import { blobRows, expectedCid } from '../../blobs/fixtures'
import { loggedInAgent, TEST_DID, worker, xrpcUrl } from '../../helpers'
import { standInVideoService } from '../../standIns'

const TEST_KEY = 'beda21e966f145733c5de18926b3d16d598237bbb3b318c2ca0f3ead7c6b91f8' // PDS_SIGNING_KEY in test/vitest.config.ts
const UPLOAD = 'com.atproto.repo.uploadBlob'
/** The first bytes of an MP4 file (an `ftyp` box, brand isom) and some payload. */
const MP4 = new Uint8Array([0, 0, 0, 0x18, ...new TextEncoder().encode('ftypisom'), 0, 0, 2, 0, ...new TextEncoder().encode('isomiso2'), ...crypto.getRandomValues(new Uint8Array(4096))])

async function uploadWith(token: string, body: Uint8Array = MP4) {
  const res = await worker.fetch(xrpcUrl(UPLOAD), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'video/mp4' }, body })
  return { status: res.status, json: (await res.json()) as any }
}

async function serviceToken(params: { aud: string; lxm?: string; exp?: number }) {
  const agent = await loggedInAgent()
  return (await agent.com.atproto.server.getServiceAuth(params)).data.token
}

describe('uploadBlob with the account\'s own service token (video uploads)', () => {
  it('a stand-in video service uploads with the token the app got from getServiceAuth', async () => {
    const app = await loggedInAgent()
    const describe = await app.com.atproto.server.describeServer()
    const { data } = await app.com.atproto.server.getServiceAuth({ aud: describe.data.did, lxm: UPLOAD, exp: Math.floor(Date.now() / 1000) + 30 * 60 })
    const video = standInVideoService()
    const res = await video.handler(
      new Request(`${video.url}/xrpc/app.bsky.video.uploadVideo?did=${TEST_DID}&name=clip.mp4`, { method: 'POST', headers: { authorization: `Bearer ${data.token}`, 'content-type': 'video/mp4' }, body: MP4 }),
    )
    const job: any = await res.json()
    expect(job.state).toBe('JOB_STATE_COMPLETED')
    const cid = await expectedCid(MP4)
    expect(job.blob).toEqual({ $type: 'blob', ref: { $link: cid }, mimeType: 'video/mp4', size: MP4.length })
    // Stored for our account like any upload, waiting for the post that references it.
    expect((await blobRows()).some((r) => r.cid === cid && r.did === TEST_DID)).toBe(true)
    // The app can now post the video with the blob the service handed back.
    await app.post({ text: 'a clip', embed: { $type: 'app.bsky.embed.video', video: job.blob } })
  })

  it('refuses a token for another method, another audience, an expired one, or one signed by another key', async () => {
    const key = await Secp256k1Keypair.import(TEST_KEY)
    const now = Math.floor(Date.now() / 1000)
    const cases: [string, string][] = [
      [await serviceToken({ aud: TEST_DID, lxm: 'com.atproto.repo.createRecord' }), 'BadJwtLexiconMethod'],
      [await serviceToken({ aud: 'did:web:video.test', lxm: UPLOAD }), 'BadJwtAudience'],
      [await createServiceJwt(key, { iss: TEST_DID, aud: TEST_DID, lxm: UPLOAD, exp: now - 5 }), 'JwtExpired'],
      [await createServiceJwt(await Secp256k1Keypair.create(), { iss: TEST_DID, aud: TEST_DID, lxm: UPLOAD }), 'BadJwtSignature'],
      [await createServiceJwt(key, { iss: 'did:web:someone.else', aud: TEST_DID, lxm: UPLOAD }), 'BadJwtIss'],
    ]
    const before = (await blobRows()).length
    for (const [token, error] of cases) {
      const res = await uploadWith(token)
      expect(res.status, error).toBe(401)
      expect(res.json.error).toBe(error)
    }
    expect((await blobRows()).length).toBe(before)
  })

  it('is accepted only by uploadBlob: the same kind of token on createRecord is an invalid session token', async () => {
    const token = await serviceToken({ aud: TEST_DID, lxm: 'com.atproto.repo.createRecord' })
    const res = await worker.fetch(xrpcUrl('com.atproto.repo.createRecord'), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ repo: TEST_DID, collection: 'app.bsky.feed.post', record: { text: 'x', createdAt: new Date().toISOString() } }),
    })
    expect(res.status).toBe(400)
    expect(((await res.json()) as any).error).toBe('InvalidToken')
  })
})
