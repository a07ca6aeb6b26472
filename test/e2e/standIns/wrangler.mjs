#!/usr/bin/env node
// A stand-in for the `wrangler` CLI against a Cloudflare account, for
// `npm run setup` tests: it keeps the account in a JSON file
// ($STANDIN_WRANGLER_STATE), records every call, and prints what wrangler
// 4.164 prints (JSON where wrangler has a JSON form; see its cli.js). A
// deploy is checked the way Cloudflare would: every binding must name a
// resource that exists.
import { randomUUID, randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'

const file = process.env.STANDIN_WRANGLER_STATE
const state = JSON.parse(readFileSync(file, 'utf8'))
const args = process.argv.slice(2)
// Written whole and renamed into place: the test polls this file while setup runs.
const save = () => {
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2))
  renameSync(`${file}.tmp`, file)
}
const stdin = () => {
  try {
    return readFileSync(0, 'utf8')
  } catch {
    return ''
  }
}
const fail = (message, code = 1) => {
  process.stderr.write(`✘ [ERROR] ${message}\n`)
  save()
  process.exit(code)
}
const banner = () => console.log('\n ⛅️ wrangler 4.164.0\n───────────────────')
const configArg = () => {
  const at = args.findIndex((a) => a === '-c' || a === '--config')
  if (at === -1) fail('stand-in: deploy-side commands are expected to name the generated config with -c')
  return args[at + 1]
}
/** The generated config is JSON after `//` comment lines (JSONC as setup writes it). */
const readConfig = () => ({ rawConfig: JSON.parse(readFileSync(configArg(), 'utf8').replace(/^\s*\/\/.*$/gm, '')) })

state.calls.push({ args, accountId: process.env.CLOUDFLARE_ACCOUNT_ID ?? null })
const cmd = args.slice(0, Math.max(0, args.findIndex((a) => a.startsWith('-'))) || args.length).slice(0, 3).join(' ')
const loggedIn = () => {
  if (!state.loggedIn) fail('You are not authenticated. Please run `wrangler login`.')
}

if (args[0] === 'whoami') {
  if (!state.loggedIn) {
    console.log(JSON.stringify({ loggedIn: false }, null, 2))
    save()
    process.exit(1)
  }
  console.log(JSON.stringify({ loggedIn: true, authType: 'OAuth Token', email: 'owner@example.com', accounts: state.accounts, tokenPermissions: ['workers_scripts:write', 'd1:write'] }, null, 2))
} else if (cmd === 'd1 list') {
  loggedIn()
  console.log(JSON.stringify(state.d1, null, 2))
} else if (cmd.startsWith('d1 create')) {
  loggedIn()
  const name = args[2]
  if (state.d1.some((d) => d.name === name)) fail(`A database with that name already exists [code: 7502]`)
  const db = { uuid: randomUUID(), name, created_at: new Date().toISOString(), version: 'production', num_tables: 0, file_size: 12288 }
  state.d1.push(db)
  banner()
  console.log(`✅ Successfully created DB '${name}' in region WEUR\nCreated your new D1 database.\n\nTo access your new D1 Database in your Worker, add the following snippet to your configuration file:\n[[d1_databases]]\nbinding = "${name}"\ndatabase_name = "${name}"\ndatabase_id = "${db.uuid}"`)
} else if (cmd === 'kv namespace list') {
  loggedIn()
  console.log(JSON.stringify(state.kv, null, 2))
} else if (cmd.startsWith('kv namespace create')) {
  loggedIn()
  const title = args[3]
  if (state.kv.some((n) => n.title === title)) fail(`A KV namespace with the title "${title}" already exists.`)
  const ns = { id: randomBytes(16).toString('hex'), title, supports_url_encoding: true }
  state.kv.push(ns)
  banner()
  console.log(`Resource location: remote\n🌀 Creating namespace with title "${title}"\n✨ Success!\nTo access your new KV Namespace in your Worker, add the following snippet to your configuration file:\n[[kv_namespaces]]\nbinding = "${title}"\nid = "${ns.id}"`)
} else if (cmd === 'r2 bucket list') {
  loggedIn()
  banner()
  console.log('Listing buckets...')
  console.log(state.r2.map((b) => `name:           ${b.name}\ncreation_date:  ${b.creation_date}`).join('\n\n'))
} else if (cmd.startsWith('r2 bucket create')) {
  loggedIn()
  const name = args[3]
  if (state.r2.some((b) => b.name === name)) fail(`The bucket you tried to create already exists, and you own it. [code: 10004]`)
  state.r2.push({ name, creation_date: new Date().toISOString() })
  banner()
  console.log(`Creating bucket '${name}'...\n✅ Created bucket '${name}' with default storage class of Standard.`)
} else if (cmd === 'secret list') {
  loggedIn()
  const name = readConfig().rawConfig.name
  const worker = state.workers[name]
  if (!worker) fail(`Worker "${name}" not found.\n\nIf this is a new Worker, run \`wrangler deploy\` first to create it.`)
  console.log(JSON.stringify(Object.keys(worker.secrets).map((n) => ({ name: n, type: 'secret_text' })), null, '  '))
} else if (cmd.startsWith('secret put')) {
  loggedIn()
  const name = readConfig().rawConfig.name
  // wrangler reads a piped value from stdin and trims trailing whitespace.
  const value = stdin().replace(/\s+$/, '')
  if (!value) fail('secret value is empty')
  banner()
  if (!state.workers[name]) {
    console.log(`🌀 Creating new Worker "${name}"...`)
    state.workers[name] = { secrets: {}, deployed: null }
  }
  state.workers[name].secrets[args[2]] = value
  console.log(`🌀 Creating the secret for the Worker "${name}"\n✨ Success! Uploaded secret ${args[2]}`)
} else if (cmd.startsWith('d1 migrations apply')) {
  loggedIn()
  if (!args.includes('--remote')) fail('stand-in: only --remote is recorded')
  const raw = readConfig().rawConfig
  const binding = raw.d1_databases.find((d) => d.binding === args[3] || d.database_name === args[3])
  const db = state.d1.find((d) => d.uuid === binding?.database_id)
  if (!db) fail(`Couldn't find a D1 DB with the name or binding '${args[3]}' in your config.`)
  const files = readdirSync(path.resolve(path.dirname(configArg()), binding.migrations_dir ?? 'migrations')).filter((f) => f.endsWith('.sql')).sort()
  const pending = files.filter((f) => !(db.applied ?? []).includes(f))
  db.applied = [...(db.applied ?? []), ...pending]
  banner()
  console.log(pending.length === 0 ? '✅ No migrations to apply!' : `Migrations to be applied:\n${pending.map((p) => `│ ${p} │`).join('\n')}\n🚣 Executed ${pending.length} migrations`)
} else if (args[0] === 'deploy') {
  loggedIn()
  const raw = readConfig().rawConfig
  for (const d of raw.d1_databases ?? []) if (!state.d1.some((x) => x.uuid === d.database_id)) fail(`binding ${d.binding}: D1 database ${d.database_id} not found [code: 10181]`)
  for (const k of raw.kv_namespaces ?? []) if (!state.kv.some((x) => x.id === k.id)) fail(`binding ${k.binding}: KV namespace '${k.id}' is not valid. [code: 10041]`)
  for (const b of raw.r2_buckets ?? []) if (!state.r2.some((x) => x.name === b.bucket_name)) fail(`binding ${b.binding}: R2 bucket '${b.bucket_name}' not found [code: 10085]`)
  if (raw.account_id && !state.accounts.some((a) => a.id === raw.account_id)) fail('account not found')
  state.workers[raw.name] ??= { secrets: {}, deployed: null }
  state.workers[raw.name].deployed = { vars: raw.vars, routes: raw.routes, at: new Date().toISOString() }
  banner()
  console.log(`Total Upload: 1234.56 KiB / gzip: 321.00 KiB\nUploaded ${raw.name} (4.20 sec)\nDeployed ${raw.name} triggers (1.10 sec)\n  ${raw.routes.map((r) => `${r.pattern} (custom domain)`).join('\n  ')}\n  schedule: ${raw.triggers?.crons?.join(', ')}\nCurrent Version ID: ${randomUUID()}`)
} else {
  fail(`stand-in wrangler does not know: ${args.join(' ')}`)
}
save()
