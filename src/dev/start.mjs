#!/usr/bin/env node
// `npm run dev [-- --port N] [wrangler dev flags]`: prepares local secrets and
// the local D1 schema, then runs wrangler dev on the embedded default
// (local D1, R2, KV and Durable Objects). Runs under the project's Node 22.
import { spawnSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { Secp256k1Keypair } from '@atproto/crypto'

const args = process.argv.slice(2)
const portAt = args.findIndex((a) => a === '--port' || a.startsWith('--port='))
const port = portAt === -1 ? '8787' : args[portAt].includes('=') ? args[portAt].split('=')[1] : args[portAt + 1]
if (!/^\d+$/.test(port ?? '')) {
  console.error('--port needs a number')
  process.exit(1)
}

const file = '.dev.vars'
const vars = existsSync(file) ? parseVars(readFileSync(file, 'utf8')) : {}
let created = false
if (!vars.PDS_SIGNING_KEY) {
  const key = await Secp256k1Keypair.create({ exportable: true })
  vars.PDS_SIGNING_KEY = Buffer.from(await key.export()).toString('hex')
  vars.JWT_SECRET = randomBytes(32).toString('hex')
  vars.ADMIN_PASSWORD = randomBytes(12).toString('base64url')
  vars.PDS_HANDLE = 'dev.test'
  created = true
}
// The PDS signs PLC operations (did:plc identities moved here) with its own rotation key.
if (!vars.PLC_ROTATION_KEY) {
  const key = await Secp256k1Keypair.create({ exportable: true })
  vars.PLC_ROTATION_KEY = Buffer.from(await key.export()).toString('hex')
}
// The DID and hostname follow the port: did:web percent-encodes it.
vars.PDS_HOSTNAME = `localhost:${port}`
vars.PDS_DID = `did:web:localhost%3A${port}`
writeFileSync(file, Object.entries(vars).map(([k, v]) => `${k}="${v}"`).join('\n') + '\n', { mode: 0o600 })

// Another identity for this run (a did:plc being moved in): the environment wins over .dev.vars, without being saved.
const overrides = Object.fromEntries(['PDS_DID', 'PDS_HANDLE', 'PLC_DIRECTORY_URL'].filter((k) => process.env[k]).map((k) => [k, process.env[k]]))
const shown = { ...vars, ...overrides }

const run = (cmd, cmdArgs) => spawnSync(cmd, cmdArgs, { stdio: 'inherit', env: { ...process.env, CI: 'true' } })
// A custom state folder (--persist-to) must get the migrations too.
const persistAt = args.findIndex((a) => a === '--persist-to')
const persist = persistAt === -1 ? [] : ['--persist-to', args[persistAt + 1]]
const migrated = run('wrangler', ['d1', 'migrations', 'apply', 'DB', '--local', ...persist])
if (migrated.status !== 0) process.exit(migrated.status ?? 1)

console.log(`
${created ? 'Created .dev.vars with a fresh signing key and secrets.' : 'Using .dev.vars.'}
  PDS        http://localhost:${port}
  DID        ${shown.PDS_DID}
  handle     ${shown.PDS_HANDLE}${overrides.PLC_DIRECTORY_URL ? `\n  PLC        ${overrides.PLC_DIRECTORY_URL}` : ''}
  password   ${vars.ADMIN_PASSWORD}   (dev only; ADMIN_PASSWORD in .dev.vars)
`)

const varFlags = Object.entries(overrides).flatMap(([k, v]) => ['--var', `${k}:${v}`])
const child = spawn('wrangler', ['dev', ...(portAt === -1 ? ['--port', port] : []), ...varFlags, ...args], { stdio: 'inherit' })
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
child.on('exit', (code) => process.exit(code ?? 0))

function parseVars(text) {
  const out = {}
  for (const line of text.split('\n')) {
    const m = line.match(/^\s*([A-Z0-9_]+)\s*=\s*"?(.*?)"?\s*$/)
    if (m) out[m[1]] = m[2]
  }
  return out
}
