#!/usr/bin/env node
/**
 * CPU cost of each stage of a createRecord, outside the runtime: Workers clocks
 * stand still during computation, so the server's log lines can only time
 * waits (D1, actor). Same libraries the PDS uses, in Node's V8.
 *
 *   node test/bench/stages.mjs        (REPO_RECORDS=10000 records in the MST, ITER=300)
 *
 * Commits are timed as the actor builds them: without and then with the MST
 * node encodings remembered (src/repo/mstSerializeMemo.ts, loaded by the actor),
 * and as a chain, reloading each new tree from blocks or keeping it as built
 * (src/repo/formatCommit.ts).
 * Needs Node 22 (it loads that module's TypeScript): `npx node test/bench/stages.mjs`.
 */
import { schemas } from '@atproto/api'
import { TID } from '@atproto/common-web'
import { Secp256k1Keypair } from '@atproto/crypto'
import { encode as cborEncode } from '@atproto/lex-cbor'
import { jsonToLex } from '@atproto/lex-json'
import { Lexicons, jsonToLex as lexiconJsonToLex } from '@atproto/lexicon'
import { MemoryBlockstore, Repo, WriteOpAction } from '@atproto/repo'
import { cborToLexRecord, cidForRecord } from '@atproto/repo'
import { SignJWT, jwtVerify } from 'jose'

const ITER = Number(process.env.ITER ?? 300)
const REPO_RECORDS = Number(process.env.REPO_RECORDS ?? 10_000)
const lexicons = new Lexicons(schemas)
const keypair = await Secp256k1Keypair.create()
const secret = new TextEncoder().encode('x'.repeat(64))
const token = await new SignJWT({ scope: 'com.atproto.access' }).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).setSubject('did:web:x').setIssuedAt().setExpirationTime('2h').sign(secret)
const record = () => ({ $type: 'app.bsky.feed.post', text: `bench ${Math.random()}`, createdAt: new Date().toISOString() })

async function time(name, fn) {
  for (let i = 0; i < 20; i++) await fn(i) // warm-up
  const t0 = performance.now()
  for (let i = 0; i < ITER; i++) await fn(i)
  return [name, +((performance.now() - t0) / ITER).toFixed(3)]
}

// A repo of REPO_RECORDS records, built in commits of 500.
const storage = new MemoryBlockstore()
let repo = await Repo.create(storage, 'did:web:x', keypair)
for (let done = 0; done < REPO_RECORDS; done += 500) {
  const writes = Array.from({ length: Math.min(500, REPO_RECORDS - done) }, () => ({ action: WriteOpAction.Create, collection: 'app.bsky.feed.post', rkey: TID.nextStr(), record: record() }))
  repo = await repo.applyWrites(writes, keypair)
}

const rows = [
  await time('auth: HS256 access token verify', () => jwtVerify(token, secret)),
  await time('validation: lexicon check + DAG-CBOR encode', () => {
    const json = record()
    lexicons.assertValidRecord('app.bsky.feed.post', lexiconJsonToLex(json))
    return cborEncode(jsonToLex(json))
  }),
  await time(`MST: record CID + lookup + new MST root (${REPO_RECORDS} records)`, async () => {
    const bytes = cborEncode(jsonToLex(record()))
    const rec = cborToLexRecord(bytes)
    await cidForRecord(rec)
    const rkey = TID.nextStr()
    await repo.data.get(`app.bsky.feed.post/${rkey}`)
    const data = await repo.data.add(`app.bsky.feed.post/${rkey}`, await cidForRecord(rec))
    return data.getPointer()
  }),
  await time('signing: secp256k1 sign of a commit', () => keypair.sign(new Uint8Array(32).map(() => Math.random() * 256))),
]
const commit = (n) => () => repo.formatCommit(Array.from({ length: n }, () => ({ action: WriteOpAction.Create, collection: 'app.bsky.feed.post', rkey: TID.nextStr(), record: record() })), keypair)
rows.push(await time(`whole commit of 1 write: formatCommit (MST + blocks + sign, ${REPO_RECORDS} records), library as is`, commit(1)))
rows.push(await time(`whole commit of 50 writes, library as is`, commit(50)))
await import('../../src/repo/mstSerializeMemo.ts')
rows.push(await time(`whole commit of 1 write, node encodings remembered (as the actor runs it)`, commit(1)))
rows.push(await time(`whole commit of 50 writes, node encodings remembered`, commit(50)))
// A chain of sequential one-write commits, each checked (the lookup the actor does) and then
// built on the last: reloading the new tree from its blocks as the library leaves it, or
// keeping the tree as built (src/repo/formatCommit.ts, what the actor does).
const { formatCommit } = await import('../../src/repo/formatCommit.ts')
const chain = (keep) => {
  let tip = repo
  return async () => {
    const rkey = TID.nextStr()
    await tip.data.get(`app.bsky.feed.post/${rkey}`)
    const writes = [{ action: WriteOpAction.Create, collection: 'app.bsky.feed.post', rkey, record: record() }]
    if (keep) {
      const { commit, next } = await formatCommit(tip, writes, keypair)
      await storage.applyCommit(commit)
      tip = next
    } else {
      const commit = await tip.formatCommit(writes, keypair)
      await storage.applyCommit(commit)
      tip = await Repo.load(storage, commit.cid)
    }
  }
}
rows.push(await time('chain of 1-write commits, each reloading the tree from blocks', chain(false)))
rows.push(await time('chain of 1-write commits, tree kept as built (as the actor runs it)', chain(true)))
console.table(Object.fromEntries(rows.map(([k, v]) => [k, `${v} ms`])))
console.log(JSON.stringify({ bench: 'stages', ...Object.fromEntries(rows) }))
