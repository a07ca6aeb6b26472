#!/usr/bin/env node
/**
 * importRepo benchmark (account migration): builds repos of IMPORT_RECORDS
 * (default 1000,10000) posts for the PDS's own DID, as another PDS would
 * export them, and times importRepo with workerd's memory (RSS) sampled
 * before and during it. Each size replaces the repo the previous one left.
 *
 *   PDS_URL, PDS_IDENTIFIER, PDS_PASSWORD  (defaults: localhost:8787 and .dev.vars)
 *   PDS_PID         optional: pid of the local workerd, for peak memory
 *   PDS_INSPECTOR   optional: workerd's inspector URL (npm start with INSPECTOR_PORT), for the isolate's heap
 *   IMPORT_RECORDS  comma-separated repo sizes
 */
import { AtpAgent } from '@atproto/api'
import { Secp256k1Keypair } from '@atproto/crypto'
import { blocksToCarFile, MemoryBlockstore, Repo, WriteOpAction } from '@atproto/repo'
import { TID } from '@atproto/common-web'
import { readFileSync } from 'node:fs'
import { heapSampler } from './heap.mjs'
import { identifier, password, url } from './target.mjs'

const sizes = (process.env.IMPORT_RECORDS ?? '1000,10000').split(',').map(Number)
const round = (x, d = 1) => +x.toFixed(d)
const rss = () => {
  try {
    return Number(readFileSync(`/proc/${process.env.PDS_PID}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]) / 1024
  } catch {
    return null
  }
}

// Tried twice: building a large repo outlasts workerd's idle keep-alive, and the first request may meet a closed socket.
const login = async () => {
  const agent = new AtpAgent({ service: url })
  await agent.login({ identifier, password }).catch(() => agent.login({ identifier, password }))
  return agent
}
const did = (await login()).session.did
const results = []
for (const n of sizes) {
  const storage = new MemoryBlockstore()
  const writes = Array.from({ length: n }, (_, i) => ({
    action: WriteOpAction.Create,
    collection: 'app.bsky.feed.post',
    rkey: TID.nextStr(),
    record: { $type: 'app.bsky.feed.post', text: `imported post ${i}: ${'lorem ipsum '.repeat(4)}`, createdAt: new Date().toISOString() },
  }))
  const repo = await Repo.create(storage, did, await Secp256k1Keypair.create(), writes)
  const car = await blocksToCarFile(repo.cid, storage.blocks)
  // Logged in once the CAR is built: building 100k records outlasts an idle keep-alive connection.
  const agent = await login()
  await agent.com.atproto.server.deactivateAccount({})
  const heap = process.env.PDS_INSPECTOR ? await heapSampler(process.env.PDS_INSPECTOR) : null
  const heapBase = await heap?.now()
  const stopHeap = heap?.start()
  const base = rss()
  let peak = base
  const sampler = setInterval(() => (peak = Math.max(peak ?? 0, rss() ?? 0)), 10)
  const t0 = performance.now()
  const res = await fetch(`${url}/xrpc/com.atproto.repo.importRepo?replace=true`, {
    method: 'POST',
    headers: { authorization: `Bearer ${agent.session.accessJwt}`, 'content-type': 'application/vnd.ipld.car' },
    body: car,
  })
  const ms = performance.now() - t0
  clearInterval(sampler)
  const heapPeak = await stopHeap?.()
  heap?.close()
  const body = await res.text()
  await agent.com.atproto.server.activateAccount()
  results.push({
    records: n,
    carMb: round(car.byteLength / 1024 / 1024, 2),
    status: res.status,
    seconds: round(ms / 1000, 2),
    recordsPerSecond: Math.round(n / (ms / 1000)),
    ...(res.ok ? {} : { error: body.slice(0, 200) }),
    ...(heap ? { heapBaseMb: round(heapBase), heapPeakMb: round(heapPeak.peak), heapAfterGcMaxMb: round(heapPeak.retained) } : {}),
    ...(base !== null ? { rssBaseMb: round(base), rssPeakMb: round(peak), rssGrowthMb: round(peak - base) } : {}),
  })
}
console.table(results)
console.log(JSON.stringify({ importRepo: results }))
