/** Starting the Worker with wrangler for end-to-end tests, as `npm run dev` does. */
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
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

/**
 * The Worker on `port` with local D1/R2/KV/DO in a fresh folder (migrations
 * applied), these variables and secrets, and no `.dev.vars`: tests never read
 * the developer's own secrets.
 */
export async function startPds(opts: { port: number; vars: Record<string, string>; config?: string }) {
  const config = opts.config ?? path.join(root, 'wrangler.toml')
  const persist = mkdtempSync(path.join(os.tmpdir(), 'rawkode-pds-e2e-'))
  execFileSync('wrangler', ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', persist, '-c', config], { cwd: root, stdio: 'ignore', env: { ...process.env, CI: 'true' } })
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
