#!/usr/bin/env node
/**
 * The runtime's floors next to the PDS's own figures (`BENCH=floors npm run bench`).
 *
 * A probe Worker (floors/probe.js) runs in workerd through the same Miniflare
 * API and direct socket as `npm start`, with local D1 and a SQLite-backed
 * Durable Object persisted to disk, and does the least a request can:
 *   hello     answers at once: what any request through workerd costs;
 *   d1Read    one indexed one-row SELECT from D1: a getRecord without the PDS;
 *   doRead    an RPC to a Durable Object that reads its own SQLite;
 *   doWrite   an RPC to a Durable Object that writes one row to its own SQLite;
 *   d1Write   an RPC to a Durable Object that writes one row to D1 (a batch of one);
 *   d1Write5  the same with five one-row statements in the batch.
 * The doRead/doWrite rows are what a PDS keeping its repo in the actor's own
 * SQLite pays; ours keeps it in D1 (README "Where a sequential write's time goes").
 * One client alternates blocks of BLOCK requests between the probe and the PDS
 * (`_health`, getRecord, createRecord), rotating the order every round, so
 * both see the same machine load.
 *
 *   PDS_URL, PDS_IDENTIFIER, PDS_PASSWORD  (defaults: localhost:8787 and .dev.vars)
 *   ROUNDS (default 10), BLOCK (default 40)
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Log, LogLevel, Miniflare, convertV4MiniflareOptions } from 'miniflare'
import { unstable_readConfig } from 'wrangler'
import { identifier, password, url, xrpc } from './target.mjs'

const ROUNDS = Number(process.env.ROUNDS ?? 10)
const BLOCK = Number(process.env.BLOCK ?? 40)
const root = path.resolve(import.meta.dirname, '../..')

const config = unstable_readConfig({ config: path.join(root, 'wrangler.toml') })
const state = mkdtempSync(path.join(tmpdir(), 'pds-floors-'))
const mf = new Miniflare(
  convertV4MiniflareOptions({
    host: '127.0.0.1',
    port: 0,
    log: new Log(LogLevel.WARN),
    cf: false,
    resourcePersistencePath: state,
    workers: [
      {
        name: 'floors-probe',
        modules: true,
        scriptPath: path.join(import.meta.dirname, 'floors/probe.js'),
        compatibilityDate: config.compatibility_date,
        compatibilityFlags: config.compatibility_flags,
        d1Databases: ['DB'],
        durableObjects: { PROBE: { className: 'Probe', useSQLite: true } },
        // Its own socket, as `npm start` serves the PDS (no Miniflare entry worker in front), on a port the OS picks.
        unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }],
      },
    ],
  }),
)

try {
  await mf.ready
  const probeUrl = (await mf.unsafeGetDirectURL('floors-probe')).origin
  await expectOk(await fetch(`${probeUrl}/?op=setup`), 'probe setup')

  const session = await xrpc('com.atproto.server.createSession', { identifier, password })
  const auth = { authorization: `Bearer ${session.accessJwt}` }
  const post = (i) => ({ repo: session.did, collection: 'app.bsky.feed.post', record: { $type: 'app.bsky.feed.post', text: `floors ${i}`, createdAt: new Date().toISOString() } })
  const created = await xrpc('com.atproto.repo.createRecord', post(0), session.accessJwt)
  const getUrl = `${url}/xrpc/com.atproto.repo.getRecord?repo=${encodeURIComponent(session.did)}&collection=app.bsky.feed.post&rkey=${created.uri.split('/').pop()}`

  let n = 0
  const ops = {
    hello: () => fetch(`${probeUrl}/?op=hello`),
    d1Read: () => fetch(`${probeUrl}/?op=d1Read&k=${n % 100}`),
    doRead: () => fetch(`${probeUrl}/?op=doRead&k=${n % 100}`),
    doWrite: () => fetch(`${probeUrl}/?op=doWrite&k=${n}`),
    d1Write: () => fetch(`${probeUrl}/?op=d1Write&k=${n}`),
    d1Write5: () => fetch(`${probeUrl}/?op=d1Write5&k=${n}`),
    'PDS _health': () => fetch(`${url}/xrpc/_health`),
    // With the token, as the owner's own app reads (the primary, never a replica).
    'PDS getRecord': () => fetch(getUrl, { headers: auth }),
    'PDS createRecord': () =>
      fetch(`${url}/xrpc/com.atproto.repo.createRecord`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(post(n)) }),
  }
  const names = Object.keys(ops)
  const samples = Object.fromEntries(names.map((name) => [name, []]))
  // Warm-up: every path compiled and every connection open before anything counts.
  for (const name of names) for (let i = 0; i < 10; i++, n++) await expectOk(await ops[name](), name)
  for (let r = 0; r < ROUNDS; r++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(j + r) % names.length]
      for (let i = 0; i < BLOCK; i++, n++) {
        const t = performance.now()
        await expectOk(await ops[name](), name)
        samples[name].push(performance.now() - t)
      }
    }
  }

  const pct = (a, p) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p * a.length))]
  const p50 = Object.fromEntries(names.map((name) => [name, pct(samples[name], 0.5)]))
  console.log(`${ROUNDS} rounds x ${BLOCK} per operation, alternating (ms)\n`)
  console.log('| operation | p50 | p90 |\n|---|---|---|')
  for (const name of names) console.log(`| ${name} | ${p50[name].toFixed(2)} | ${pct(samples[name], 0.9).toFixed(2)} |`)
  const above = {
    getRecordOverD1Read: p50['PDS getRecord'] - p50.d1Read,
    createRecordOverD1Write: p50['PDS createRecord'] - p50.d1Write,
    d1ReadOverDoRead: p50.d1Read - p50.doRead,
    d1WriteOverDoWrite: p50.d1Write - p50.doWrite,
  }
  console.log('\nabove the floor (p50): getRecord over d1Read %s, createRecord over d1Write %s; D1 over DO storage: read %s, write %s',
    ...Object.values(above).map((x) => x.toFixed(2)))
  console.log(JSON.stringify({ bench: 'floors', rounds: ROUNDS, block: BLOCK, p50: round(p50), above: round(above) }))
} finally {
  await mf.dispose()
  rmSync(state, { recursive: true, force: true })
}

function round(o) {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, +v.toFixed(3)]))
}

async function expectOk(res, what) {
  const body = await res.text()
  if (!res.ok) throw new Error(`${what}: ${res.status} ${body.slice(0, 200)}`)
}
