import { Secp256k1Keypair } from '@atproto/crypto'
import { jsonToLex } from '@atproto/lex-json'
import { MemoryBlockstore, readCarWithRoot, Repo, WriteOpAction, type RecordWriteOp } from '@atproto/repo'
import { cborToLex } from '@atproto/repo'
import { describe, expect, it } from 'vitest'
import { loggedInAgent, TEST_DID, worker, xrpc, xrpcUrl } from '../helpers'

/** Small seeded PRNG so a failure replays exactly. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const COLLECTIONS = ['com.example.alpha', 'com.example.beta']
const LINK = 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm'

async function pdsDataCid(): Promise<string> {
  const res = await worker.fetch(xrpcUrl('com.atproto.sync.getRepo', { did: TEST_DID }))
  const { root, blocks } = await readCarWithRoot(new Uint8Array(await res.arrayBuffer()))
  return String((cborToLex(blocks.get(root)!) as any).data)
}

describe('MST equivalence with @atproto/repo', () => {
  for (const seed of [7, 1337]) {
    it(`random create/update/delete sequences give the same root as an in-memory repo (seed ${seed})`, async () => {
      const rand = prng(seed)
      const agent = await loggedInAgent()
      const token = agent.session!.accessJwt
      // The reference starts from the PDS's own export (earlier tests in this file share storage).
      await agent.post({ text: 'seed', createdAt: new Date().toISOString() })
      const exported = await readCarWithRoot(new Uint8Array(await (await worker.fetch(xrpcUrl('com.atproto.sync.getRepo', { did: TEST_DID }))).arrayBuffer()))
      let ref = await Repo.load(new MemoryBlockstore(exported.blocks), exported.root)
      const present = new Set<string>()
      const keyPool = Array.from({ length: 40 }, (_, i) => `${COLLECTIONS[i % 2]}/s${seed}k${(i * 7919).toString(36)}`)

      const recordFor = (path: string) => ({
        $type: path.split('/')[0],
        n: Math.floor(rand() * 1e6),
        s: 'x'.repeat(Math.floor(rand() * 200)),
        nested: { arr: [1, 'two', { three: true }], link: { $link: LINK } },
        bytes: { $bytes: btoa(String.fromCharCode(...Array.from({ length: 8 }, () => Math.floor(rand() * 256)))).replace(/=+$/, '') },
      })

      for (let step = 0; step < 60; step++) {
        const batch = 1 + Math.floor(rand() * 4)
        const used = new Set<string>()
        const ops: { op: RecordWriteOp; json?: unknown }[] = []
        for (let i = 0; i < batch; i++) {
          const path = keyPool[Math.floor(rand() * keyPool.length)]!
          if (used.has(path)) continue
          used.add(path)
          const [collection, rkey] = path.split("/") as [`${string}.${string}.${string}`, string]
          if (!present.has(path)) {
            const json = recordFor(path)
            ops.push({ op: { action: WriteOpAction.Create, collection, rkey, record: jsonToLex(json) as any }, json })
            present.add(path)
          } else if (rand() < 0.5) {
            const json = recordFor(path)
            ops.push({ op: { action: WriteOpAction.Update, collection, rkey, record: jsonToLex(json) as any }, json })
          } else {
            ops.push({ op: { action: WriteOpAction.Delete, collection, rkey } })
            present.delete(path)
          }
        }
        ref = await ref.applyWrites(ops.map((o) => o.op), await Secp256k1Keypair.create())

        // Single writes through the one-record endpoints, batches through applyWrites.
        if (ops.length === 1) {
          const { op, json } = ops[0]!
          const res =
            op.action === WriteOpAction.Delete
              ? await xrpc('com.atproto.repo.deleteRecord', { token, body: { repo: TEST_DID, collection: op.collection, rkey: op.rkey } })
              : op.action === WriteOpAction.Create
                ? await xrpc('com.atproto.repo.createRecord', { token, body: { repo: TEST_DID, collection: op.collection, rkey: op.rkey, record: json } })
                : await xrpc('com.atproto.repo.putRecord', { token, body: { repo: TEST_DID, collection: op.collection, rkey: op.rkey, record: json } })
          expect(res.status, res.text).toBe(200)
        } else {
          const writes = ops.map(({ op, json }) =>
            op.action === WriteOpAction.Delete
              ? { $type: 'com.atproto.repo.applyWrites#delete', collection: op.collection, rkey: op.rkey }
              : { $type: `com.atproto.repo.applyWrites#${op.action}`, collection: op.collection, rkey: op.rkey, value: json },
          )
          const res = await xrpc('com.atproto.repo.applyWrites', { token, body: { repo: TEST_DID, writes } })
          expect(res.status, res.text).toBe(200)
        }
        if (step % 20 === 19) expect(await pdsDataCid()).toBe((await ref.data.getPointer()).toString())
      }
      expect(await pdsDataCid()).toBe((await ref.data.getPointer()).toString())

      // And the record index agrees with the tree.
      for (const collection of COLLECTIONS) {
        const listed = await agent.com.atproto.repo.listRecords({ repo: TEST_DID, collection, limit: 100 })
        expect(listed.data.records.length).toBeLessThan(100)
        const expected = (await ref.data.listWithPrefix(`${collection}/`)).map((l) => `${l.key}=${l.value}`).sort()
        expect(listed.data.records.map((r) => `${collection}/${r.uri.split('/').at(-1)}=${r.cid}`).sort()).toEqual(expected)
      }
    })
  }
})
