#!/usr/bin/env node
// Firehose backpressure benchmark (issue 10). Against a running PDS (loopback only):
//
//  1. one STALLED replayer: subscribes from cursor=0 over a raw socket and never reads a byte, so its
//     unsent frames pile up in the actor unless replay waits for the socket to drain;
//  2. LIVE subscribers (default 100) that read everything; for each commit, the latency from the write's
//     HTTP response to each subscriber's receipt of that commit's frame (matched by commit CID);
//  3. EVENTS commits (default 10,000) written by WRITERS concurrent clients while both of the above run;
//     the PDS process's resident memory (VmRSS of PDS_PID, e.g. workerd) is sampled throughout;
//  4. afterwards, a BACKFILL from cursor=0 that reads as fast as it can: it must get every event in order
//     without being cut off (reconnects counted; each resumes from the last seq it got).
//
//   npm run dev -- --port 8797            # in another shell
//   PDS_URL=http://localhost:8797 PDS_PID=$(pgrep -n workerd) node test/bench/firehose-backpressure.mjs
//
// Prints a table and one JSON line. Speed lives here, never in a timed test.
import net from 'node:net'
import * as dagCbor from '@ipld/dag-cbor'
import { decodeFirst } from 'cborg'
import WebSocket from 'ws'
import { readFileSync } from 'node:fs'
import { identifier, password, url, xrpc } from './target.mjs'

const LIVE = Number(process.env.LIVE || 100)
const EVENTS = Number(process.env.EVENTS || 10_000)
const WRITERS = Number(process.env.WRITERS || 16)
const pid = process.env.PDS_PID

if (!identifier || !password) throw new Error('no credentials: set PDS_IDENTIFIER and PDS_PASSWORD, or run from the project root with a .dev.vars')

const wsUrl = (cursor) => url.replace(/^http/, 'ws') + '/xrpc/com.atproto.sync.subscribeRepos' + (cursor === undefined ? '' : `?cursor=${cursor}`)

function decode(data) {
  const [header, rest] = decodeFirst(new Uint8Array(data))
  return { header, body: dagCbor.decode(rest) }
}

const rssKb = () => {
  if (!pid) return null
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1])
  } catch {
    return null
  }
}

/** A subscriber that completes the upgrade and then never reads: the kernel buffers fill, then the server's. */
function stalledSubscriber(cursor) {
  const u = new URL(wsUrl(cursor))
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port || 80), u.hostname, () => {
      socket.write(
        `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${Buffer.from('backpressure-ben').toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      )
    })
    socket.setNoDelay(true)
    socket.once('data', (chunk) => {
      if (!chunk.toString('latin1').startsWith('HTTP/1.1 101')) return reject(new Error(`stalled subscriber: ${chunk.toString('latin1').split('\r\n')[0]}`))
      socket.pause() // from here on, nothing is read
      resolve(socket)
    })
    socket.once('error', reject)
  })
}

function liveSubscriber() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl())
    ws.binaryType = 'arraybuffer'
    const arrivals = []
    let closed = null
    ws.on('message', (data) => arrivals.push([performance.now(), data]))
    ws.on('close', (code, reason) => (closed = { code, reason: String(reason) }))
    ws.once('open', () => resolve({ ws, arrivals, closed: () => closed }))
    ws.once('error', reject)
  })
}

/** Reads from `cursor` to `lastSeq` as fast as it can, reconnecting (from the last seq it got) if cut off. */
async function backfill(lastSeq) {
  let cursor = 0
  let frames = 0
  let reconnects = 0
  let outOfOrder = 0
  const errors = []
  const started = performance.now()
  while (cursor < lastSeq && reconnects < 20) {
    await new Promise((resolve) => {
      const ws = new WebSocket(wsUrl(cursor))
      ws.binaryType = 'arraybuffer'
      ws.on('message', (data) => {
        const { header, body } = decode(data)
        if (header.op === -1) errors.push(body.error)
        if (typeof body.seq !== 'number') return
        if (body.seq !== cursor + 1) outOfOrder++
        cursor = body.seq
        frames++
        if (cursor >= lastSeq) ws.close()
      })
      ws.on('close', resolve)
      ws.on('error', resolve)
    })
    if (cursor < lastSeq) reconnects++
  }
  return { frames, reconnects, outOfOrder, errors, ms: performance.now() - started, complete: cursor >= lastSeq }
}

const pct = (sorted, q) => (sorted.length ? +sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(2) : null)

const session = await xrpc('com.atproto.server.createSession', { identifier, password })
const rssStart = rssKb()
const stalled = await stalledSubscriber(0)
const live = []
for (let i = 0; i < LIVE; i += 50) live.push(...(await Promise.all(Array.from({ length: Math.min(50, LIVE - i) }, liveSubscriber))))
await new Promise((r) => setTimeout(r, 500))

let rssMax = rssStart ?? 0
const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssKb() ?? 0)), 200)
const responded = new Map() // commit CID -> response time
let next = 0
const writeStarted = performance.now()
await Promise.all(
  Array.from({ length: WRITERS }, async () => {
    while (next < EVENTS) {
      const i = next++
      const res = await xrpc('com.atproto.repo.createRecord', { repo: session.did, collection: 'app.bsky.feed.post', record: { text: `bp ${i}`, createdAt: new Date().toISOString() } }, session.accessJwt)
      responded.set(res.commit.cid, performance.now())
    }
  }),
)
const writeMs = performance.now() - writeStarted
await new Promise((r) => setTimeout(r, 2000))
clearInterval(sampler)

const latencies = []
let missing = 0
let lastSeq = 0
for (const sub of live) {
  const seen = new Map()
  for (const [t, data] of sub.arrivals) {
    const { body } = decode(data)
    if (typeof body.seq === 'number') lastSeq = Math.max(lastSeq, body.seq)
    if (body.commit) seen.set(String(body.commit), t)
  }
  for (const [cid, t0] of responded) {
    const t = seen.get(cid)
    if (t === undefined) missing++
    else latencies.push(Math.max(0, t - t0))
  }
}
latencies.sort((a, b) => a - b)
const liveDropped = live.filter((s) => s.closed() !== null).length
for (const s of live) s.ws.close()
const stalledOpen = !stalled.destroyed
stalled.destroy()

const fill = await backfill(lastSeq)
const result = {
  events: EVENTS,
  live_subscribers: LIVE,
  writes_per_s: +((EVENTS / writeMs) * 1000).toFixed(1),
  live_p50_ms: pct(latencies, 0.5),
  live_p99_ms: pct(latencies, 0.99),
  live_max_ms: pct(latencies, 1),
  live_missing: missing,
  live_dropped: liveDropped,
  stalled_replayer_still_open: stalledOpen,
  pds_rss_start_mb: rssStart === null ? null : +(rssStart / 1024).toFixed(1),
  pds_rss_max_mb: rssStart === null ? null : +(rssMax / 1024).toFixed(1),
  backfill_frames: fill.frames,
  backfill_complete: fill.complete,
  backfill_reconnects: fill.reconnects,
  backfill_out_of_order: fill.outOfOrder,
  backfill_errors: fill.errors,
  backfill_ms: Math.round(fill.ms),
}
console.table(result)
console.log(JSON.stringify(result))
