import { Secp256k1Keypair } from '@atproto/crypto'
import { jsonToLex } from '@atproto/lex-json'
import { BlockMap, blocksToCarFile, MemoryBlockstore, readCarWithRoot, Repo, signCommit, verifyRepoCar, WriteOpAction } from '@atproto/repo'
import * as dagCbor from '@ipld/dag-cbor'
import { TID } from '@atproto/common-web'
import { env } from 'cloudflare:workers'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, it } from 'vitest'
import { CommitVerifier, didKeyFromDidDoc, FirehoseClient } from '../../firehose/consumer'
import { loggedInAgent, TEST_DID, worker, xrpc, xrpcUrl } from '../../helpers'

const PNG = Uint8Array.from(atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=='), (c) => c.charCodeAt(0))

/** The repo as another PDS would export it: same DID, signed with that PDS's key. */
async function exportFromOldPds(did = TEST_DID) {
  const blobCid = CID.createV1(raw.code, await sha256.digest(PNG)).toString()
  const storage = new MemoryBlockstore()
  const writes = [
    { rkey: '3kaaaaaaaaaa2', value: { $type: 'app.bsky.feed.post', text: 'from the old PDS', createdAt: '2025-01-01T00:00:00.000Z' } },
    {
      rkey: '3kaaaaaaaaab2',
      value: {
        $type: 'app.bsky.feed.post',
        text: 'with a picture',
        createdAt: '2025-01-02T00:00:00.000Z',
        embed: { $type: 'app.bsky.embed.images', images: [{ alt: '', image: { $type: 'blob', ref: { $link: blobCid }, mimeType: 'image/png', size: PNG.byteLength } }] },
      },
    },
  ]
  const repo = await Repo.create(
    storage,
    did,
    await Secp256k1Keypair.create(),
    writes.map((w) => ({ action: WriteOpAction.Create, collection: 'app.bsky.feed.post', rkey: w.rkey, record: jsonToLex(w.value) as never })),
  )
  return { car: await blocksToCarFile(repo.cid, storage.blocks), rev: repo.commit.rev, blobCid }
}

async function importCar(token: string, car: Uint8Array) {
  const res = await worker.fetch(xrpcUrl('com.atproto.repo.importRepo'), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/vnd.ipld.car' },
    body: car,
  })
  return { status: res.status, json: (await res.json().catch(() => ({}))) as any }
}

const state = async () =>
  env.DB.prepare("SELECT (SELECT cid FROM repo_root) AS root, (SELECT COUNT(*) FROM record) AS records, (SELECT COUNT(*) FROM repo_block) AS blocks, (SELECT COUNT(*) FROM repo_block WHERE repo_rev LIKE 'import-%') + (SELECT COUNT(*) FROM import_node) + (SELECT COUNT(*) FROM import_record) AS staged").first()

describe('com.atproto.repo.importRepo (account migration)', () => {
  it('refuses while the account is active, and refuses a bad CAR or another DID’s repo, changing nothing', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    await agent.post({ text: 'here first', createdAt: new Date().toISOString() })
    const before = await state()
    const { car } = await exportFromOldPds()
    expect((await importCar(token, car)).json.error).toBe('InvalidRequest')
    await xrpc('com.atproto.server.deactivateAccount', { token, body: {} })
    for (const bad of [new Uint8Array([1, 2, 3]), (await exportFromOldPds('did:web:someone-else.test')).car]) {
      const res = await importCar(token, bad)
      expect([res.status, res.json.error]).toEqual([400, 'InvalidRequest'])
    }
    expect(await state()).toEqual(before)
    await xrpc('com.atproto.server.activateAccount', { token, method: 'POST' })
  })

  it('replaces the repo, re-signs it with our key, lists the blobs to bring over, and carries on the chain after activation', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    const old = await agent.post({ text: 'replaced by the import', createdAt: new Date().toISOString() })
    const sub = await FirehoseClient.connect()
    const { car, rev: importedRev, blobCid } = await exportFromOldPds()

    expect((await xrpc('com.atproto.server.deactivateAccount', { token, body: {} })).status).toBe(200)
    const res = await importCar(token, car)
    expect(res.status, JSON.stringify(res.json)).toBe(200)
    expect(await state()).toMatchObject({ records: 2, staged: 0 })

    // The export now verifies against OUR DID document key, and holds exactly the imported records.
    await xrpc('com.atproto.server.activateAccount', { token, method: 'POST' })
    const didKey = await didKeyFromDidDoc()
    const exported = new Uint8Array(await (await worker.fetch(xrpcUrl('com.atproto.sync.getRepo', { did: TEST_DID }))).arrayBuffer())
    const verified = await verifyRepoCar(exported, TEST_DID, didKey)
    expect(verified.creates.map((c) => c.rkey).sort()).toEqual(['3kaaaaaaaaaa2', '3kaaaaaaaaab2'])
    expect(verified.commit.rev > importedRev).toBe(true)
    const gone = await xrpc('com.atproto.repo.getRecord', { params: { repo: TEST_DID, collection: 'app.bsky.feed.post', rkey: old.uri.split('/').at(-1)! } })
    expect(gone.json.error).toBe('RecordNotFound')
    const { blocks } = await readCarWithRoot(exported)
    // The old repo's blocks are only marked removed (an export in flight may still read them); the alarm prunes them.
    const stored = await env.DB.prepare('SELECT cid FROM repo_block WHERE removed_at IS NULL').all<{ cid: string }>()
    expect(stored.results.map((r) => r.cid).sort()).toEqual(blocks.cids().map(String).sort())

    // The picture's bytes are still at the old PDS: listed as missing until uploaded.
    expect((await agent.com.atproto.repo.listMissingBlobs({})).data.blobs.map((b) => b.cid)).toEqual([blobCid])
    await agent.uploadBlob(PNG, { encoding: 'image/png' })
    expect((await agent.com.atproto.repo.listMissingBlobs({})).data.blobs).toEqual([])
    expect((await xrpc('com.atproto.sync.getBlob', { params: { did: TEST_DID, cid: blobCid } })).status).toBe(200)

    // Relays hear #sync with the new signed head; the next commit chains onto it.
    await agent.post({ text: 'first post after the move', createdAt: new Date().toISOString() })
    await sub.until((f) => f.some((x) => x.header.t === '#commit'))
    const types = sub.frames.map((f) => f.header.t)
    expect(types).toEqual(['#account', '#sync', '#identity', '#account', '#sync', '#commit'])
    const importSync = sub.frames[1]!.body
    expect(importSync.rev).toBe(verified.commit.rev)
    const next = sub.frames.at(-1)!.body
    expect(next.since).toBe(verified.commit.rev)
    const verifier = new CommitVerifier(didKey)
    for (const f of sub.frames) await verifier.frame(f)
    expect([verifier.synced, verifier.verified]).toEqual([2, 1])
    sub.close()
  })
})

describe('importRepo: one at a time, never backwards, legacy blob refs', () => {
  it('refuses a second import while one is running; the first lands whole and nothing of the second is left', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    await xrpc('com.atproto.server.deactivateAccount', { token, body: {} })
    const [a, b] = [await exportFromOldPds(), await exportFromOldPds()]
    const results = await Promise.all([importCar(token, a.car), importCar(token, b.car)])
    const statuses = results.map((r) => r.status).sort()
    expect(statuses).toEqual([200, 409])
    expect(results.find((r) => r.status === 409)!.json).toMatchObject({ error: 'ImportInProgress', message: expect.stringContaining('Another import is in progress') })
    expect(await state()).toMatchObject({ records: 2, staged: 0 })
    // The lease is released: a later import runs (and is judged on its own merits).
    expect((await importCar(token, (await exportFromOldPds()).car)).status).toBe(200)
    // The repo that landed is complete: every block its export needs is stored.
    await xrpc('com.atproto.server.activateAccount', { token, method: 'POST' })
    const exported = new Uint8Array(await (await worker.fetch(xrpcUrl('com.atproto.sync.getRepo', { did: TEST_DID }))).arrayBuffer())
    expect((await verifyRepoCar(exported, TEST_DID, await didKeyFromDidDoc())).creates).toHaveLength(2)
  })

  it('refuses an export older than the repo here unless replace=true', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    const stale = await exportFromOldPds()
    await agent.post({ text: 'newer than that export', createdAt: new Date().toISOString() })
    await xrpc('com.atproto.server.deactivateAccount', { token, body: {} })
    const before = await state()
    const refused = await importCar(token, stale.car)
    expect([refused.status, refused.json.message]).toEqual([400, expect.stringContaining('is newer than the imported one')])
    expect(await state()).toEqual(before)
    const res = await worker.fetch(xrpcUrl('com.atproto.repo.importRepo', { replace: true }), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/vnd.ipld.car' },
      body: stale.car,
    })
    expect(res.status).toBe(200)
    expect(await state()).toMatchObject({ records: 2, staged: 0 })
    await xrpc('com.atproto.server.activateAccount', { token, method: 'POST' })
  })

  it('tracks legacy {cid, mimeType} blob references: listed as missing, kept once uploaded', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    const png = new Uint8Array([...PNG, 1, 2, 3])
    const blobCid = CID.createV1(raw.code, await sha256.digest(png)).toString()
    const storage = new MemoryBlockstore()
    // A 2022 profile: the avatar is a bare {cid, mimeType}.
    const profile = { $type: 'app.bsky.actor.profile', displayName: 'Old Timer', avatar: { cid: blobCid, mimeType: 'image/png' } }
    const repo = await Repo.create(storage, TEST_DID, await Secp256k1Keypair.create(), [
      { action: WriteOpAction.Create, collection: 'app.bsky.actor.profile', rkey: 'self', record: jsonToLex(profile) as never },
    ])
    await xrpc('com.atproto.server.deactivateAccount', { token, body: {} })
    const res = await worker.fetch(xrpcUrl('com.atproto.repo.importRepo', { replace: true }), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/vnd.ipld.car' },
      body: await blocksToCarFile(repo.cid, storage.blocks),
    })
    expect(res.status).toBe(200)
    expect((await agent.com.atproto.repo.listMissingBlobs({})).data.blobs).toEqual([{ cid: blobCid, recordUri: `at://${TEST_DID}/app.bsky.actor.profile/self` }])
    await agent.uploadBlob(png, { encoding: 'image/png' })
    expect((await agent.com.atproto.repo.listMissingBlobs({})).data.blobs).toEqual([])
    expect((await xrpc('com.atproto.server.checkAccountStatus', { token })).json).toMatchObject({ expectedBlobs: 1 })
    await xrpc('com.atproto.server.activateAccount', { token, method: 'POST' })
  })
})

describe('importRepo: streamed into D1 in pages, verified from there', () => {
  const post = (i: number) => ({ $type: 'app.bsky.feed.post', text: `post ${i} ${'x'.repeat(200)}`, createdAt: '2025-01-01T00:00:00.000Z' })

  it('imports a repo larger than one staging statement and one page of nodes and records, every record indexed', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    const storage = new MemoryBlockstore()
    const n = 4500
    const repo = await Repo.create(
      storage,
      TEST_DID,
      await Secp256k1Keypair.create(),
      Array.from({ length: n }, (_, i) => ({ action: WriteOpAction.Create, collection: 'app.bsky.feed.post', rkey: `3kaa${String(i).padStart(8, '0').replace(/[0189]/g, (d) => 'abcd'['0189'.indexOf(d)]!)}2`, record: post(i) as never })),
    )
    const car = await blocksToCarFile(repo.cid, storage.blocks)
    expect(car.byteLength).toBeGreaterThan(1024 * 1024)
    await xrpc('com.atproto.server.deactivateAccount', { token, body: {} })
    const res = await importCar(token, car)
    expect(res.status, JSON.stringify(res.json)).toBe(200)
    expect(await state()).toMatchObject({ records: n, staged: 0 })
    await xrpc('com.atproto.server.activateAccount', { token, method: 'POST' })
    const exported = new Uint8Array(await (await worker.fetch(xrpcUrl('com.atproto.sync.getRepo', { did: TEST_DID }))).arrayBuffer())
    expect((await verifyRepoCar(exported, TEST_DID, await didKeyFromDidDoc())).creates).toHaveLength(n)
    const listed = await agent.com.atproto.repo.listRecords({ repo: TEST_DID, collection: 'app.bsky.feed.post', limit: 1 })
    expect(listed.data.records[0]!.value).toMatchObject({ $type: 'app.bsky.feed.post' })
  })

  it('refuses a CAR cut between two blocks (the walk finds the missing ones) and a CAR cut mid-block, leaving nothing staged', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    await xrpc('com.atproto.server.deactivateAccount', { token, body: {} })
    const before = await state()
    const { car } = await exportFromOldPds()
    // blocksToCarFile writes the commit first, then the MST and records: keep the header, the commit and one more block.
    const cut = carPrefix(car, 2)
    for (const bad of [cut, car.slice(0, car.byteLength - 7)]) {
      const res = await importCar(token, bad)
      expect([res.status, res.json.error], JSON.stringify(res.json)).toEqual([400, 'InvalidRequest'])
      expect(res.json.message).toMatch(/^Invalid repo CAR: /)
    }
    expect(await state()).toEqual(before)
    await xrpc('com.atproto.server.activateAccount', { token, method: 'POST' })
  })

  it('refuses an MST whose keys are out of order, changing nothing', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    await xrpc('com.atproto.server.deactivateAccount', { token, body: {} })
    const before = await state()
    const record = await block(post(1))
    const node = await block({
      l: null,
      e: [
        { p: 0, k: new TextEncoder().encode('app.bsky.feed.post/3kaaaaaaaaab2'), v: record.cid, t: null },
        { p: 19, k: new TextEncoder().encode('3kaaaaaaaaaa2'), v: record.cid, t: null },
      ],
    })
    const key = await Secp256k1Keypair.create()
    const commit = await block(await signCommit({ did: TEST_DID, version: 3, data: node.cid, rev: TID.nextStr(), prev: null }, key))
    const blocks = new BlockMap()
    for (const b of [commit, node, record]) blocks.set(b.cid, b.bytes)
    const res = await importCar(token, await blocksToCarFile(commit.cid, blocks))
    expect([res.status, res.json.message]).toEqual([400, expect.stringContaining('out of order')])
    expect(await state()).toEqual(before)
    await xrpc('com.atproto.server.activateAccount', { token, method: 'POST' })
  })

  it('clears what an import that died midway left behind', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    await xrpc('com.atproto.server.deactivateAccount', { token, body: {} })
    await env.DB.batch([
      env.DB.prepare("INSERT INTO repo_block (did, cid, repo_rev, content, size, removed_at) VALUES (?, 'bafyleftover', 'import-dead', x'00', 1, ?)").bind(TEST_DID, Number.MAX_SAFE_INTEGER),
      env.DB.prepare("INSERT INTO import_record (marker, uri, collection, rkey, cid, blobs) VALUES ('import-dead', 'at://x/y/z', 'y', 'z', 'bafyleftover', '[]')"),
    ])
    expect((await importCar(token, (await exportFromOldPds()).car)).status).toBe(200)
    expect(await state()).toMatchObject({ records: 2, staged: 0 })
    await xrpc('com.atproto.server.activateAccount', { token, method: 'POST' })
  })
})

async function block(value: unknown) {
  const bytes = dagCbor.encode(value)
  return { cid: CID.createV1(dagCbor.code, await sha256.digest(bytes)), bytes }
}

/** The CAR's header and its first `count` blocks. */
function carPrefix(car: Uint8Array, count: number): Uint8Array {
  const varint = (at: number): [number, number] => {
    let value = 0
    let shift = 0
    for (let i = at; ; i++) {
      value += (car[i]! & 0x7f) * 2 ** shift
      shift += 7
      if (car[i]! < 0x80) return [value, i + 1]
    }
  }
  let [len, at] = varint(0)
  at += len
  for (let i = 0; i < count; i++) {
    ;[len, at] = varint(at)
    at += len
  }
  return car.slice(0, at)
}
