#!/usr/bin/env node
/**
 * `npm run bench`: starts the PDS locally (`npm start`, the production-like
 * server, with its own state folder and port; BENCH_SERVER=dev uses wrangler
 * dev instead) unless PDS_URL names a running one, then runs the repository,
 * firehose and blob benchmarks against it. Each prints a table and a JSON line.
 */
import { spawn } from 'node:child_process'
import { execFileSync } from 'node:child_process'
import { createWriteStream, mkdirSync } from 'node:fs'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '../..')
const benches = (process.env.BENCH ?? 'repo,firehose,blobs').split(',')
let server = null
let env = { ...process.env }

if (!process.env.PDS_URL) {
  const port = process.env.BENCH_PORT ?? '8799'
  const state = process.env.BENCH_STATE ?? path.join(root, '.wrangler/bench-state')
  mkdirSync(state, { recursive: true })
  // Something already answering there would be benchmarked in place of the server started here.
  if (await answers(`http://localhost:${port}/xrpc/_health`)) {
    console.error(`port ${port} is in use: stop what runs there, or set BENCH_PORT (or PDS_URL to bench that server)`)
    process.exit(1)
  }
  const script = process.env.BENCH_SERVER === 'dev' ? 'src/dev/start.mjs' : 'src/dev/serve.mjs'
  // The import bench reads the Worker isolate's heap over workerd's inspector (npm start only).
  const inspectorPort = benches.includes('import') && process.env.BENCH_SERVER !== 'dev' ? String(Number(port) + 1) : null
  server = spawn('node', [script, '--port', port, '--persist-to', state], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
    env: inspectorPort ? { ...process.env, INSPECTOR_PORT: inspectorPort } : process.env,
  })
  if (inspectorPort) env.PDS_INSPECTOR ??= `http://127.0.0.1:${inspectorPort}`
  // The server's log lines carry each request's D1 cost: keep them for the per-operation summary.
  env.PDS_LOG ??= path.join(state, 'server.log')
  const logFile = createWriteStream(env.PDS_LOG)
  server.stdout.pipe(logFile)
  env.PDS_URL = `http://localhost:${port}`
  await waitFor(`${env.PDS_URL}/xrpc/_health`, 90_000, server)
  env.PDS_PID ??= findWorkerdPid(server.pid)
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

async function waitFor(url, ms, child) {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the PDS exited (${child.exitCode}) before it answered at ${url}`)
    if (await answers(url)) return
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(`PDS did not start at ${url}`)
}

async function answers(url) {
  try {
    return (await fetch(url)).ok
  } catch {
    return false
  }
}

/** The workerd process under our server (other agents' workerd may run on the same machine). */
function findWorkerdPid(parent) {
  const table = execFileSync('ps', ['-e', '-o', 'pid=,ppid=,comm='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
  const under = new Set([String(parent)])
  for (let grew = true; grew; ) {
    grew = false
    for (const [pid, ppid] of table) if (under.has(ppid) && !under.has(pid)) (under.add(pid), (grew = true))
  }
  return table.find(([pid, , comm]) => under.has(pid) && comm === 'workerd')?.[0]
}
