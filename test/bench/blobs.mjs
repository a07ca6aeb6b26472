#!/usr/bin/env node
/**
 * Blob throughput against a running PDS (issue #5): uploads a 5 MB and a 50 MB
 * random blob, makes each servable by committing a record that references it,
 * downloads it back through com.atproto.sync.getBlob, checks the bytes, and
 * deletes the record again (the blob becomes garbage for the hourly GC).
 *
 *   PDS_URL        default http://localhost:8787 (`npm run dev`)
 *   PDS_IDENTIFIER default PDS_HANDLE from .dev.vars (dev.test)
 *   PDS_PASSWORD   default ADMIN_PASSWORD from .dev.vars
 *   PDS_PID        optional: pid of the local workerd; its peak RSS is reported
 *   BENCH_SIZES_MB optional: comma-separated sizes, default "5,50"
 *
 * Prints one line per size, then one JSON line with every figure.
 */
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '../..')
const devVars = readDevVars(path.join(root, '.dev.vars'))
const service = (process.env.PDS_URL ?? 'http://localhost:8787').replace(/\/$/, '')
const identifier = process.env.PDS_IDENTIFIER ?? devVars.PDS_HANDLE ?? 'dev.test'
const password = process.env.PDS_PASSWORD ?? devVars.ADMIN_PASSWORD
const sizesMB = (process.env.BENCH_SIZES_MB ?? '5,50').split(',').map(Number)
const MB = 1_000_000
const COLLECTION = 'dev.rawkode.bench.blob'

function readDevVars(file) {
  if (!existsSync(file)) return {}
  return Object.fromEntries(
    readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => line.match(/^\s*([A-Z0-9_]+)\s*=\s*"?(.*?)"?\s*$/))
      .filter(Boolean)
      .map((m) => [m[1], m[2]]),
  )
}

async function xrpc(nsid, { method = 'GET', params, json, body, headers = {}, token } = {}) {
  const url = new URL(`${service}/xrpc/${nsid}`)
  for (const [k, v] of Object.entries(params ?? {})) url.searchParams.set(k, String(v))
  if (token) headers.authorization = `Bearer ${token}`
  if (json !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(json)
  }
  const res = await fetch(url, { method, headers, body })
  if (!res.ok) throw new Error(`${nsid} → ${res.status} ${await res.text()}`)
  return res
}

/** Peak resident memory of PDS_PID while `fn` runs, in MB (null without PDS_PID). */
async function withPeakRss(fn) {
  const pid = process.env.PDS_PID
  const rss = () => {
    try {
      const kb = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)?.[1]
      return kb ? Number(kb) / 1024 : null
    } catch {
      return null
    }
  }
  if (!pid) return { result: await fn(), baseRssMB: null, peakRssMB: null }
  const base = rss()
  let peak = base
  const timer = setInterval(() => {
    const now = rss()
    if (now !== null && (peak === null || now > peak)) peak = now
  }, 20)
  try {
    return { result: await fn(), baseRssMB: base, peakRssMB: peak }
  } finally {
    clearInterval(timer)
  }
}

async function benchOne(session, sizeMB) {
  const bytes = randomBytes(sizeMB * MB)
  const sha = createHash('sha256').update(bytes).digest('hex')

  let started = performance.now()
  const { blob } = await (await xrpc('com.atproto.repo.uploadBlob', { method: 'POST', body: bytes, headers: { 'content-type': 'application/octet-stream' }, token: session.accessJwt })).json()
  const uploadS = (performance.now() - started) / 1000
  if (blob.size !== bytes.byteLength) throw new Error(`uploaded ${blob.size} bytes, sent ${bytes.byteLength}`)

  // A temporary blob is not served: reference it from a record first.
  const { uri } = await (
    await xrpc('com.atproto.repo.createRecord', {
      method: 'POST',
      token: session.accessJwt,
      json: { repo: session.did, collection: COLLECTION, record: { $type: COLLECTION, blob, createdAt: new Date().toISOString() } },
    })
  ).json()

  started = performance.now()
  const res = await xrpc('com.atproto.sync.getBlob', { params: { did: session.did, cid: blob.ref.$link } })
  const hash = createHash('sha256')
  let received = 0
  for await (const chunk of res.body) {
    hash.update(chunk)
    received += chunk.byteLength
  }
  const downloadS = (performance.now() - started) / 1000
  if (received !== bytes.byteLength || hash.digest('hex') !== sha) throw new Error('downloaded bytes differ from the upload')

  await xrpc('com.atproto.repo.deleteRecord', { method: 'POST', token: session.accessJwt, json: { repo: session.did, collection: COLLECTION, rkey: uri.split('/').pop() } })
  return {
    sizeMB,
    cid: blob.ref.$link,
    uploadMBps: +(sizeMB / uploadS).toFixed(1),
    downloadMBps: +(sizeMB / downloadS).toFixed(1),
    uploadMs: Math.round(uploadS * 1000),
    downloadMs: Math.round(downloadS * 1000),
  }
}

if (!password) {
  console.error('No password: set PDS_PASSWORD or run `npm run dev` once to create .dev.vars')
  process.exit(1)
}
const session = await (await xrpc('com.atproto.server.createSession', { method: 'POST', json: { identifier, password } })).json()
const results = []
for (const sizeMB of sizesMB) {
  const { result, baseRssMB, peakRssMB } = await withPeakRss(() => benchOne(session, sizeMB))
  const memory = peakRssMB === null ? {} : { workerdRssMB: { base: Math.round(baseRssMB), peak: Math.round(peakRssMB) } }
  results.push({ ...result, ...memory })
  console.log(
    `blob ${String(sizeMB).padStart(3)} MB  upload ${String(result.uploadMBps).padStart(6)} MB/s  download ${String(result.downloadMBps).padStart(6)} MB/s` +
      (memory.workerdRssMB ? `  workerd RSS ${memory.workerdRssMB.base} → ${memory.workerdRssMB.peak} MB` : ''),
  )
}
console.log(JSON.stringify({ bench: 'blobs', service, results }))
