#!/usr/bin/env node
// Firehose fan-out benchmark (issue 4): SUBS live subscribers on subscribeRepos, COMMITS sequential
// createRecord calls; for every commit and every subscriber, the delivery latency from the write's HTTP
// response to the subscriber's receipt of that commit's frame (matched by commit CID, not by order; a
// frame that beats the response counts as 0 ms and is counted in before_response), the same from the
// write's request start, plus missing and duplicate counts (both must be 0) and seq order.
//
// Same knobs and JSON keys as ../shared/bench/firehose-bench.mjs (PDS_URL PDS_IDENTIFIER PDS_PASSWORD
// SUBS COMMITS; p50_ms p99_ms max_ms missing extra), but stricter: frames are decoded, so a duplicate
// or an out-of-order frame cannot hide behind a count, and SUBS may list several runs ("100,1000").
//
//   npm run dev -- --port 8797            # in another shell
//   PDS_URL=http://localhost:8797 node test/bench/firehose.mjs
//
// Defaults: PDS_URL http://localhost:8787, credentials PDS_HANDLE / ADMIN_PASSWORD from .dev.vars,
// SUBS=100,1000 COMMITS=100 GAP_MS=20. Loopback only: it refuses any other host.
import * as dagCbor from '@ipld/dag-cbor'
import { decodeFirst } from 'cborg'
import { identifier, password, url, xrpc } from './target.mjs'

const SUBS = (process.env.SUBS || '100,1000').split(',').map(Number)
const COMMITS = Number(process.env.COMMITS || 100)
const GAP_MS = Number(process.env.GAP_MS ?? 20)
const WS = globalThis.WebSocket ?? (await import('ws')).default

if (!identifier || !password) throw new Error('no credentials: set PDS_IDENTIFIER and PDS_PASSWORD, or run from the project root with a .dev.vars')

const session = await xrpc('com.atproto.server.createSession', { identifier, password })
const wsUrl = url.replace(/^http/, 'ws') + '/xrpc/com.atproto.sync.subscribeRepos'

function connect() {
  return new Promise((resolve, reject) => {
    const ws = new WS(wsUrl)
    ws.binaryType = 'arraybuffer'
    // Only timestamp and keep the bytes here; decoding waits until the run is over so it does not delay receipt.
    const arrivals = []
    ws.addEventListener('message', (e) => arrivals.push([performance.now(), e.data]))
    ws.addEventListener('open', () => resolve({ ws, arrivals }), { once: true })
    ws.addEventListener('error', (e) => reject(new Error(`connect: ${e.message ?? 'failed'}`)), { once: true })
  })
}

function decode(data) {
  const bytes = new Uint8Array(data)
  const [header, rest] = decodeFirst(bytes)
  return { header, body: dagCbor.decode(rest) }
}

const pct = (sorted, q) => (sorted.length ? +sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(2) : null)

async function run(subs) {
  const clients = []
  for (let i = 0; i < subs; i += 100) clients.push(...(await Promise.all(Array.from({ length: Math.min(100, subs - i) }, connect))))
  await new Promise((r) => setTimeout(r, 500))

  const sent = new Map() // commit CID -> response time
  const started = new Map() // commit CID -> request start
  const writeMs = []
  for (let i = 0; i < COMMITS; i++) {
    const t0 = performance.now()
    const out = await xrpc('com.atproto.repo.createRecord', { repo: session.did, collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text: `fanout ${subs}/${i}`, createdAt: new Date().toISOString() } }, session.accessJwt)
    const t1 = performance.now()
    sent.set(out.commit.cid, t1)
    started.set(out.commit.cid, t0)
    writeMs.push(t1 - t0)
    if (GAP_MS > 0) await new Promise((r) => setTimeout(r, GAP_MS))
  }
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline && clients.some((c) => c.arrivals.length < COMMITS)) await new Promise((r) => setTimeout(r, 50))
  await new Promise((r) => setTimeout(r, 300)) // late duplicates, if any

  const lat = []
  const fromRequest = []
  const firstLast = new Map() // commit CID -> [first receipt, last receipt] across subscribers
  let missing = 0, duplicates = 0, foreign = 0, outOfOrder = 0, beforeResponse = 0
  for (const c of clients) {
    const seen = new Set()
    let lastSeq = -Infinity
    for (const [t, data] of c.arrivals) {
      const { header, body } = decode(data)
      const cid = header.t === '#commit' ? body.commit.toString() : null
      if (!cid || !sent.has(cid)) {
        foreign++ // an event this run did not cause (another writer, an error frame)
        continue
      }
      if (seen.has(cid)) duplicates++
      seen.add(cid)
      if (!(body.seq > lastSeq)) outOfOrder++
      lastSeq = body.seq
      const d = t - sent.get(cid)
      if (d < 0) beforeResponse++ // the frame beat the HTTP response: counted as 0 ms
      lat.push(Math.max(0, d))
      fromRequest.push(t - started.get(cid))
      const fl = firstLast.get(cid)
      if (!fl) firstLast.set(cid, [t, t])
      else {
        fl[0] = Math.min(fl[0], t)
        fl[1] = Math.max(fl[1], t)
      }
    }
    missing += COMMITS - seen.size
  }
  lat.sort((a, b) => a - b)
  fromRequest.sort((a, b) => a - b)
  const spread = [...firstLast.values()].map(([a, b]) => b - a).sort((a, b) => a - b)
  writeMs.sort((a, b) => a - b)
  for (const c of clients) c.ws.close()
  await new Promise((r) => setTimeout(r, 300))
  return {
    subs,
    commits: COMMITS,
    deliveries: lat.length,
    p50_ms: pct(lat, 0.5),
    p99_ms: pct(lat, 0.99),
    max_ms: pct(lat, 1),
    missing,
    extra: duplicates,
    duplicates,
    out_of_order: outOfOrder,
    foreign_frames: foreign,
    before_response: beforeResponse,
    // The firehose frame is sent before the actor's RPC returns, so it usually beats the HTTP response;
    // from the request's start is the end-to-end figure: write sent -> frame at every subscriber.
    from_request_p50_ms: pct(fromRequest, 0.5),
    from_request_p99_ms: pct(fromRequest, 0.99),
    // How long one commit takes to reach all subscribers, first receipt to last.
    spread_p50_ms: pct(spread, 0.5),
    spread_p99_ms: pct(spread, 0.99),
    write_p50_ms: pct(writeMs, 0.5),
    write_p99_ms: pct(writeMs, 0.99),
  }
}

const results = []
for (const subs of SUBS) results.push(await run(subs))

const cols = ['subs', 'commits', 'deliveries', 'p50_ms', 'p99_ms', 'max_ms', 'before_response', 'from_request_p50_ms', 'from_request_p99_ms', 'spread_p50_ms', 'spread_p99_ms', 'write_p50_ms', 'missing', 'duplicates', 'out_of_order']
const rows = [cols, ...results.map((r) => cols.map((c) => String(r[c])))]
const widths = cols.map((_, i) => Math.max(...rows.map((row) => row[i].length)))
for (const row of rows) console.log(row.map((v, i) => v.padStart(widths[i])).join('  '))
console.log(JSON.stringify({ bench: 'firehose-fanout', url, gap_ms: GAP_MS, node: process.version, runs: results }))
process.exit(results.every((r) => r.missing === 0 && r.duplicates === 0 && r.out_of_order === 0) ? 0 : 1)
