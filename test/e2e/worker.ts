/** Starting the Worker with wrangler for end-to-end tests, as `npm run dev` does. */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { unstable_startWorker } from 'wrangler'
import { freePort } from './ports'

export const root = path.resolve(import.meta.dirname, '../..')

function applyMigrations(persist: string, config: string) {
  execFileSync('wrangler', ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist, '-c', config], { cwd: root, stdio: 'ignore', env: { ...process.env, CI: 'true' } })
}

/**
 * A fresh folder of local state (named `prefix…` in the temp dir) whose D1 has
 * the migrations applied by `wrangler d1 migrations apply --local`, as
 * `npm run dev` does. That command costs ~10 s of CPU and its result depends
 * only on the config, the migrations and wrangler, so for the repo's own
 * wrangler.toml it runs once per such combination (cached under
 * node_modules/.cache) and every server gets a copy of its result.
 */
export function migratedState(prefix: string, config = path.join(root, 'wrangler.toml')): string {
  const persist = mkdtempSync(path.join(os.tmpdir(), prefix))
  if (path.resolve(config) !== path.join(root, 'wrangler.toml')) {
    applyMigrations(persist, config)
    return persist
  }
  const hash = createHash('sha256').update(readFileSync(config)).update(readFileSync(path.join(root, 'node_modules/wrangler/package.json')))
  const migrations = path.join(root, 'migrations')
  for (const name of readdirSync(migrations).filter((n) => n.endsWith('.sql')).sort()) hash.update(name).update(readFileSync(path.join(migrations, name)))
  const cacheDir = path.join(root, 'node_modules/.cache/rawkode-pds-test')
  const cached = path.join(cacheDir, `d1-migrated-${hash.digest('hex').slice(0, 16)}`)
  if (!existsSync(cached)) {
    // Test files run in parallel: each builds in a folder of its own, the first rename wins.
    mkdirSync(cacheDir, { recursive: true })
    const building = mkdtempSync(`${cached}.building-`)
    applyMigrations(building, config)
    try {
      renameSync(building, cached)
    } catch {
      rmSync(building, { recursive: true, force: true })
    }
  }
  cpSync(cached, persist, { recursive: true })
  return persist
}

/**
 * The Worker on `port` with local D1/R2/KV/DO in a fresh folder (migrations
 * applied), these variables and secrets, and no `.dev.vars`: tests never read
 * the developer's own secrets.
 */
/** The fixed signing key of e2e test servers (never used outside tests). */
const TEST_SIGNING_KEY = '4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318'

/**
 * A did:web PDS of its own on a free localhost port (its DID names the port):
 * the given owner handle and password, test secrets, `vars` on top. `base` is
 * its URL without the trailing slash.
 */
export async function startLocalPds(opts: { handle: string; password: string; vars?: Record<string, string> }) {
  const port = await freePort()
  const did = `did:web:localhost%3A${port}`
  const started = await startPds({
    port,
    vars: {
      PDS_HOSTNAME: `localhost:${port}`,
      PDS_DID: did,
      PDS_HANDLE: opts.handle,
      ADMIN_PASSWORD: opts.password,
      JWT_SECRET: `e2e-jwt-secret-${port}-0123456789abcdef0123456789`,
      PDS_SIGNING_KEY: TEST_SIGNING_KEY,
      ...opts.vars,
    },
  })
  return { ...started, did, base: started.url.toString().replace(/\/$/, '') }
}

export async function startPds(opts: { port: number; vars: Record<string, string>; config?: string }) {
  const config = opts.config ?? path.join(root, 'wrangler.toml')
  const persist = migratedState('rawkode-pds-e2e-', config)
  const bindings = Object.fromEntries(Object.entries(opts.vars).map(([k, value]) => [k, { type: 'plain_text' as const, value }]))
  const worker = await unstable_startWorker({
    config,
    envFiles: [path.join(persist, 'no-such.env')],
    bindings,
    dev: { server: { hostname: 'localhost', port: opts.port }, inspector: false, persist, watch: false, logLevel: 'error' },
  } as never)
  await readyWithin(worker, opts.port, 100_000)
  return { worker, persist, url: await worker.url }
}

/**
 * wrangler never gives up on a port another process holds: say so before the
 * test's hook times out with nothing to go on.
 */
async function readyWithin(worker: Awaited<ReturnType<typeof unstable_startWorker>>, port: number, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`wrangler did not start the Worker on port ${port} within ${ms / 1000} s (is the port taken?)`)), ms)
  })
  try {
    await Promise.race([worker.ready, late])
  } catch (err) {
    // Not awaited: a Worker that never became ready may never finish disposing either.
    void worker.dispose().catch(() => {})
    throw err
  } finally {
    clearTimeout(timer)
  }
}
