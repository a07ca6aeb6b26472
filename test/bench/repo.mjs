#!/usr/bin/env node
/**
 * Repository benchmark against a running PDS (issue #3). The workload of the
 * first part is the neutral client's (../shared/bench/pds-bench.mjs), so the
 * figures compare with the reference PDS measured the same way.
 *
 *   PDS_URL, PDS_IDENTIFIER, PDS_PASSWORD  (defaults: localhost:8787 and .dev.vars)
 *   PDS_PID       optional: pid of the local workerd, for peak memory during getRepo
 *   N             writes per phase (default 300)
 *   REPO_RECORDS  size of the repo exported by the getRepo phase (default 10000)
 *   PDS_LOG       optional: the server's log file (npm run bench sets it); each phase's
 *                 requests are found there by time and their D1 cost averaged per operation
 */
import { AtpAgent } from '@atproto/api'
import { readFileSync } from 'node:fs'
import { identifier, password, url } from './target.mjs'

const N = Number(process.env.N ?? 300)
const REPO_RECORDS = Number(process.env.REPO_RECORDS ?? 10_000)

const agent = new AtpAgent({ service: url })
await agent.login({ identifier, password })
const did = agent.session.did
const pct = (a, p) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))]
const round = (x, d = 2) => +x.toFixed(d)
const post = (i) =>
  agent.com.atproto.repo.createRecord({ repo: did, collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text: `bench ${i} ${Date.now()}`, createdAt: new Date().toISOString() } })
const createWrites = (n, tag) =>
  Array.from({ length: n }, (_, i) => ({ $type: 'com.atproto.repo.applyWrites#create', collection: 'app.bsky.feed.post', value: { $type: 'app.bsky.feed.post', text: `${tag} ${i}`, createdAt: new Date().toISOString() } }))

const out = { url }
/** Wall-clock windows of the phases, to find their requests in the server log. */
const windows = {}
const phase = async (name, fn) => {
  const start = Date.now()
  const result = await fn()
  windows[name] = [start, Date.now()]
  return result
}
for (let i = 0; i < 10; i++) await post(i) // warm-up

let lat = []
let t0 = performance.now()
await phase('createRecord', async () => {
  for (let i = 0; i < N; i++) {
    const t = performance.now()
    await post(i)
    lat.push(performance.now() - t)
  }
})
out.seq = { n: N, per_s: round(N / ((performance.now() - t0) / 1000), 1), p50_ms: round(pct(lat, 0.5)), p99_ms: round(pct(lat, 0.99)) }

for (const c of [8, 32]) {
  let next = 0
  t0 = performance.now()
  await phase(`createRecord x${c}`, () => Promise.all(Array.from({ length: c }, async () => { while (next < N) await post(next++) })))
  out[`conc${c}`] = { n: N, per_s: round(N / ((performance.now() - t0) / 1000), 1) }
}

{
  const calls = Math.max(1, Math.floor(N / 50))
  t0 = performance.now()
  await phase('applyWrites', async () => {
    for (let k = 0; k < calls; k++) await agent.com.atproto.repo.applyWrites({ repo: did, writes: createWrites(50, `batch ${k}`) })
  })
  out.applyWrites50 = { records_per_s: round((calls * 50) / ((performance.now() - t0) / 1000), 1) }
}

{
  const list = await agent.com.atproto.repo.listRecords({ repo: did, collection: 'app.bsky.feed.post', limit: 100 })
  const rkeys = list.data.records.map((r) => r.uri.split('/').pop())
  lat = []
  await phase('getRecord', async () => {
    for (let i = 0; i < 200; i++) {
      const t = performance.now()
      await agent.com.atproto.repo.getRecord({ repo: did, collection: 'app.bsky.feed.post', rkey: rkeys[i % rkeys.length] })
      lat.push(performance.now() - t)
    }
  })
  out.getRecord = { p50_ms: round(pct(lat, 0.5)), p99_ms: round(pct(lat, 0.99)) }
  lat = []
  await phase('listRecords', async () => {
    for (let i = 0; i < 100; i++) {
      const t = performance.now()
      await agent.com.atproto.repo.listRecords({ repo: did, collection: 'app.bsky.feed.post', limit: 50 })
      lat.push(performance.now() - t)
    }
  })
  out.listRecords50 = { p50_ms: round(pct(lat, 0.5)), p99_ms: round(pct(lat, 0.99)) }
}

// Grow the repo to REPO_RECORDS records (200 per commit), then time a full export.
{
  let count = 0
  let cursor
  do {
    const page = await agent.com.atproto.repo.listRecords({ repo: did, collection: 'app.bsky.feed.post', limit: 100, cursor })
    count += page.data.records.length
    cursor = page.data.cursor
  } while (cursor && count < REPO_RECORDS)
  for (let k = 0; count < REPO_RECORDS; k++, count += 200) await agent.com.atproto.repo.applyWrites({ repo: did, writes: createWrites(Math.min(200, REPO_RECORDS - count), `fill ${k}`) })
  const rss = () => {
    try {
      return Number(readFileSync(`/proc/${process.env.PDS_PID}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) / 1024
    } catch {
      return null
    }
  }
  const base = rss()
  let peak = base
  const sampler = setInterval(() => (peak = Math.max(peak ?? 0, rss() ?? 0)), 10)
  t0 = performance.now()
  let bytes = 0
  const res = await phase('getRepo', async () => {
    const res = await fetch(`${url}/xrpc/com.atproto.sync.getRepo?did=${encodeURIComponent(did)}`)
    for await (const chunk of res.body) bytes += chunk.byteLength
    return res
  })
  const ms = performance.now() - t0
  clearInterval(sampler)
  out.getRepo = { records: count, status: res.status, bytes, ms: round(ms, 1), ...(base !== null ? { rss_base_mb: round(base, 1), rss_peak_mb: round(peak, 1) } : {}) }
}

console.table({
  'createRecord sequential': `${out.seq.per_s}/s  p50 ${out.seq.p50_ms} ms  p99 ${out.seq.p99_ms} ms`,
  'createRecord 8 clients': `${out.conc8.per_s}/s`,
  'createRecord 32 clients': `${out.conc32.per_s}/s`,
  'applyWrites 50 creates': `${out.applyWrites50.records_per_s} records/s`,
  getRecord: `p50 ${out.getRecord.p50_ms} ms  p99 ${out.getRecord.p99_ms} ms`,
  'listRecords 50': `p50 ${out.listRecords50.p50_ms} ms  p99 ${out.listRecords50.p99_ms} ms`,
  [`getRepo ${out.getRepo.records} records`]: `${out.getRepo.ms} ms, ${out.getRepo.bytes} bytes${out.getRepo.rss_peak_mb ? `, workerd RSS ${out.getRepo.rss_base_mb} → ${out.getRepo.rss_peak_mb} MB` : ''}`,
})
// What each operation cost in D1 (and actor calls), from the server's own log lines.
if (process.env.PDS_LOG) {
  await new Promise((r) => setTimeout(r, 500)) // let the last lines reach the file
  const lines = readFileSync(process.env.PDS_LOG, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .filter((l) => l.msg === 'request')
  const nsids = { createRecord: 'com.atproto.repo.createRecord', 'createRecord x8': 'com.atproto.repo.createRecord', 'createRecord x32': 'com.atproto.repo.createRecord', applyWrites: 'com.atproto.repo.applyWrites', getRecord: 'com.atproto.repo.getRecord', listRecords: 'com.atproto.repo.listRecords', getRepo: 'com.atproto.sync.getRepo' }
  // A write's share of its actor batch: the batch's cost divided by the requests that shared it.
  const share = (l, k) => (l[k] ?? 0) + (l.actor ? (l.actor[k] ?? 0) / l.actor.requests : 0)
  out.cost = {}
  for (const [name, [from, to]] of Object.entries(windows)) {
    const mine = lines.filter((l) => l.nsid === nsids[name] && Date.parse(l.time) >= from && Date.parse(l.time) <= to + 50)
    if (mine.length === 0) continue
    const mean = (k) => round(mine.reduce((n, l) => n + share(l, k), 0) / mine.length, 2)
    const meanOf = (f) => round(mine.reduce((n, l) => n + (f(l) ?? 0), 0) / mine.length, 2)
    out.cost[name] = {
      requests: mine.length,
      d1: mean('d1'),
      statements: mean('statements'),
      rowsRead: mean('rowsRead'),
      rowsWritten: mean('rowsWritten'),
      unmetered: mean('unmetered'),
      actorCalls: mean('actorCalls'),
      // Where the time went, as the server saw it: its whole handling, waiting on D1 (the Worker's
      // own queries), waiting on the actor, and within that the actor's D1 batch.
      serverMs: meanOf((l) => l.ms),
      d1Ms: meanOf((l) => l.d1Ms),
      actorMs: meanOf((l) => l.actorMs),
      actorBatchMs: meanOf((l) => l.actor?.d1Ms),
    }
  }
  console.log('D1 cost and server time per operation (mean per request; a write counts its share of the actor batch):')
  console.table(out.cost)
}
console.log(JSON.stringify({ bench: 'repo', ...out }))
