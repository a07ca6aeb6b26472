#!/usr/bin/env node
// `npm run inspect [-- --url URL | --remote] [--json]`: the owner's view of a
// running PDS: the actor's live state and the D1 figures. Signs in with the
// owner's password (from .dev.vars for the local dev server, else asked or
// PDS_PASSWORD), reads /status/inspect.json, and signs out again.
import { existsSync, readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { asker } from './ask.mjs'

const { values: flags } = parseArgs({ options: { url: { type: 'string' }, remote: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } })
if (flags.help) {
  console.log('npm run inspect [-- --url URL | --remote] [--json]\n  default: the local dev server named in .dev.vars (npm run dev)\n  --remote: https://PDS_HOSTNAME from wrangler.deploy.jsonc (npm run setup)')
  process.exit(0)
}

const devVars = existsSync('.dev.vars') ? Object.fromEntries([...readFileSync('.dev.vars', 'utf8').matchAll(/^\s*([A-Z0-9_]+)\s*=\s*"?(.*?)"?\s*$/gm)].map((m) => [m[1], m[2]])) : {}

let base
if (flags.remote) {
  // Loaded only here: reading the deploy config loads wrangler.
  const { DEPLOY_CONFIG, readPrevious } = await import('./deployConfig.mjs')
  const deployed = readPrevious()
  if (!deployed?.hostname) fail(`no ${DEPLOY_CONFIG}: run npm run setup first, or pass --url`)
  base = `https://${deployed.hostname}`
} else base = (flags.url ?? `http://${devVars.PDS_HOSTNAME ?? 'localhost:8787'}`).replace(/\/$/, '')
const local = /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?$/.test(base)

try {
  const did = (await call('GET', '/.well-known/atproto-did', { text: true })).trim()
  let password = process.env.PDS_PASSWORD ?? (local && devVars.PDS_HOSTNAME && base.endsWith(devVars.PDS_HOSTNAME) ? devVars.ADMIN_PASSWORD : undefined)
  if (!password) {
    const ask = asker({ yes: false })
    password = await ask.text(`Owner password for ${base}`)
    ask.close()
  }
  const session = await call('POST', '/xrpc/com.atproto.server.createSession', { body: { identifier: did, password } })
  let figures
  try {
    figures = await call('GET', '/status/inspect.json', { token: session.accessJwt })
  } finally {
    await call('POST', '/xrpc/com.atproto.server.deleteSession', { token: session.refreshJwt }).catch(() => {})
  }
  console.log(flags.json ? JSON.stringify(figures, null, 2) : render(figures))
} catch (err) {
  fail(err.message)
}

async function call(method, path, { body, token, text } = {}) {
  let res
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(15_000),
    })
  } catch (err) {
    throw new Error(`${base} is not answering (${err.cause?.code ?? err.message})${local ? ': is npm run dev running?' : ''}`)
  }
  if (!res.ok) {
    const detail = await res.text()
    throw new Error(`${method} ${path}: ${res.status} ${detail.slice(0, 300)}`)
  }
  if (method === 'POST' && res.headers.get('content-length') === '0') return null
  return text ? res.text() : res.json().catch(() => null)
}

function render(f) {
  const a = 'error' in f.actor ? null : f.actor
  const c = a?.committer
  const kb = (n) => (n == null ? '–' : n < 1e6 ? `${(n / 1e3).toFixed(1)} kB` : `${(n / 1e6).toFixed(1)} MB`)
  const time = (ms) => (ms ? new Date(ms).toISOString() : '–')
  const lines = [
    `${f.handle}  ${f.did}  (${f.active ? 'active' : 'deactivated'}, version ${f.version})`,
    '',
    'actor',
    `  head          ${c?.head ? `${c.head.cid}  rev ${c.head.rev}  seq ${c.head.seq}` : a ? 'not loaded (loads on the next write)' : `unreadable: ${f.actor.error}`}`,
    `  queue depth   ${c ? c.queueDepth + (c.draining ? ' (committing)' : '') : '–'}`,
    `  last batch    ${c?.lastBatch ? `${c.lastBatch.commits} commits from ${c.lastBatch.requests} requests at ${time(c.lastBatch.at)}` : '–'}`,
    `  block cache   ${c ? `${c.blockCache.entries} blocks, ${kb(c.blockCache.bytes)} of ${kb(c.blockCache.maxBytes)}` : '–'}`,
    `  subscribers   ${a ? a.subscribers.length : '–'}${a?.replaying ? ` (${a.replaying} replaying)` : ''}`,
    ...(a?.subscribers ?? []).map((s) => `    ${s.id}  ${s.live ? 'live' : 'replaying'}  sent up to ${s.lastSent ?? '–'}  cursor ${s.cursor ?? '–'}`),
    `  next alarm    ${time(a?.nextAlarm)}`,
    `  retention     ${a ? `${a.retentionHours} h of firehose events` : '–'}`,
    '',
    'D1',
    `  head          ${f.d1.head ? `${f.d1.head.cid}  rev ${f.d1.head.rev}` : 'none yet'}`,
    `  records       ${f.d1.records}${f.d1.collections.length ? `  (${f.d1.collections.map((x) => `${x.collection} ${x.records}`).join(', ')})` : ''}`,
    `  blocks        ${f.d1.blocks.count}, ${kb(f.d1.blocks.bytes)}`,
    `  blobs         ${f.d1.blobs.count}, ${kb(f.d1.blobs.bytes)} (in R2)`,
    `  events        ${f.d1.events.count}, ${kb(f.d1.events.bytes)}, latest seq ${f.d1.events.latestSeq ?? '–'}`,
    `  database      ${kb(f.d1.databaseBytes)}`,
    `  migrations    ${f.d1.migrations.map((m) => m.name).join(', ') || 'none recorded'}`,
    '',
    `relays          ${f.crawls.length === 0 ? 'none' : ''}`,
    ...f.crawls.map((c) => `  ${c.relay}  ${c.status}${c.attemptedAt ? ` at ${time(c.attemptedAt)}` : ''}${c.detail ? `  ${c.detail}` : ''}`),
    `recent errors   ${f.workerErrors.length + (a?.recentErrors.length ?? 0) === 0 ? 'none' : ''}`,
    ...[...f.workerErrors.map((e) => ({ ...e, where: 'worker' })), ...(a?.recentErrors ?? []).map((e) => ({ ...e, where: 'actor' }))].map((e) => `  ${e.time} ${e.where} ${e.level}: ${e.msg} ${e.fields}`),
  ]
  return lines.join('\n')
}

function fail(message) {
  console.error(`inspect: ${message}`)
  process.exit(1)
}
