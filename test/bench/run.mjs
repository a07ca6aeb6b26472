#!/usr/bin/env node
/**
 * `npm run bench`: starts the PDS locally (wrangler dev, its own state folder
 * and port) unless PDS_URL names a running one, then runs the repository,
 * firehose and blob benchmarks against it. Each prints a table and a JSON line.
 */
import { spawn } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '../..')
const benches = (process.env.BENCH ?? 'repo,firehose,blobs').split(',')
let server = null
let env = { ...process.env }

if (!process.env.PDS_URL) {
  const port = process.env.BENCH_PORT ?? '8799'
  const state = process.env.BENCH_STATE ?? path.join(root, '.wrangler/bench-state')
  server = spawn('node', ['src/dev/start.mjs', '--port', port, '--persist-to', state], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], detached: true })
  server.stdout.on('data', () => {})
  env.PDS_URL = `http://localhost:${port}`
  await waitFor(`${env.PDS_URL}/xrpc/_health`, 90_000)
  env.PDS_PID ??= findWorkerdPid()
}

try {
  for (const name of benches) {
    console.log(`\n== ${name} ==`)
    await run(path.join(root, `test/bench/${name}.mjs`), env)
  }
} finally {
  if (server) process.kill(-server.pid, 'SIGTERM')
}

function run(file, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], { cwd: root, env, stdio: 'inherit' })
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(file)} exited ${code}`))))
  })
}

async function waitFor(url, ms) {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return
    } catch {}
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(`PDS did not start at ${url}`)
}

function findWorkerdPid() {
  try {
    return execFileSync('pgrep', ['-n', 'workerd'], { encoding: 'utf8' }).trim() || undefined
  } catch {
    return undefined
  }
}
