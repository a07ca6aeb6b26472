// Shared by `npm run dev` (start.mjs) and `npm start` (serve.mjs): the port and
// state-folder flags, the local secrets in .dev.vars, and the local D1 schema.
// Both servers use the same state folder, so either sees what the other wrote.
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { Secp256k1Keypair } from '@atproto/crypto'

/** wrangler dev's default state folder (`--persist-to` overrides it). */
export const DEFAULT_PERSIST = '.wrangler/state'

/** `--port N` / `--port=N` and `--persist-to DIR` / `--persist-to=DIR`; other flags are left to the caller. */
export function parseFlags(args) {
  const flag = (name) => {
    const at = args.findIndex((a) => a === name || a.startsWith(`${name}=`))
    if (at === -1) return { at, value: undefined }
    return { at, value: args[at].includes('=') ? args[at].slice(name.length + 1) : args[at + 1] }
  }
  const port = flag('--port')
  const persist = flag('--persist-to')
  const portValue = port.value ?? '8787'
  if (!/^\d+$/.test(portValue)) throw new Error('--port needs a number')
  if (persist.at !== -1 && !persist.value) throw new Error('--persist-to needs a folder')
  return { port: portValue, portGiven: port.at !== -1, persistTo: persist.value }
}

/**
 * Creates .dev.vars on first use (a fresh secp256k1 signing key, a JWT secret,
 * a dev password, a PLC rotation key) and points the did:web DID and hostname at the port.
 */
export async function prepareDevVars(port, file = '.dev.vars') {
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
  return { vars, overrides, created }
}

/** Applies the D1 migrations to the local database in the state folder (wrangler's default, or `persistTo`). */
export function applyMigrations(persistTo) {
  const persist = persistTo ? ['--persist-to', persistTo] : []
  const migrated = spawnSync('wrangler', ['d1', 'migrations', 'apply', 'DB', '--local', ...persist], { stdio: 'inherit', env: { ...process.env, CI: 'true' } })
  if (migrated.status !== 0) throw new Error(`D1 migrations failed (exit ${migrated.status})`)
}

export function banner({ port, vars, overrides = {}, created }) {
  const shown = { ...vars, ...overrides }
  return `
${created ? 'Created .dev.vars with a fresh signing key and secrets.' : 'Using .dev.vars.'}
  PDS        http://localhost:${port}
  DID        ${shown.PDS_DID}
  handle     ${shown.PDS_HANDLE}${overrides.PLC_DIRECTORY_URL ? `\n  PLC        ${overrides.PLC_DIRECTORY_URL}` : ''}
  password   ${vars.ADMIN_PASSWORD}   (dev only; ADMIN_PASSWORD in .dev.vars)
`
}

export function parseVars(text) {
  const out = {}
  for (const line of text.split('\n')) {
    const m = line.match(/^\s*([A-Z0-9_]+)\s*=\s*"?(.*?)"?\s*$/)
    if (m) out[m[1]] = m[2]
  }
  return out
}
