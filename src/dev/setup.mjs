#!/usr/bin/env node
// `npm run setup [-- flags]`: from a fresh clone to a live PDS on Cloudflare.
// Interactive by default; `--yes` takes every default (and the flags) for
// scripts. Safe to rerun: resources are found by name, the deploy config is
// rewritten from wrangler.toml, and a secret that is already set is kept
// unless --rotate names it. Runs under the project's Node 22.
import { parseArgs } from 'node:util'
import { asker } from './ask.mjs'
import { buildDeployConfig, DEPLOY_CONFIG, readBaseConfig, readPrevious, writeDeployConfig } from './deployConfig.mjs'
import { newJwtSecret, newPassword, newSecp256k1Key } from './keys.mjs'
import { liveChecks, runChecks } from './liveChecks.mjs'
import { ensureD1, ensureKv, ensureR2, putSecret, secretNames, whoami, wrangler, WranglerError } from './wrangler.mjs'

const HELP = `npm run setup [-- options]

  --yes, -y            no questions: take the flags and defaults
  --hostname HOST      where the PDS is served (a domain on your Cloudflare account)
  --handle HANDLE      the account's handle (default: the hostname)
  --identity web|plc   did:web (a new identity, tied to HOST for good) or did:plc
                       (an existing Bluesky account, moved here with \`npm run migrate\`)
  --did DID            the existing did:plc (with --identity plc)
  --account-id ID      Cloudflare account, when you have several
  --d1 NAME --r2 NAME --kv TITLE   resource names (defaults from wrangler.toml)
  --relays HOSTS       relays asked to crawl (default bsky.network)
  --rotate NAMES       replace these secrets (comma-separated); others are never changed
  --new-identity       allow a new hostname for an existing did:web (a new account)
  --skip-deploy        stop after config, resources and secrets
  --check              only run the live checks
  --live-url URL       run the checks against URL instead of https://HOST
  --wait SECONDS       how long the checks wait for the deployment (default 180)`

const SECRETS = ['PDS_SIGNING_KEY', 'PLC_ROTATION_KEY', 'JWT_SECRET', 'ADMIN_PASSWORD']
const HOST = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/

const { values: flags } = parseArgs({
  options: {
    yes: { type: 'boolean', short: 'y' },
    hostname: { type: 'string' },
    handle: { type: 'string' },
    identity: { type: 'string' },
    did: { type: 'string' },
    'account-id': { type: 'string' },
    d1: { type: 'string' },
    r2: { type: 'string' },
    kv: { type: 'string' },
    relays: { type: 'string' },
    rotate: { type: 'string' },
    'new-identity': { type: 'boolean' },
    'skip-deploy': { type: 'boolean' },
    check: { type: 'boolean' },
    'live-url': { type: 'string' },
    'plc-url': { type: 'string' },
    'doh-url': { type: 'string' },
    wait: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
})
if (flags.help) {
  console.log(HELP)
  process.exit(0)
}

const ask = asker({ yes: flags.yes })
try {
  await main()
} catch (err) {
  console.error(`\nsetup stopped: ${err instanceof WranglerError ? err.message : err.stack ?? err}`)
  process.exitCode = 1
} finally {
  ask.close()
}

async function main() {
  const base = readBaseConfig()
  const previous = readPrevious()

  if (flags.check) {
    if (!previous) throw new Error(`no ${DEPLOY_CONFIG} yet: run npm run setup first`)
    return check(previous, null)
  }

  // 1. Who is deploying.
  const me = whoami()
  if (!me.loggedIn) throw new Error('wrangler is not logged in: run `npx wrangler login` (or set CLOUDFLARE_API_TOKEN), then npm run setup again')
  let accountId = flags['account-id'] ?? previous?.accountId
  if (!accountId && me.accounts.length > 1) {
    me.accounts.forEach((a) => console.log(`  ${a.id}  ${a.name}`))
    accountId = await ask.text('Cloudflare account id', { validate: (a) => (me.accounts.some((x) => x.id === a) ? null : 'not one of your accounts') })
  }
  console.log(`Cloudflare: ${me.email ?? 'logged in'}${accountId ? ` (account ${accountId})` : me.accounts[0] ? ` (${me.accounts[0].name})` : ''}`)

  // 2. Where and who.
  const hostname = (await ask.text('Host name of the PDS (a domain on your Cloudflare account)', {
    fallback: flags.hostname ?? previous?.hostname,
    validate: (h) => (HOST.test(h) ? null : 'a host name like pds.example.com'),
  })).toLowerCase()
  const identity = flags.identity ?? (await ask.choose('Identity: a new did:web, or an existing Bluesky account (did:plc)', ['web', 'plc'], previous?.did?.startsWith('did:plc:') ? 'plc' : 'web'))
  if (identity !== 'web' && identity !== 'plc') throw new Error('--identity is web or plc')
  const did =
    identity === 'web'
      ? `did:web:${hostname}`
      : await ask.text('Your existing DID (did:plc:…, shown in Bluesky under Settings → Account)', {
          fallback: flags.did ?? (previous?.did?.startsWith('did:plc:') ? previous.did : undefined),
          validate: (d) => (/^did:plc:[a-z2-7]{24}$/.test(d) ? null : 'a did:plc: followed by 24 characters'),
        })
  if (previous?.did && previous.did !== did) {
    // The repo, firehose and sessions all belong to PDS_DID: a new one is a new, empty account.
    console.log(`\n${DEPLOY_CONFIG} is for ${previous.did}; ${did} would be a different, empty account here.`)
    if (previous.did.startsWith('did:web:')) console.log(`A did:web is tied to its host for good: ${previous.did} lives only where ${previous.hostname} serves it.`)
    if (!(flags['new-identity'] || (await ask.confirm(`Switch this deployment to ${did}?`, false)))) throw new Error('identity unchanged; pass --new-identity to switch')
  }
  const handle = (await ask.text('Handle', {
    fallback: flags.handle ?? previous?.handle ?? (identity === 'web' ? hostname : undefined),
    validate: (h) => (HOST.test(h.toLowerCase()) ? null : 'a handle like alice.example.com'),
  })).toLowerCase()
  const relayHosts = flags.relays ?? previous?.relayHosts ?? 'bsky.network'

  // 3. Resources, found by name or created.
  const name = previous?.name ?? base.name
  const d1Name = flags.d1 ?? previous?.d1Name ?? base.d1_databases.find((d) => d.binding === 'DB').database_name
  const r2Name = flags.r2 ?? previous?.r2Name ?? base.r2_buckets.find((b) => b.binding === 'BLOBS').bucket_name
  const kvTitle = flags.kv ?? `${name}-cache`
  console.log('\nResources')
  const d1 = ensureD1(d1Name, accountId)
  console.log(`  D1 ${d1Name}: ${d1.created ? 'created' : 'exists'} (${d1.id})`)
  const r2 = ensureR2(r2Name, accountId)
  console.log(`  R2 ${r2Name}: ${r2.created ? 'created' : 'exists'}`)
  const kv = ensureKv(kvTitle, accountId, flags.kv ? undefined : previous?.kvId)
  console.log(`  KV ${kv.title}: ${kv.created ? 'created' : 'exists'} (${kv.id})`)

  const config = buildDeployConfig(base, { name, accountId, hostname, did, handle, relayHosts, d1Name, d1Id: d1.id, r2Name, kvId: kv.id })
  writeDeployConfig(config)
  console.log(`  wrote ${DEPLOY_CONFIG} (custom domain ${hostname})`)

  // 4. Secrets: only the missing ones (or those named in --rotate) are generated.
  const rotate = new Set((flags.rotate ?? '').split(',').map((s) => s.trim()).filter(Boolean))
  for (const r of rotate) if (!SECRETS.includes(r)) throw new Error(`--rotate knows ${SECRETS.join(', ')}, not ${r}`)
  const present = new Set(secretNames(DEPLOY_CONFIG, accountId))
  console.log('\nSecrets')
  const shown = {}
  for (const secret of SECRETS) {
    if (present.has(secret) && !rotate.has(secret)) {
      console.log(`  ${secret}: already set, kept`)
      continue
    }
    let value
    if (secret === 'PDS_SIGNING_KEY' || secret === 'PLC_ROTATION_KEY') {
      const key = await newSecp256k1Key()
      value = key.hex
      shown[secret] = key.didKey
    } else if (secret === 'JWT_SECRET') value = newJwtSecret()
    else shown[secret] = value = newPassword()
    putSecret(DEPLOY_CONFIG, secret, value, accountId)
    console.log(`  ${secret}: ${present.has(secret) ? 'rotated' : 'generated and stored'}`)
  }
  if (Object.keys(shown).length > 0) {
    console.log('\nShown once (Cloudflare keeps the secrets; they cannot be read back):')
    if (shown.ADMIN_PASSWORD) console.log(`  password (log in as ${handle}):  ${shown.ADMIN_PASSWORD}`)
    if (shown.PDS_SIGNING_KEY) console.log(`  signing key (public):           ${shown.PDS_SIGNING_KEY}`)
    if (shown.PLC_ROTATION_KEY) console.log(`  PLC rotation key (public):      ${shown.PLC_ROTATION_KEY}`)
    if (present.has('PDS_SIGNING_KEY') && shown.PDS_SIGNING_KEY && identity === 'plc') console.log('  The signing key changed: `npm run migrate` updates it in the PLC directory.')
  }

  if (flags['skip-deploy']) return nextSteps({ hostname, did, handle, identity }, new Map())

  // 5. Schema, then code.
  console.log('\nD1 migrations (remote)')
  wrangler(['d1', 'migrations', 'apply', 'DB', '--remote', '-c', DEPLOY_CONFIG], { show: true, accountId })
  console.log('\nDeploy')
  wrangler(['deploy', '-c', DEPLOY_CONFIG], { show: true, accountId })

  await check({ hostname, did, handle }, shown.PDS_SIGNING_KEY ?? null, identity)
}

async function check({ hostname, did, handle }, signingDidKey, identity = did.startsWith('did:plc:') ? 'plc' : 'web') {
  const base = (flags['live-url'] ?? `https://${hostname}`).replace(/\/$/, '')
  console.log(`\nLive checks (${base})`)
  const checks = liveChecks({
    base,
    hostname,
    did,
    handle,
    signingDidKey,
    plcUrl: (flags['plc-url'] ?? 'https://plc.directory').replace(/\/$/, ''),
    dohUrl: flags['doh-url'] ?? 'https://cloudflare-dns.com/dns-query',
  })
  const problems = await runChecks(checks, Number(flags.wait ?? 180) * 1000)
  nextSteps({ hostname, did, handle, identity }, problems)
  if (problems.size > 0 && identity === 'web') process.exitCode = 2
}

function nextSteps({ hostname, did, handle, identity }, problems) {
  const steps = []
  if (identity === 'plc') steps.push(`Move your account here: npm run migrate (see README, "Move your Bluesky account here").`)
  if (handle !== hostname && [...problems.keys()].some((k) => k.startsWith('handle'))) {
    steps.push(`Point your handle at this DID: a DNS TXT record  _atproto.${handle}  with the value  did=${did}`)
  }
  if ([...problems.keys()].some((k) => k !== `handle ${handle}` && !k.includes('PLC'))) {
    steps.push(`The deployment is not answering yet (new custom domains take a few minutes): npm run setup -- --check`)
  }
  steps.push(`Log in from the Bluesky app: "Sign in" → hosting provider "Custom" → https://${hostname}, then ${handle} and your password.`)
  steps.push(`Status page: https://${hostname}/  ·  live logs: npx wrangler tail -c ${DEPLOY_CONFIG}  ·  npm run inspect -- --remote`)
  console.log('\nNext')
  steps.forEach((s, i) => console.log(`  ${i + 1}. ${s}`))
}
