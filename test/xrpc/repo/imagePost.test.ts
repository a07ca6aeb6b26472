import { env } from 'cloudflare:workers'
import { sha256 } from 'multiformats/hashes/sha2'
import * as raw from 'multiformats/codecs/raw'
import { CID } from 'multiformats/cid'
import { describe, expect, it } from 'vitest'
import { loggedInAgent, TEST_DID, worker, xrpc, xrpcUrl } from '../../helpers'

// A valid 1x1 PNG.
const PNG = Uint8Array.from(atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='), (c) => c.charCodeAt(0))

describe('an image post made with AtpAgent', () => {
  it('uploads, references, serves back identical bytes, and becomes collectable when the post is deleted', async () => {
    const agent = await loggedInAgent()
    const { data } = await agent.uploadBlob(PNG, { encoding: 'image/png' })
    const expected = CID.createV1(raw.code, await sha256.digest(PNG)).toString()
    expect(data.blob.ref.toString()).toBe(expected)

    // Temporary until a commit references it.
    expect((await xrpc('com.atproto.sync.getBlob', { params: { did: TEST_DID, cid: expected } })).json.error).toBe('BlobNotFound')

    const post = await agent.post({
      text: 'look',
      createdAt: new Date().toISOString(),
      embed: { $type: 'app.bsky.embed.images', images: [{ alt: 'a pixel', image: data.blob }] },
    })
    const res = await worker.fetch(xrpcUrl('com.atproto.sync.getBlob', { did: TEST_DID, cid: expected }))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('image/png')
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(PNG)

    // The record round-trips with its blob ref intact.
    const rkey = post.uri.split('/').at(-1)!
    const got = await xrpc('com.atproto.repo.getRecord', { params: { repo: TEST_DID, collection: 'app.bsky.feed.post', rkey } })
    expect(got.json.value.embed.images[0].image).toEqual({ $type: 'blob', ref: { $link: expected }, mimeType: 'image/png', size: PNG.byteLength })
    const refs = await env.DB.prepare('SELECT blob_cid FROM record_blob WHERE record_uri = ?').bind(post.uri).all()
    expect(refs.results).toEqual([{ blob_cid: expected }])

    await agent.deletePost(post.uri)
    expect((await env.DB.prepare('SELECT COUNT(*) AS n FROM record_blob WHERE blob_cid = ?').bind(expected).first<{ n: number }>())!.n).toBe(0)
    expect((await xrpc('com.atproto.sync.getBlob', { params: { did: TEST_DID, cid: expected } })).json.error).toBe('BlobNotFound')
  })

  it('an update that drops the image drops its reference; one that keeps it keeps it', async () => {
    const agent = await loggedInAgent()
    const { data } = await agent.uploadBlob(PNG, { encoding: 'image/png' })
    const embed = { $type: 'app.bsky.embed.images', images: [{ alt: 'a pixel', image: data.blob }] }
    const post = await agent.post({ text: 'v1', createdAt: new Date().toISOString(), embed })
    const rkey = post.uri.split('/').at(-1)!
    const refs = async () => (await env.DB.prepare('SELECT COUNT(*) AS n FROM record_blob WHERE record_uri = ?').bind(post.uri).first<{ n: number }>())!.n
    const put = (record: Record<string, unknown>) => agent.com.atproto.repo.putRecord({ repo: TEST_DID, collection: 'app.bsky.feed.post', rkey, record: { $type: 'app.bsky.feed.post', createdAt: new Date().toISOString(), ...record } })
    expect(await refs()).toBe(1)
    await put({ text: 'v2', embed })
    expect(await refs()).toBe(1)
    await put({ text: 'v3, no image' })
    expect(await refs()).toBe(0)
  })

  it('refuses a record whose blob ref disagrees with the upload, writing nothing', async () => {
    const agent = await loggedInAgent()
    const { data } = await agent.uploadBlob(PNG, { encoding: 'image/png' })
    const before = await env.DB.prepare('SELECT cid FROM repo_root').first()
    const wrongSize = { $type: 'blob', ref: { $link: data.blob.ref.toString() }, mimeType: 'image/png', size: PNG.byteLength + 1 }
    const res = await xrpc('com.atproto.repo.createRecord', {
      token: agent.session!.accessJwt,
      body: { repo: TEST_DID, collection: 'app.bsky.feed.post', record: { text: 'x', createdAt: new Date().toISOString(), embed: { $type: 'app.bsky.embed.images', images: [{ alt: '', image: wrongSize }] } } },
    })
    expect([res.status, res.json.error]).toEqual([400, 'InvalidRequest'])
    expect(await env.DB.prepare('SELECT cid FROM repo_root').first()).toEqual(before)
  })
})
