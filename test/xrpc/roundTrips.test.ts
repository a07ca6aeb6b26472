import type { AccountActor } from '../../actors/account-actor'
import { evictDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { getServerByName } from 'partyserver'
import { TID } from '@atproto/common-web'
import { mstUtil } from '@atproto/repo'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { loggedInAgent, TEST_DID, TEST_HANDLE, worker, xrpcUrl } from '../helpers'

/**
 * What each request costs, read from its log line (src/lib/cost.ts): D1 round
 * trips are pinned as behaviour, since on Cloudflare each one is a network hop
 * from the Worker or the actor to the database.
 */
let lines: Record<string, any>[] = []
beforeEach(() => {
  lines = []
  vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
    if (typeof line === 'string' && line.startsWith('{')) lines.push(JSON.parse(line))
  })
})
afterEach(() => vi.restoreAllMocks())

let n = 0
/** Sends a request with a known request id and returns its response and its log line. */
async function traced(nsid: string, init: { params?: Record<string, string | number>; body?: unknown; token?: string } = {}) {
  const requestId = `trace-${++n}`
  const headers: Record<string, string> = { 'cf-ray': requestId }
  if (init.token) headers.authorization = `Bearer ${init.token}`
  if (init.body !== undefined) headers['content-type'] = 'application/json'
  const res = await worker.fetch(xrpcUrl(nsid, init.params), { method: init.body !== undefined ? 'POST' : 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) })
  const body = new Uint8Array(await res.arrayBuffer())
  expect(res.status, new TextDecoder().decode(body)).toBe(200)
  const line = lines.find((l) => l.msg === 'request' && l.requestId === requestId)
  expect(line, `log line of ${nsid}`).toBeDefined()
  return { body, line: line! }
}

const post = (text: string) => ({ repo: TEST_DID, collection: 'app.bsky.feed.post', record: { text, createdAt: new Date().toISOString() } })

async function createPosts(token: string, count: number) {
  const writes = Array.from({ length: count }, (_, i) => ({ $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.feed.post', value: { text: `fill ${i}`, createdAt: new Date().toISOString() } }))
  for (let i = 0; i < writes.length; i += 200) await traced('com.atproto.repo.applyWrites', { token, body: { repo: TEST_DID, writes: writes.slice(i, i + 200) } })
}

/** `count` fresh TIDs whose keys in `collection` sit at the MST's lowest layer. */
async function lowestLayerKeys(collection: string, count: number): Promise<string[]> {
  const keys: string[] = []
  while (keys.length < count) {
    const rkey = TID.nextStr()
    if ((await mstUtil.leadingZerosOnHash(`${collection}/${rkey}`)) === 0) keys.push(rkey)
  }
  return keys
}

describe('D1 round trips per request', () => {
  it('createRecord on a warm actor: one actor call, and one D1 round trip (the actor’s batch)', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    await traced('com.atproto.repo.createRecord', { token, body: post('warms the actor') })
    for (const text of ['one', 'two', 'three']) {
      const { line } = await traced('com.atproto.repo.createRecord', { token, body: post(text) })
      expect(line.actorCalls).toBe(1)
      expect(line.d1 ?? 0).toBe(0) // the Worker itself reads nothing
      // Its batch: its blocks, the record row, the blocks it dropped marked removed, the head, the event.
      expect(line.actor).toMatchObject({ d1: 1, statements: 5, requests: 1 })
      expect(line.actor.rowsWritten).toBeGreaterThan(0)
      expect(lines.filter((l) => l.msg === 'commit').at(-1)).toMatchObject({ commits: 1, d1: 1 })
    }
  })

  it('a cold actor’s first createRecord reads the head and the path the last write took in one round trip: two in all', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    await createPosts(token, 300) // a tree several levels deep
    await traced('com.atproto.repo.createRecord', { token, body: post('the head: one write, as usual') })
    await evictDurableObject(await getServerByName(env.ACCOUNT as unknown as DurableObjectNamespace<AccountActor>, TEST_DID))
    const { line } = await traced('com.atproto.repo.createRecord', { token, body: post('after a cold start') })
    // The head's load (head, seq, account, and the blocks the head commit wrote), then the batch.
    expect(line.actor).toMatchObject({ d1: 2, requests: 1 })
    const next = await traced('com.atproto.repo.createRecord', { token, body: post('warm again') })
    expect(next.line.actor).toMatchObject({ d1: 1 })
  })

  it('a cold actor’s first write in another recently written collection walks a path it already loaded: two round trips in all', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    await createPosts(token, 400)
    // Keys at the tree's lowest layer, so each like lands in the leaf of the one before it and walks its
    // path. A key at a higher layer also splits the subtree to its right, here the oldest posts' left
    // edge, whose nodes may be older than the head's load reaches: then it costs one query more.
    const rkeys = await lowestLayerKeys('app.bsky.feed.like', 6)
    const like = (i: number) => ({ repo: TEST_DID, collection: 'app.bsky.feed.like', rkey: rkeys[i], record: { subject: { uri: `at://${TEST_DID}/app.bsky.feed.post/3jzfcijpj2z2${'abcdefghij'[i]}`, cid: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm' }, createdAt: new Date().toISOString() } })
    for (let i = 0; i < 3; i++) await traced('com.atproto.repo.createRecord', { token, body: like(i) })
    // The head is a post: its path is not the likes' path below the root.
    for (const text of ['then a post', 'and another']) await traced('com.atproto.repo.createRecord', { token, body: post(text) })
    await evictDurableObject(await getServerByName(env.ACCOUNT as unknown as DurableObjectNamespace<AccountActor>, TEST_DID))
    const { line } = await traced('com.atproto.repo.createRecord', { token, body: like(5) })
    expect(line.actor).toMatchObject({ d1: 2, requests: 1 })
  })

  it('a record with an image costs one more round trip: the blob check, one query for the whole group', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    await traced('com.atproto.repo.createRecord', { token, body: post('warms the actor') })
    const upload = await agent.com.atproto.repo.uploadBlob(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]), { encoding: 'image/png' })
    const blob = upload.data.blob
    const ref = { $type: 'blob', ref: { $link: blob.ref.toString() }, mimeType: blob.mimeType, size: blob.size }
    const image = { $type: 'app.bsky.embed.images', images: [{ image: ref, alt: 'x' }] }
    const body = { repo: TEST_DID, collection: 'app.bsky.feed.post', record: { text: 'with image', createdAt: new Date().toISOString(), embed: image } }
    const { line } = await traced('com.atproto.repo.createRecord', { token, body })
    expect(line.actor).toMatchObject({ d1: 2, requests: 1 })
  })

  it('getRecord and a listRecords page are one D1 query each', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    const created = await traced('com.atproto.repo.createRecord', { token, body: post('read me') })
    const rkey = JSON.parse(new TextDecoder().decode(created.body)).uri.split('/').at(-1)
    await createPosts(token, 120)

    const get = await traced('com.atproto.repo.getRecord', { params: { repo: TEST_DID, collection: 'app.bsky.feed.post', rkey } })
    expect(get.line).toMatchObject({ d1: 1, statements: 1 })
    expect(get.line.actorCalls ?? 0).toBe(0)
    expect(get.line.rowsRead).toBeLessThanOrEqual(3)
    // By handle: the handle check rides in the same query.
    const byHandle = await traced('com.atproto.repo.getRecord', { params: { repo: TEST_HANDLE, collection: 'app.bsky.feed.post', rkey } })
    expect(byHandle.line).toMatchObject({ d1: 1, statements: 1 })
    expect(JSON.parse(new TextDecoder().decode(byHandle.body))).toEqual(JSON.parse(new TextDecoder().decode(get.body)))

    const page = await traced('com.atproto.repo.listRecords', { params: { repo: TEST_DID, collection: 'app.bsky.feed.post', limit: 50 } })
    expect(page.line).toMatchObject({ d1: 1, statements: 1 })
    // A page reads about its own rows (index entries and blocks), not the collection.
    expect(page.line.rowsRead).toBeLessThanOrEqual(2 * 50 + 5)
    const cursor = JSON.parse(new TextDecoder().decode(page.body)).cursor
    const next = await traced('com.atproto.repo.listRecords', { params: { repo: TEST_DID, collection: 'app.bsky.feed.post', limit: 50, cursor } })
    expect(next.line).toMatchObject({ d1: 1, statements: 1 })
    // By handle: the same page, the handle check in the same query.
    const pageByHandle = await traced('com.atproto.repo.listRecords', { params: { repo: TEST_HANDLE, collection: 'app.bsky.feed.post', limit: 50 } })
    expect(pageByHandle.line).toMatchObject({ d1: 1, statements: 1 })
    expect(JSON.parse(new TextDecoder().decode(pageByHandle.body))).toEqual(JSON.parse(new TextDecoder().decode(page.body)))
  })

  it('describeRepo lists collections without scanning every record', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    await createPosts(token, 300)
    await traced('com.atproto.repo.createRecord', { token, body: { repo: TEST_DID, collection: 'app.bsky.feed.like', record: { subject: { uri: `at://${TEST_DID}/app.bsky.feed.post/3jzfcijpj2z2a`, cid: 'bafyreidfayvfuwqa7qlnopdjiqrxzs6blmoeu4rujcjtnci5beludirz2a' }, createdAt: new Date().toISOString() } } })
    const { line, body } = await traced('com.atproto.repo.describeRepo', { params: { repo: TEST_HANDLE } })
    expect(JSON.parse(new TextDecoder().decode(body)).collections).toEqual(['app.bsky.feed.like', 'app.bsky.feed.post'])
    expect(line.d1).toBeLessThanOrEqual(2)
    expect(line.rowsRead).toBeLessThan(50)
  })

  it('getRepo reads D1 in pages of up to 1,000 blocks plus a fixed few, whatever the repo size', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    const exportCost = async () => {
      const { line } = await traced('com.atproto.sync.getRepo', { params: { did: TEST_DID } })
      const { n } = (await env.DB.prepare('SELECT COUNT(*) AS n FROM repo_block WHERE did = ?').bind(TEST_DID).first<{ n: number }>())!
      // The tree's height follows from its keys (a key's layer is its hash's leading zeros), and it is random:
      // the bound must use the height this repo has, not a typical one.
      const { results } = await env.DB.prepare('SELECT collection, rkey FROM record WHERE did = ?').bind(TEST_DID).all<{ collection: string; rkey: string }>()
      const layers = await Promise.all(results.map((r) => mstUtil.leadingZerosOnHash(`${r.collection}/${r.rkey}`)))
      return { queries: line.d1 as number, rowsRead: line.rowsRead as number, blocks: n, levels: Math.max(...layers) + 1 }
    }
    await createPosts(token, 50)
    const small = await exportCost()
    await createPosts(token, 1200)
    const large = await exportCost()
    for (const { queries, rowsRead, blocks, levels } of [small, large]) {
      // A fixed three (account, head, commit), then per level of the tree its nodes and their records,
      // each in queries of up to 1,000 blocks: never a query per node or per record.
      expect(queries).toBeLessThanOrEqual(3 + 2 * levels + 2 * Math.floor(blocks / 1000))
      // Each block is read once (plus its CID from the JSON parameter), not found by a scan.
      expect(rowsRead).toBeLessThanOrEqual(4 * blocks + 20)
    }
  })

  it('a commit reads a few rows whatever the repo size (no scan of the live blocks)', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    const commitRows = async () => {
      const { line } = await traced('com.atproto.repo.createRecord', { token, body: post('count my rows') })
      return line.actor.rowsRead as number
    }
    await commitRows()
    await createPosts(token, 600)
    expect(await commitRows()).toBeLessThan(80)
  })

  it('a createRecord writes its rows and no others: per block added 3, per block dropped 2, and 8 for the record, head and event', async () => {
    const agent = await loggedInAgent()
    const token = agent.session!.accessJwt
    await createPosts(token, 200) // a tree a few levels deep, so a write drops a path of nodes
    const blocks = async (where: string, ...args: unknown[]) => (await env.DB.prepare(`SELECT count(*) AS n FROM repo_block WHERE did = ?1 AND ${where}`).bind(TEST_DID, ...args).first<number>('n'))!
    const removed = () => blocks('removed_at IS NOT NULL')
    for (const text of ['count', 'my', 'rows']) {
      const before = await removed()
      const { body, line } = await traced('com.atproto.repo.createRecord', { token, body: post(text) })
      const { rev } = JSON.parse(new TextDecoder().decode(body)).commit
      const added = await blocks('repo_rev = ?2', rev)
      const dropped = (await removed()) - before
      // The record block, the commit and the new path of MST nodes (the root at least); the old
      // commit and the old path. A key whose hash puts it above the old root keeps that root as
      // its subtree: then only the old commit is dropped.
      expect(added).toBeGreaterThanOrEqual(3)
      expect(dropped).toBeGreaterThanOrEqual(1)
      // D1 counts index entries as rows written. A block: its row, its primary key entry and the
      // rev index. A dropped block: its row and the removal index. The record: its row, its key
      // and three indexes; the head one row; the event its row and the time index. An index or
      // statement added to the write path changes this count and must be worth its rows.
      expect(line.actor.rowsWritten).toBe(3 * added + 2 * dropped + 5 + 1 + 2)
    }
  })
})
