/**
 * End to end over real HTTP and WebSockets: the Worker started by wrangler
 * (as `npm run dev` does, with local D1/R2/KV/DO and migrations applied),
 * driven by @atproto/api's AtpAgent and a verifying firehose consumer.
 */
import { AtpAgent } from '@atproto/api'
import { verifyRepoCar } from '@atproto/repo'
import { rmSync } from 'node:fs'
import { startLocalPds } from './worker'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeFrame } from '../../src/firehose/frames'
import { CommitVerifier } from '../firehose/verifier'

const PASSWORD = 'e2e-password'
let persist: string
let worker: Awaited<ReturnType<typeof startLocalPds>>['worker']
let base: URL
let did: string


beforeAll(async () => {
  const started = await startLocalPds({ handle: 'e2e.test', password: PASSWORD })
  ;({ worker, persist, url: base, did } = started)
})

afterAll(async () => {
  await worker?.dispose()
  if (persist) rmSync(persist, { recursive: true, force: true })
})

describe('the dev server, as a client sees it', () => {
  it('logs in with AtpAgent, posts an image, and serves it all back; the firehose verifies; logout ends the session', async () => {
    const agent = new AtpAgent({ service: base.toString() })
    await agent.login({ identifier: 'e2e.test', password: PASSWORD })
    expect(agent.session?.did).toBe(did)

    const ws = new WebSocket(new URL('/xrpc/com.atproto.sync.subscribeRepos?cursor=0', base.toString().replace('http', 'ws')))
    ws.binaryType = 'arraybuffer'
    const frames: ReturnType<typeof decodeFrame>[] = []
    ws.onmessage = (e) => frames.push(decodeFrame(new Uint8Array(e.data as ArrayBuffer)))
    await new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject)))

    const png = Uint8Array.from(atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='), (c) => c.charCodeAt(0))
    const blob = await agent.uploadBlob(png, { encoding: 'image/png' })
    const post = await agent.post({ text: 'over the wire', createdAt: new Date().toISOString(), embed: { $type: 'app.bsky.embed.images', images: [{ alt: 'px', image: blob.data.blob }] } })
    await agent.like(post.uri, post.cid)
    await agent.deletePost((await agent.post({ text: 'gone soon', createdAt: new Date().toISOString() })).uri)

    const got = await agent.com.atproto.repo.getRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: post.uri.split('/').at(-1)! })
    expect((got.data.value as any).text).toBe('over the wire')
    const bytes = await fetch(new URL(`/xrpc/com.atproto.sync.getBlob?did=${encodeURIComponent(did)}&cid=${blob.data.blob.ref.toString()}`, base))
    expect(bytes.headers.get('content-type')).toBe('image/png')
    expect(new Uint8Array(await bytes.arrayBuffer())).toEqual(png)

    const doc = await (await fetch(new URL('/.well-known/did.json', base))).json()
    const didKey = `did:key:${doc.verificationMethod[0].publicKeyMultibase}`
    const car = new Uint8Array(await (await fetch(new URL(`/xrpc/com.atproto.sync.getRepo?did=${encodeURIComponent(did)}`, base))).arrayBuffer())
    const repo = await verifyRepoCar(car, did, didKey)
    expect(repo.creates.map((c) => c.collection).sort()).toEqual(['app.bsky.feed.like', 'app.bsky.feed.post'])

    // identity, account, sync, then 4 commits: post, like, post, delete.
    const deadline = Date.now() + 15_000
    while (frames.length < 7 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    ws.close()
    expect(frames.map((f) => f.body.seq)).toEqual([1, 2, 3, 4, 5, 6, 7])
    const verifier = new CommitVerifier(didKey)
    for (const f of frames) await verifier.frame(f as never)
    expect(verifier.verified).toBe(4)

    const refresh = agent.session!.refreshJwt
    await agent.logout()
    const res = await fetch(new URL('/xrpc/com.atproto.server.refreshSession', base), { method: 'POST', headers: { authorization: `Bearer ${refresh}` } })
    expect(res.status).toBe(400)
    expect((await res.json()).error).toBe('InvalidToken')
  })

  it('answers CORS preflights the way browser clients need', async () => {
    const res = await fetch(new URL('/xrpc/com.atproto.repo.createRecord', base), {
      method: 'OPTIONS',
      headers: { origin: 'https://bsky.app', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,atproto-proxy' },
    })
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('atproto-proxy')
  })
})
