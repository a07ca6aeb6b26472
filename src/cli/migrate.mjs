#!/usr/bin/env node
// `npm run migrate`: moves a did:plc account from its current PDS (default
// bsky.social) to this one with the standard calls (PROTOCOL.md "did:plc and
// moving an account"), resumable from a checkpoint file. See README "Move
// your Bluesky account here". Runs under the project's Node 22.
import { AtpAgent } from '@atproto/api'
import { formatDidKey, SECP256K1_JWT_ALG } from '@atproto/crypto'
import { readCarWithRoot, verifyRepo, verifyRepoCar } from '@atproto/repo'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { base58btc } from 'multiformats/bases/base58'
import { Checkpoint } from './migrate/checkpoint.mjs'
import { ask, Progress } from './migrate/terminal.mjs'

/** How long an import waits for an earlier one here (the server's lease lapses a minute after its client went away). */
const IMPORT_WAIT_MS = 120_000
const IMPORT_RETRY_MS = 5_000
const STEPS = ['createAccount', 'importRepo', 'preferences', 'blobs', 'plcSign', 'plcSubmit', 'activate', 'deactivateOld', 'verify']

const { values: opts } = parseArgs({
  options: {
    from: { type: 'string', default: 'https://bsky.social' },
    handle: { type: 'string' },
    password: { type: 'string' },
    'auth-factor': { type: 'string' },
    to: { type: 'string' },
    'to-password': { type: 'string' },
    'plc-token': { type: 'string' },
    plc: { type: 'string', default: 'https://plc.directory' },
    checkpoint: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    'stop-after': { type: 'string' },
    yes: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
})

if (opts.help) {
  console.log(`npm run migrate -- --to https://pds.example.com [options]

  --from URL          the old PDS (default https://bsky.social)
  --handle HANDLE     your handle or DID there
  --password PW       your password there (or OLD_PASSWORD; asked if missing)
  --auth-factor CODE  the sign-in code the old PDS mailed, if it asks for one
  --to URL            this PDS (its PDS_DID must be your DID)
  --to-password PW    this PDS's owner password, ADMIN_PASSWORD (or NEW_PASSWORD)
  --plc-token TOKEN   the PLC confirmation code the old PDS mails (asked when needed)
  --plc URL           PLC directory used to verify (default https://plc.directory)
  --checkpoint FILE   progress file (default .migrate-<did>.json); a rerun resumes
  --dry-run           check both sides and print the plan; change nothing
  --stop-after STEP   stop after one of: ${STEPS.join(', ')}
  --yes               never prompt: fail instead`)
  process.exit(0)
}

const fail = (message) => {
  console.error(`\n✗ ${message}`)
  process.exit(1)
}
const step = (n, text) => console.log(`\n[${n}/${STEPS.length}] ${text}`)
const need = async (value, question, secret) => {
  if (value) return value
  if (opts.yes) fail(`missing: ${question.replace(/:\s*$/, '')} (pass it as a flag)`)
  return ask(question, { secret })
}
if (opts['stop-after'] && !STEPS.includes(opts['stop-after'])) fail(`--stop-after must be one of ${STEPS.join(', ')}`)

const to = await need(opts.to, 'This PDS (URL): ')
const identifier = await need(opts.handle, `Your handle at ${opts.from}: `)
const oldPassword = await need(opts.password ?? process.env.OLD_PASSWORD, `Password at ${opts.from}: `, true)
const newPassword = await need(opts['to-password'] ?? process.env.NEW_PASSWORD, `Owner password of ${to} (ADMIN_PASSWORD): `, true)

// Log in on both sides.
const old = new AtpAgent({ service: opts.from })
try {
  await old.login({ identifier, password: oldPassword, authFactorToken: opts['auth-factor'] })
} catch (err) {
  if (err?.error !== 'AuthFactorTokenRequired') fail(`could not log in at ${opts.from}: ${err.message}`)
  const code = await need(undefined, `${opts.from} mailed you a sign-in code; enter it: `)
  await old.login({ identifier, password: oldPassword, authFactorToken: code }).catch((e) => fail(`could not log in at ${opts.from}: ${e.message}`))
}
const did = old.session.did
if (!did.startsWith('did:plc:')) fail(`${did} is not a did:plc; only did:plc identities can move between hosts`)
const fresh = new AtpAgent({ service: to })
const serviceDid = (await fresh.com.atproto.server.describeServer().catch((e) => fail(`${to} does not answer describeServer: ${e.message}`))).data.did
if (serviceDid !== did) fail(`${to} hosts ${serviceDid}. Set PDS_DID=${did} (and PDS_HANDLE, PLC_ROTATION_KEY) there, then run this again`)
// This PDS hosts one identity and knows its handle (PDS_HANDLE): the owner password opens it.
const ours = new AtpAgent({ service: to })
await ours.login({ identifier: did, password: newPassword }).catch((e) => fail(`could not log in at ${to} with the owner password: ${e.message}`))
const handle = ours.session.handle

const checkpoint = new Checkpoint(opts.checkpoint ?? `.migrate-${did.replace(/:/g, '_')}.json`)
const carFile = `${checkpoint.file}.car`
checkpoint.state.did ??= did

if (opts['dry-run']) {
  const { collections } = (await old.com.atproto.repo.describeRepo({ repo: did })).data
  let blobs = 0
  let cursor
  do {
    const page = (await old.com.atproto.sync.listBlobs({ did, cursor, limit: 1000 })).data
    blobs += page.cids.length
    cursor = page.cids.length > 0 ? page.cursor : undefined
  } while (cursor)
  console.log(`Plan (dry run, nothing changed):
  move        ${did}
  from        ${opts.from} (${collections.length} collections, ${blobs} blobs)
  to          ${to} as ${handle} (here now: ${ours.session.active === false ? 'deactivated' : 'active'})
  steps       ${STEPS.map((s) => (checkpoint.done(s) ? `${s} (done)` : s)).join(' → ')}
  checkpoint  ${checkpoint.file}`)
  process.exit(0)
}

const stopIfAsked = (name) => {
  if (opts['stop-after'] === name) {
    console.log(`\nStopped after ${name} (--stop-after); run again to continue.`)
    process.exit(0)
  }
}
const run = async (index, name, text, body) => {
  step(index + 1, text)
  if (checkpoint.done(name)) console.log('  already done')
  else checkpoint.mark(name, (await body()) ?? {})
  stopIfAsked(name)
}
const xrpcFail = (what) => (err) => fail(`${what}: ${err.message}`)

await run(0, 'createAccount', `Create the account at ${to} (deactivated until the move completes)`, async () => {
  const { token } = (await old.com.atproto.server.getServiceAuth({ aud: serviceDid, lxm: 'com.atproto.server.createAccount', exp: Math.floor(Date.now() / 1000) + 120 })).data
  await fresh.com.atproto.server.createAccount({ did, handle, password: newPassword }, { headers: { authorization: `Bearer ${token}` } }).catch(xrpcFail('createAccount refused'))
})

await run(1, 'importRepo', `Export the repo from ${opts.from} and import it`, async () => {
  const car = (await old.com.atproto.sync.getRepo({ did })).data
  writeFileSync(carFile, car)
  console.log(`  ${(car.byteLength / 1024 / 1024).toFixed(1)} MB exported (kept in ${carFile} to verify against)`)
  // An interrupted run's import may still hold the lease here (until it finishes, or lapses a minute after its client went away).
  for (let waited = 0; ; waited += IMPORT_RETRY_MS) {
    try {
      await ours.com.atproto.repo.importRepo(car, { encoding: 'application/vnd.ipld.car' })
      break
    } catch (err) {
      if (err?.error === 'ImportInProgress' && waited < IMPORT_WAIT_MS) {
        if (waited === 0) console.log('  an earlier import (an interrupted run?) is still running here; waiting for it to finish or lapse')
        await new Promise((r) => setTimeout(r, IMPORT_RETRY_MS))
        continue
      }
      // A run that imported but stopped before writing the checkpoint: the repo here is that import.
      if (!/imported already/.test(err.message)) fail(`importRepo refused: ${err.message}`)
      console.log('  already imported')
      break
    }
  }
})

await run(2, 'preferences', 'Copy preferences', async () => {
  const prefs = await old.app.bsky.actor.getPreferences().then((r) => r.data.preferences, (err) => (console.log(`  ${opts.from} has no preferences to give (${err.message})`), null))
  if (prefs) await ours.app.bsky.actor.putPreferences({ preferences: prefs }).catch(xrpcFail('putPreferences refused'))
})

await run(3, 'blobs', 'Copy images and videos (only what is missing)', async () => {
  const status = (await ours.com.atproto.server.checkAccountStatus()).data
  const progress = new Progress(Math.max(0, status.expectedBlobs - status.importedBlobs))
  let cursor
  do {
    const page = (await ours.com.atproto.repo.listMissingBlobs({ cursor, limit: 500 })).data
    for (const { cid } of page.blobs) {
      const blob = await old.com.atproto.sync.getBlob({ did, cid }).catch(xrpcFail(`getBlob ${cid}`))
      await ours.com.atproto.repo.uploadBlob(blob.data, { encoding: blob.headers['content-type'] ?? 'application/octet-stream' }).catch(xrpcFail(`uploadBlob ${cid}`))
      progress.add(blob.data.byteLength)
    }
    cursor = page.blobs.length > 0 ? page.cursor : undefined
  } while (cursor)
  progress.end()
  const left = (await ours.com.atproto.repo.listMissingBlobs({ limit: 1 })).data.blobs.length
  if (left > 0) fail('some blobs are still missing; run again to retry them')
})

const credentials = (await ours.com.atproto.identity.getRecommendedDidCredentials()).data

await run(4, 'plcSign', `Have ${opts.from} sign the PLC operation that moves the identity`, async () => {
  await old.com.atproto.identity.requestPlcOperationSignature().catch(xrpcFail('requestPlcOperationSignature'))
  const token = await need(opts['plc-token'], `${opts.from} mailed a confirmation code (PLC operation) to your address; enter it: `)
  const { operation } = (await old.com.atproto.identity.signPlcOperation({ token, ...credentials }).catch(xrpcFail('signPlcOperation'))).data
  return { operation }
})

await run(5, 'plcSubmit', 'Submit it to the PLC directory through this PDS', async () => {
  await ours.com.atproto.identity.submitPlcOperation({ operation: checkpoint.state.operation }).catch(xrpcFail('submitPlcOperation'))
})

await run(6, 'activate', `Activate the account at ${to}`, async () => {
  await ours.com.atproto.server.activateAccount().catch(xrpcFail('activateAccount'))
})

await run(7, 'deactivateOld', `Deactivate it at ${opts.from}`, async () => {
  await old.com.atproto.server.deactivateAccount({}).catch(xrpcFail('deactivateAccount'))
})

step(9, 'Verify')
const doc = await (await fetch(`${opts.plc}/${did}`)).json()
const endpoint = doc.service?.find((s) => s.id === '#atproto_pds')?.serviceEndpoint
const key = atprotoKey(doc)
if (endpoint?.replace(/\/$/, '') !== to.replace(/\/$/, '')) fail(`the PLC document names ${endpoint}, not ${to}`)
if (key !== credentials.verificationMethods.atproto) fail(`the PLC document's signing key is ${key}, not ${to}'s`)
console.log('  PLC document points here, with this PDS signing key')
const exported = await ours.com.atproto.sync.getRepo({ did })
const here = await verifyRepoCar(exported.data, did, key).catch(xrpcFail('our export does not verify'))
console.log(`  export verifies against the PLC key (${here.creates.length} records)`)
if (existsSync(carFile)) {
  const { root, blocks } = await readCarWithRoot(new Uint8Array(readFileSync(carFile)))
  const before = await verifyRepo(blocks, root, did)
  const want = new Map(before.creates.map((c) => [`${c.collection}/${c.rkey}`, c.cid.toString()]))
  const got = new Map(here.creates.map((c) => [`${c.collection}/${c.rkey}`, c.cid.toString()]))
  const missing = [...want].filter(([path, cid]) => got.get(path) !== cid)
  if (missing.length > 0) fail(`${missing.length} records differ from the old export, e.g. ${missing[0][0]}`)
  console.log(`  every record of the old export is here (${want.size})`)
}
const status = (await ours.com.atproto.server.checkAccountStatus()).data
if (status.expectedBlobs !== status.importedBlobs) fail(`${status.expectedBlobs - status.importedBlobs} blobs are missing`)
if (!status.activated || !status.validDid) fail(`the account here is ${status.activated ? 'active' : 'not active'} and its DID document ${status.validDid ? 'is' : 'is not'} valid`)
checkpoint.mark('verify')
console.log(`
✓ ${did} now lives at ${to} as ${handle}
  records ${status.indexedRecords}, blobs ${status.importedBlobs}, PLC ${opts.plc}
  ${opts.from} has it deactivated; the checkpoint ${checkpoint.file} can be deleted.`)

/** The `#atproto` key as a did:key, from a Multikey or the older secp256k1 rendering. */
function atprotoKey(document) {
  const vm = document.verificationMethod?.find((v) => v.id.endsWith('#atproto'))
  if (!vm) return null
  if (vm.type === 'EcdsaSecp256k1VerificationKey2019') return formatDidKey(SECP256K1_JWT_ALG, base58btc.decode(vm.publicKeyMultibase))
  return `did:key:${vm.publicKeyMultibase}`
}
