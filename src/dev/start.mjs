#!/usr/bin/env node
// `npm run dev [-- --port N] [wrangler dev flags]`: prepares local secrets and
// the local D1 schema, then runs wrangler dev on the embedded default
// (local D1, R2, KV and Durable Objects). Runs under the project's Node 22.
import { spawn } from 'node:child_process'
import { applyMigrations, banner, parseFlags, prepareDevVars } from './prepare.mjs'

const args = process.argv.slice(2)
let flags, devVars
try {
  flags = parseFlags(args)
  devVars = await prepareDevVars(flags.port)
  applyMigrations(flags.persistTo)
  console.log(banner({ port: flags.port, ...devVars }))
} catch (err) {
  console.error(err.message)
  process.exit(1)
}

const varFlags = Object.entries(devVars.overrides).flatMap(([k, v]) => ['--var', `${k}:${v}`])
const child = spawn('wrangler', ['dev', ...(flags.portGiven ? [] : ['--port', flags.port]), ...varFlags, ...args], { stdio: 'inherit' })
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
child.on('exit', (code) => process.exit(code ?? 0))
