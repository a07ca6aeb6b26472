/** Starting the Worker with wrangler for end-to-end tests, as `npm run dev` does. */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { unstable_startWorker } from 'wrangler'

export const root = path.resolve(import.meta.dirname, '../..')

/** A free loopback port: the DID document names it, and AtpAgent follows the document's endpoint. */
export async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

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
  await worker.ready
  return { worker, persist, url: await worker.url }
}
