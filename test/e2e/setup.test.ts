/**
 * `npm run setup` against a stand-in wrangler (test/e2e/standIns/wrangler.mjs:
 * a Cloudflare account in a JSON file, answering as wrangler 4 does) and,
 * for the live checks, the real Worker started from the config setup wrote,
 * with the secrets it stored. The config is then built for real with
 * `wrangler deploy --dry-run`.
 */
import { Secp256k1Keypair } from '@atproto/crypto'
import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from './ports'
import { root, startPds } from './worker'

interface StandInState {
  loggedIn: boolean
  accounts: { id: string; name: string }[]
  d1: { uuid: string; name: string; applied?: string[] }[]
  kv: { id: string; title: string }[]
  r2: { name: string }[]
  workers: Record<string, { secrets: Record<string, string>; deployed: { vars: Record<string, string>; routes: unknown[] } | null }>
  calls: { args: string[] }[]
}

let dir: string
let port: number
let pds: Awaited<ReturnType<typeof startPds>> | undefined
const stateFile = () => path.join(dir, 'cloudflare.json')
const readState = (): StandInState => JSON.parse(readFileSync(stateFile(), 'utf8'))
const deployConfig = () => JSON.parse(readFileSync(path.join(dir, 'wrangler.deploy.jsonc'), 'utf8').replace(/^\s*\/\/.*$/gm, ''))

/** A project folder like a fresh clone (wrangler.toml copied, the rest linked) with the stand-in first on PATH. */
function makeProject(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'rawkode-pds-setup-'))
  copyFileSync(path.join(root, 'wrangler.toml'), path.join(d, 'wrangler.toml'))
  for (const name of ['src', 'actors', 'migrations', 'node_modules', 'package.json', 'tsconfig.json']) symlinkSync(path.join(root, name), path.join(d, name))
  mkdirSync(path.join(d, 'bin'))
  writeFileSync(path.join(d, 'bin/wrangler'), `#!/bin/sh\nexec "${process.execPath}" "${path.join(root, 'test/e2e/standIns/wrangler.mjs')}" "$@"\n`, { mode: 0o755 })
  const state: StandInState = { loggedIn: true, accounts: [{ id: '0123456789abcdef0123456789abcdef', name: "Owner's Account" }], d1: [], kv: [], r2: [], workers: {}, calls: [] }
  writeFileSync(path.join(d, 'cloudflare.json'), JSON.stringify(state))
  return d
}

const envFor = (d: string) => ({ ...process.env, PATH: `${path.join(d, 'bin')}:${process.env.PATH}`, STANDIN_WRANGLER_STATE: path.join(d, 'cloudflare.json') })

function runSetup(args: string[], input = ''): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'src/dev/setup.mjs'), ...args], { cwd: dir, env: envFor(dir) })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.stdin.end(input)
    child.on('exit', (code) => resolve({ code, out }))
  })
}

/** The deployment "goes live" when the stand-in has recorded the deploy: the real Worker, from the written config, with the stored secrets. */
async function goLiveAfterDeploy(): Promise<void> {
  const deadline = Date.now() + 110_000
  while (!readState().calls.some((c) => c.args[0] === 'deploy')) {
    if (Date.now() > deadline) throw new Error('setup never deployed')
    await new Promise((r) => setTimeout(r, 250))
  }
  const secrets = readState().workers['rawkode-pds']!.secrets
  pds = await startPds({ port, config: path.join(dir, 'wrangler.deploy.jsonc'), vars: secrets })
}

/** Each call as typed, the generated config's name left out (`… -c`). */
const argsOf = (s: StandInState) => s.calls.map((c) => c.args.filter((a) => a !== 'wrangler.deploy.jsonc').join(' '))

beforeAll(async () => {
  dir = makeProject()
  port = await freePort()
})

afterAll(async () => {
  await pds?.worker.dispose()
  if (pds) rmSync(pds.persist, { recursive: true, force: true })
  if (dir) rmSync(dir, { recursive: true, force: true })
})

describe('npm run setup', () => {
  it('stops at once, saying what to do, when wrangler is not logged in', async () => {
    const state = readState()
    writeFileSync(stateFile(), JSON.stringify({ ...state, loggedIn: false }))
    const { code, out } = await runSetup(['--yes', '--hostname', 'pds.example.com'])
    expect(code).toBe(1)
    expect(out).toContain('npx wrangler login')
    expect(argsOf(readState())).toEqual(['whoami --json'])
    writeFileSync(stateFile(), JSON.stringify(state))
  })

  it('creates the resources, stores fresh secrets, migrates, deploys, and checks the live PDS', async () => {
    const [run] = await Promise.all([runSetup(['--yes', '--hostname', 'pds.example.com', '--live-url', `http://localhost:${port}`, '--wait', '100']), goLiveAfterDeploy()])
    expect(run.code, run.out).toBe(0)
    const state = readState()
    // The exact Cloudflare calls a real account needs, in order.
    expect(argsOf(state)).toEqual([
      'whoami --json',
      'd1 list --json',
      'd1 create rawkode_pds',
      'd1 list --json',
      'r2 bucket list',
      'r2 bucket create rawkode-pds-posts',
      'kv namespace list',
      'kv namespace create rawkode-pds-cache',
      'kv namespace list',
      'secret list --format json -c',
      'secret put PDS_SIGNING_KEY -c',
      'secret put PLC_ROTATION_KEY -c',
      'secret put JWT_SECRET -c',
      'secret put ADMIN_PASSWORD -c',
      'd1 migrations apply DB --remote -c',
      'deploy -c',
    ])

    const config = deployConfig()
    expect(config.vars).toMatchObject({ PDS_HOSTNAME: 'pds.example.com', PDS_DID: 'did:web:pds.example.com', PDS_HANDLE: 'pds.example.com', RELAY_HOSTS: 'bsky.network' })
    expect(config.d1_databases[0]).toMatchObject({ binding: 'DB', database_name: 'rawkode_pds', database_id: state.d1[0]!.uuid, migrations_dir: 'migrations' })
    expect(config.kv_namespaces[0]).toEqual({ binding: 'CACHE', id: state.kv[0]!.id })
    expect(config.r2_buckets[0]).toEqual({ binding: 'BLOBS', bucket_name: 'rawkode-pds-posts' })
    expect(config.routes).toEqual([{ pattern: 'pds.example.com', custom_domain: true }])
    // Everything else comes from wrangler.toml unchanged.
    expect(config.durable_objects).toEqual({ bindings: [{ name: 'ACCOUNT', class_name: 'AccountActor' }] })
    expect(config.triggers.crons).toEqual(['17 * * * *'])
    expect(state.d1[0]!.applied).toEqual(expect.arrayContaining(['0000_magical_zemo.sql']))

    const secrets = state.workers['rawkode-pds']!.secrets
    expect(secrets.PDS_SIGNING_KEY).toMatch(/^[0-9a-f]{64}$/)
    expect(secrets.PLC_ROTATION_KEY).toMatch(/^[0-9a-f]{64}$/)
    expect(secrets.PLC_ROTATION_KEY).not.toBe(secrets.PDS_SIGNING_KEY)
    expect(secrets.JWT_SECRET!.length).toBeGreaterThanOrEqual(32)
    // Shown once: the password and the public keys, never a private key.
    expect(run.out).toContain(secrets.ADMIN_PASSWORD)
    expect(run.out).toContain((await Secp256k1Keypair.import(secrets.PDS_SIGNING_KEY!)).did())
    expect(run.out).toContain((await Secp256k1Keypair.import(secrets.PLC_ROTATION_KEY!)).did())
    for (const key of [secrets.PDS_SIGNING_KEY!, secrets.PLC_ROTATION_KEY!, secrets.JWT_SECRET!]) expect(run.out).not.toContain(key)

    // The live checks passed against the Worker running this config and these secrets.
    expect(run.out).toContain('✓ describeServer')
    expect(run.out).toContain('✓ DID document')
    expect(run.out).toContain('✓ handle pds.example.com')
    expect(run.out).toContain('hosting provider "Custom" → https://pds.example.com')
  })

  it('reruns without creating anything or touching a secret, and deploys the same config again', async () => {
    const before = readState()
    const configBefore = deployConfig()
    const run = await runSetup(['--yes', '--live-url', `http://localhost:${port}`, '--wait', '30'])
    expect(run.code, run.out).toBe(0)
    const after = readState()
    expect(argsOf(after).slice(before.calls.length)).toEqual([
      'whoami --json',
      'd1 list --json',
      'r2 bucket list',
      'kv namespace list',
      'secret list --format json -c',
      'd1 migrations apply DB --remote -c',
      'deploy -c',
    ])
    expect(after.workers['rawkode-pds']!.secrets).toEqual(before.workers['rawkode-pds']!.secrets)
    expect(deployConfig()).toEqual(configBefore)
    expect(run.out).toContain('PDS_SIGNING_KEY: already set, kept')
    expect(run.out).not.toContain(before.workers['rawkode-pds']!.secrets.ADMIN_PASSWORD)
  })

  it('never moves a did:web to another host unasked, and rotates only the secret named', async () => {
    const before = readState()
    const refused = await runSetup(['--yes', '--hostname', 'other.example.com'])
    expect(refused.code).toBe(1)
    expect(refused.out).toContain('tied to its host for good')
    expect(deployConfig().vars.PDS_DID).toBe('did:web:pds.example.com')
    expect(argsOf(readState()).slice(before.calls.length)).toEqual(['whoami --json'])

    const rotated = await runSetup(['--yes', '--rotate', 'ADMIN_PASSWORD', '--skip-deploy'])
    expect(rotated.code, rotated.out).toBe(0)
    const secrets = readState().workers['rawkode-pds']!.secrets
    expect(secrets.ADMIN_PASSWORD).not.toBe(before.workers['rawkode-pds']!.secrets.ADMIN_PASSWORD)
    expect(rotated.out).toContain(secrets.ADMIN_PASSWORD)
    const { ADMIN_PASSWORD: _a, ...rest } = secrets
    const { ADMIN_PASSWORD: _b, ...restBefore } = before.workers['rawkode-pds']!.secrets
    expect(rest).toEqual(restBefore)
  })

  it('checks a handle on another domain through its DNS TXT record, and says which record to add', async () => {
    // A DNS-over-HTTPS stand-in (application/dns-json, as cloudflare-dns.com answers).
    let txt: string | null = null
    const doh = http.createServer((req, res) => {
      const name = new URL(req.url!, 'http://x').searchParams.get('name')
      const answer = txt && name === '_atproto.alice.example.org' ? [{ name, type: 16, TTL: 300, data: `"${txt}"` }] : []
      res.setHeader('content-type', 'application/dns-json')
      res.end(JSON.stringify({ Status: answer.length ? 0 : 3, Answer: answer }))
    })
    await new Promise<void>((r) => doh.listen(0, '127.0.0.1', r))
    const dohUrl = `http://127.0.0.1:${(doh.address() as { port: number }).port}/dns-query`
    try {
      expect((await runSetup(['--yes', '--handle', 'alice.example.org', '--skip-deploy'])).code).toBe(0)
      const check = ['--check', '--live-url', `http://localhost:${port}`, '--doh-url', dohUrl]
      // One look (--wait 0): waiting longer for a record nobody adds shows nothing more.
      const missing = await runSetup([...check, '--wait', '0'])
      expect(missing.code).toBe(2)
      expect(missing.out).toContain('✗ handle alice.example.org')
      expect(missing.out).toContain('_atproto.alice.example.org  with the value  did=did:web:pds.example.com')
      txt = 'did=did:web:pds.example.com'
      const found = await runSetup([...check, '--wait', '10'])
      expect(found.code, found.out).toBe(0)
      expect(found.out).toContain('✓ handle alice.example.org')
      expect(found.out).not.toContain('_atproto.alice.example.org  with the value')
    } finally {
      doh.close()
    }
  })

  it('asks its questions interactively and points a did:plc account to npm run migrate', async () => {
    const plcDir = makeProject()
    const saved = dir
    dir = plcDir
    try {
      const did = 'did:plc:abcdefghijklmnopqrstuvwx'
      // host, identity, DID, handle
      const run = await runSetup(['--skip-deploy'], ['pds.alice.example', 'plc', did, 'alice.example', ''].join('\n'))
      expect(run.code, run.out).toBe(0)
      expect(deployConfig().vars).toMatchObject({ PDS_HOSTNAME: 'pds.alice.example', PDS_DID: did, PDS_HANDLE: 'alice.example' })
      expect(Object.keys(readState().workers['rawkode-pds']!.secrets).sort()).toEqual(['ADMIN_PASSWORD', 'JWT_SECRET', 'PDS_SIGNING_KEY', 'PLC_ROTATION_KEY'])
      expect(run.out).toContain('npm run migrate')
    } finally {
      dir = saved
      rmSync(plcDir, { recursive: true, force: true })
    }
  })

  it('writes a config wrangler really builds and deploys (wrangler deploy --dry-run)', () => {
    const res = spawnSync(path.join(root, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', path.join(dir, 'out'), '-c', path.join(dir, 'wrangler.deploy.jsonc')], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false' },
    })
    expect(res.status, res.stderr + res.stdout).toBe(0)
    expect(res.stdout).toContain('--dry-run: exiting now.')
    expect(res.stdout).toMatch(/env\.DB \(rawkode_pds\)/)
  })
})
