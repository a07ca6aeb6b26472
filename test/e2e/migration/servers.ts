/**
 * The two hosts of a migration test: the reference PDS (@atproto/pds with an
 * in-memory PLC directory, installed outside the repo by .ci/run and run with
 * the machine's Node 20, for which its better-sqlite3 was built) and ours,
 * started by wrangler as `npm run dev` does.
 */
import { Secp256k1Keypair } from '@atproto/crypto'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { unstable_startWorker } from 'wrangler'
import { freePort } from '../ports'
import { migratedState } from '../worker'

const root = path.resolve(import.meta.dirname, '../../..')

/** Where .ci/run installs the reference PDS (REF_PDS_DIR overrides). */
export function refPdsDir(): string {
  const candidates = [process.env.REF_PDS_DIR, path.join(os.homedir(), '.cache/rawkode-pds-ref'), '/work/ref'].filter((d): d is string => !!d)
  const found = candidates.find((d) => existsSync(path.join(d, 'node_modules/@atproto/pds/package.json')))
  if (!found) throw new Error(`the reference PDS is not installed (looked in ${candidates.join(', ')}); .ci/run installs it, or set REF_PDS_DIR`)
  return found
}

export interface RefPds {
  url: string
  plc: string
  did: string
  identifier: string
  password: string
  emailTokens: string
  stop(): void
}

/** Starts the reference PDS; `plc` joins an existing PLC directory instead of starting one. */
export async function startRefPds(opts: { plc?: string } = {}): Promise<RefPds> {
  const dir = refPdsDir()
  // The reference serves its email-token helper on the port after its own.
  const [pdsPort, plcPort] = [await freePort(2), await freePort()]
  const child: ChildProcess = spawn(process.env.REF_NODE ?? '/usr/bin/node', [path.join(import.meta.dirname, 'ref-pds.cjs')], {
    cwd: dir,
    env: { ...process.env, NODE_PATH: path.join(dir, 'node_modules'), PDS_PORT: String(pdsPort), PLC_PORT: String(plcPort), ...(opts.plc ? { PLC_URL: opts.plc } : {}) },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stderr!.on('data', (d) => (err += d))
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`reference PDS did not start: ${err.slice(-2000)}`)), 90_000)
    child.stdout!.on('data', (d) => {
      out += d
      const nl = out.indexOf('\n')
      if (nl !== -1) {
        clearTimeout(timer)
        resolve(out.slice(0, nl))
      }
    })
    child.on('exit', (code) => reject(new Error(`reference PDS exited (${code}): ${err.slice(-2000)}`)))
  })
  const info = JSON.parse(line)
  return { url: info.PDS_URL, plc: info.plc, did: info.did, identifier: info.PDS_IDENTIFIER, password: info.PDS_PASSWORD, emailTokens: info.emailTokens, stop: () => child.kill('SIGTERM') }
}

export interface OurPds {
  url: string
  did: string
  handle: string
  password: string
  rotationKey: Secp256k1Keypair
  signingKey: Secp256k1Keypair
  stop(): Promise<void>
}

/** Our Worker serving `did` (a did:plc on `plc`), with fresh keys, local state and a free port. */
export async function startOurPds(opts: { did: string; handle: string; plc: string }): Promise<OurPds> {
  const port = await freePort()
  const persist = migratedState('rawkode-pds-migration-')
  const signingKey = await Secp256k1Keypair.create({ exportable: true })
  const rotationKey = await Secp256k1Keypair.create({ exportable: true })
  const hex = async (k: Secp256k1Keypair) => Buffer.from(await k.export()).toString('hex')
  const password = 'our-owner-password'
  const plain = (value: string) => ({ type: 'plain_text' as const, value })
  const worker = await unstable_startWorker({
    config: path.join(root, 'wrangler.toml'),
    // Never the developer's .dev.vars: its secrets would take over when wrangler reloads the Worker.
    envFiles: [path.join(persist, 'no-such.env')],
    bindings: {
      PDS_HOSTNAME: plain(`localhost:${port}`),
      PDS_DID: plain(opts.did),
      PDS_HANDLE: plain(opts.handle),
      PLC_DIRECTORY_URL: plain(opts.plc),
      ADMIN_PASSWORD: plain(password),
      JWT_SECRET: plain('migration-jwt-secret-0123456789abcdef0123'),
      PDS_SIGNING_KEY: plain(await hex(signingKey)),
      PLC_ROTATION_KEY: plain(await hex(rotationKey)),
    },
    dev: { server: { hostname: 'localhost', port }, inspector: false, persist, watch: false, logLevel: 'error' },
  } as never)
  await worker.ready
  return {
    url: `http://localhost:${port}`,
    did: opts.did,
    handle: opts.handle,
    password,
    rotationKey,
    signingKey,
    stop: async () => {
      await worker.dispose()
      rmSync(persist, { recursive: true, force: true })
    },
  }
}
