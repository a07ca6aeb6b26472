#!/usr/bin/env node
// `npm run crawl [-- --url URL] [--status]`: asks every relay in RELAY_HOSTS to crawl the PDS now
// and prints each relay's answer (--status: only the last answers). Signs in as the owner with
// PDS_PASSWORD, else ADMIN_PASSWORD from .dev.vars for a local server, else asks.
import { existsSync, readFileSync } from 'node:fs'
import { createInterface } from 'node:readline/promises'

const args = process.argv.slice(2)
const urlAt = args.indexOf('--url')
const base = (urlAt === -1 ? process.env.PDS_URL ?? 'http://localhost:8787' : args[urlAt + 1] ?? '').replace(/\/+$/, '')
const statusOnly = args.includes('--status')
if (!/^https?:\/\//.test(base)) {
  console.error('--url needs an http(s) URL')
  process.exit(1)
}

async function xrpc(nsid, { token, body, method = body ? 'POST' : 'GET' } = {}) {
  const res = await fetch(`${base}/xrpc/${nsid}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  })
  const json = await res.json().catch(() => ({}))
  if (!res.ok) throw new Error(`${nsid}: ${res.status} ${json.error ?? ''} ${json.message ?? ''}`.trim())
  return json
}

async function ownerPassword() {
  if (process.env.PDS_PASSWORD) return process.env.PDS_PASSWORD
  const local = /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?$/.test(base)
  if (local && existsSync('.dev.vars')) {
    const m = readFileSync('.dev.vars', 'utf8').match(/^ADMIN_PASSWORD="?(.*?)"?$/m)
    if (m) return m[1]
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout })
  const answer = await rl.question(`Owner password for ${base}: `)
  rl.close()
  return answer
}

try {
  const { did } = await xrpc('com.atproto.server.describeServer')
  const { accessJwt } = await xrpc('com.atproto.server.createSession', { body: { identifier: did, password: await ownerPassword() } })
  if (!statusOnly) {
    const asked = await xrpc('dev.rawkode.pds.requestCrawl', { token: accessJwt, method: 'POST' })
    if (asked.results.length === 0) console.log('RELAY_HOSTS is empty: no relay to ask.')
  }
  const { hostname, relays } = await xrpc('dev.rawkode.pds.getCrawlStatus', { token: accessJwt })
  console.log(`Relays asked to crawl ${hostname}:`)
  for (const r of relays) {
    console.log(`  ${r.relay}  ${r.status}${r.detail ? ` (${r.detail})` : ''}${r.attemptedAt ? `  at ${r.attemptedAt}` : ''}${r.lastOkAt ? `, last ok ${r.lastOkAt}` : ''}`)
  }
  process.exit(relays.every((r) => r.status === 'ok') ? 0 : 2)
} catch (err) {
  console.error(err.message)
  process.exit(1)
}
