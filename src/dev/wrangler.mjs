// The Cloudflare calls `npm run setup` makes, all through the wrangler CLI
// (whatever `wrangler` is first on PATH: the project's own under `npm run`).
// Each function reads wrangler 4's own output format: JSON where it has one.
import { spawnSync } from 'node:child_process'

export class WranglerError extends Error {}

/**
 * Runs wrangler non-interactively (CI=true: no prompts, no colours).
 * `show` streams its output to the operator (deploys, migrations); otherwise it is captured.
 */
export function wrangler(args, { input, show = false, accountId, allowFail = false } = {}) {
  const env = { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false', ...(accountId ? { CLOUDFLARE_ACCOUNT_ID: accountId } : {}) }
  const res = spawnSync('wrangler', args, { input: input ?? '', encoding: 'utf8', env, stdio: ['pipe', show ? 'inherit' : 'pipe', show ? 'inherit' : 'pipe'], maxBuffer: 64 * 1024 * 1024 })
  if (res.error) throw new WranglerError(`could not run wrangler: ${res.error.message}`)
  if (res.status !== 0 && !allowFail) {
    throw new WranglerError(`wrangler ${args.slice(0, 3).join(' ')} failed (exit ${res.status})${show ? '' : `:\n${(res.stderr || res.stdout || '').trim()}`}`)
  }
  return { ok: res.status === 0, stdout: res.stdout ?? '', stderr: res.stderr ?? '' }
}

/** The JSON document in a command's output (wrangler may print a banner line before it). */
export function parseJsonOutput(stdout) {
  const start = stdout.search(/^[[{]/m)
  if (start === -1) throw new WranglerError(`expected JSON from wrangler, got: ${stdout.slice(0, 200)}`)
  return JSON.parse(stdout.slice(start))
}

/** `wrangler whoami --json`: `{loggedIn, email, accounts: [{id, name}]}`; exits non-zero when logged out. */
export function whoami() {
  const res = wrangler(['whoami', '--json'], { allowFail: true })
  if (!res.ok) return { loggedIn: false, accounts: [] }
  const info = parseJsonOutput(res.stdout)
  return { loggedIn: info.loggedIn === true, email: info.email, accounts: info.accounts ?? [] }
}

/** D1 database by name: `d1 list --json` → `[{uuid, name, …}]`; created when missing. */
export function ensureD1(name, accountId) {
  const find = () => parseJsonOutput(wrangler(['d1', 'list', '--json'], { accountId }).stdout).find((db) => db.name === name)
  let db = find()
  const created = !db
  if (!db) {
    wrangler(['d1', 'create', name], { accountId })
    db = find()
    if (!db) throw new WranglerError(`D1 database ${name} was created but is not listed`)
  }
  return { id: db.uuid, created }
}

/**
 * KV namespace: `kv namespace list` prints `[{id, title}]`. The one an earlier
 * run recorded (by id) is kept, else one with this title, else it is created.
 */
export function ensureKv(title, accountId, previousId) {
  const find = () => {
    const all = parseJsonOutput(wrangler(['kv', 'namespace', 'list'], { accountId }).stdout)
    return all.find((ns) => ns.id === previousId) ?? all.find((ns) => ns.title === title)
  }
  let ns = find()
  const created = !ns
  if (!ns) {
    wrangler(['kv', 'namespace', 'create', title], { accountId })
    ns = find()
    if (!ns) throw new WranglerError(`KV namespace ${title} was created but is not listed`)
  }
  return { id: ns.id, title: ns.title, created }
}

/** R2 bucket by name: `r2 bucket list` prints `name: …` / `creation_date: …` blocks; created when missing. */
export function ensureR2(name, accountId) {
  const names = [...wrangler(['r2', 'bucket', 'list'], { accountId }).stdout.matchAll(/^name:\s+(\S+)\s*$/gm)].map((m) => m[1])
  if (names.includes(name)) return { created: false }
  wrangler(['r2', 'bucket', 'create', name], { accountId })
  return { created: true }
}

/** Names of the Worker's secrets (`secret list --format json` → `[{name, type}]`); none before the first deploy. */
export function secretNames(configPath, accountId) {
  const res = wrangler(['secret', 'list', '--format', 'json', '-c', configPath], { accountId, allowFail: true })
  if (!res.ok) {
    if (/not found/i.test(res.stderr + res.stdout)) return []
    throw new WranglerError(`wrangler secret list failed:\n${(res.stderr || res.stdout).trim()}`)
  }
  return parseJsonOutput(res.stdout).map((s) => s.name)
}

/** `secret put` reads the value from stdin when it is not a terminal: it never appears in argv or a file. */
export function putSecret(configPath, name, value, accountId) {
  wrangler(['secret', 'put', name, '-c', configPath], { input: value, accountId })
}
