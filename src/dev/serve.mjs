#!/usr/bin/env node
// `npm start [-- --port N] [--persist-to DIR]`: the production-like local server.
// The Worker is the bundle `wrangler deploy` would upload (built with
// `wrangler deploy --dry-run --outdir`), run in workerd through Miniflare's
// API: no dev proxy in front of it and no file watching. Bindings come from
// wrangler.toml as wrangler reads them, secrets from .dev.vars, and D1, R2, KV
// and Durable Objects live in the same state folder as `npm run dev`'s.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { Log, LogLevel, Miniflare, convertV4MiniflareOptions } from 'miniflare'
import { unstable_getMiniflareWorkerOptions, unstable_readConfig } from 'wrangler'
import { DEFAULT_PERSIST, applyMigrations, banner, parseFlags, prepareDevVars } from './prepare.mjs'

const root = path.resolve(import.meta.dirname, '../..')
process.chdir(root)

let flags, devVars
try {
  flags = parseFlags(process.argv.slice(2))
  devVars = await prepareDevVars(flags.port)
  applyMigrations(flags.persistTo)
} catch (err) {
  console.error(err.message)
  process.exit(1)
}

const outdir = path.join(root, '.wrangler/deploy-bundle')
const built = spawnSync('wrangler', ['deploy', '--dry-run', '--outdir', outdir], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, CI: 'true', WRANGLER_LOG: 'warn' } })
if (built.status !== 0) process.exit(built.status ?? 1)

const config = unstable_readConfig({ config: 'wrangler.toml' })
const { workerOptions } = unstable_getMiniflareWorkerOptions('wrangler.toml')
// The bundle's modules (the entry first), exactly as the deploy would upload them.
const modules = readdirSync(outdir)
  .filter((f) => f.endsWith('.js') || f.endsWith('.mjs'))
  .sort((a, b) => (a === 'index.js' ? -1 : b === 'index.js' ? 1 : a.localeCompare(b)))
  .map((f) => ({ type: 'ESModule', path: path.join(outdir, f) }))

const mf = new Miniflare(
  convertV4MiniflareOptions({
    // Miniflare's own entry worker (request logging, cf, its /cdn-cgi/ routes) adds ~1.5 ms to every
    // request; it gets an ephemeral port and clients talk to the Worker through a direct socket.
    host: '127.0.0.1',
    port: 0,
    log: new Log(LogLevel.WARN),
    // The Worker logs one JSON line per request itself.
    logRequests: false,
    handleStructuredLogs: ({ level, message }) => (level === 'error' || level === 'warn' ? console.error(message) : console.log(message)),
    // wrangler dev keeps its state in <persist-to>/v3; so do we, to share it.
    resourcePersistencePath: path.join(path.resolve(flags.persistTo ?? DEFAULT_PERSIST), 'v3'),
    unsafeTriggerHandlers: true,
    // INSPECTOR_PORT=N: the V8 inspector of every isolate (Chrome DevTools, CPU profiles; the
    // import bench reads the Worker's heap through it, test/bench/heap.mjs).
    inspectorPort: Number(process.env.INSPECTOR_PORT ?? 0) || undefined,
    // No request.cf lookup on the network: the Worker does not read it.
    cf: false,
    workers: [
      {
        ...workerOptions,
        // Durable Object storage is keyed by the Worker's name, as under wrangler dev.
        name: config.name,
        modules,
        modulesRoot: outdir,
        bindings: { ...workerOptions.bindings, ...devVars.vars, ...devVars.overrides },
        unsafeDirectSockets: [{ host: '127.0.0.1', port: Number(flags.port) }],
      },
    ],
  }),
)
try {
  await mf.ready
} catch (err) {
  // A busy port is the usual cause; Miniflare's message says which and what to do.
  console.error(err.code === 'ERR_ADDRESS_IN_USE' ? err.message : err)
  await mf.dispose().catch(() => {})
  process.exit(1)
}
console.log(banner({ port: flags.port, ...devVars }))
console.log('  Serving the deploy bundle in workerd (no dev proxy, no reload). Ctrl-C stops it.\n')

let stopping = false
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    if (stopping) return
    stopping = true
    await mf.dispose()
    process.exit(0)
  })
}
