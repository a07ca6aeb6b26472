/**
 * Moving a did:plc account from the reference PDS (@atproto/pds, the old
 * host, with its own PLC directory) to ours with the standard calls, in the
 * order PROTOCOL.md lists (what `goat account migrate` does), then checking
 * the result the way the network would: the PLC document, our repo export
 * verified against the key resolved from PLC, every record and blob, and a
 * post after the move verified as a relay verifies a #commit.
 */
import { AtpAgent } from '@atproto/api'
import { Secp256k1Keypair } from '@atproto/crypto'
import { verifyRepoCar } from '@atproto/repo'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createServiceJwt } from '../../src/auth/serviceAuth'
import { decodeFrame } from '../../src/firehose/frames'
import { CommitVerifier } from '../firehose/verifier'
import { atprotoKeyOf, copyMissingBlobs, fillOldAccount, mailedToken, snapshot } from './migration/flow'
import { startOurPds, startRefPds, type OurPds, type RefPds } from './migration/servers'

const CREATE_ACCOUNT = 'com.atproto.server.createAccount'
let ref: RefPds
let ours: OurPds
let old: AtpAgent
let before: Awaited<ReturnType<typeof snapshot>>
let ref2: RefPds | undefined

beforeAll(async () => {
  ref = await startRefPds()
  old = new AtpAgent({ service: ref.url })
  await old.login({ identifier: ref.identifier, password: ref.password })
  await fillOldAccount(old, ref.did)
  before = await snapshot(old, ref.did)
  ours = await startOurPds({ did: ref.did, handle: ref.identifier, plc: ref.plc })
}, 240_000)

afterAll(async () => {
  await ours?.stop()
  ref2?.stop()
  ref?.stop()
})

const plcData = async (did: string) => (await fetch(`${ref.plc}/${did}/data`)).json() as Promise<any>
const plcDoc = async (did: string) => (await fetch(`${ref.plc}/${did}`)).json() as Promise<any>

async function call(nsid: string, opts: { token?: string; body?: unknown; raw?: Uint8Array; params?: Record<string, string> } = {}) {
  const url = new URL(`/xrpc/${nsid}`, ours.url)
  for (const [k, v] of Object.entries(opts.params ?? {})) url.searchParams.set(k, v)
  const headers: Record<string, string> = {}
  if (opts.token) headers.authorization = `Bearer ${opts.token}`
  let body: BodyInit | undefined
  if (opts.raw) {
    headers['content-type'] = 'application/vnd.ipld.car'
    body = opts.raw as unknown as BodyInit
  } else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json'
    body = JSON.stringify(opts.body)
  }
  const res = await fetch(url, { method: body === undefined && !opts.raw ? (opts.body === undefined ? 'GET' : 'POST') : 'POST', headers, body })
  const text = await res.text()
  let json: any
  try {
    json = JSON.parse(text)
  } catch {}
  return { status: res.status, json, text }
}

const serviceToken = async (aud: string, lxm = CREATE_ACCOUNT) => (await old.com.atproto.server.getServiceAuth({ aud, lxm, exp: Math.floor(Date.now() / 1000) + 60 })).data.token
const createAccountInput = () => ({ did: ref.did, handle: ref.identifier, password: ours.password, email: 'alice@example.com' })

describe('moving a did:plc account from the reference PDS to ours', () => {
  it('refuses a createAccount it cannot trust, clearly, and creates nothing', async () => {
    const noToken = await call(CREATE_ACCOUNT, { body: createAccountInput() })
    expect([noToken.status, noToken.json.message]).toEqual([401, expect.stringContaining('service token')])

    const wrongAud = await call(CREATE_ACCOUNT, { token: await serviceToken('did:web:elsewhere.test'), body: createAccountInput() })
    expect([wrongAud.status, wrongAud.json.error]).toEqual([401, 'BadJwtAudience'])
    const wrongLxm = await call(CREATE_ACCOUNT, { token: await serviceToken(ours.did, 'com.atproto.repo.createRecord'), body: createAccountInput() })
    expect([wrongLxm.status, wrongLxm.json.error]).toEqual([401, 'BadJwtLexiconMethod'])
    // Claims to come from the account but is signed by some other key.
    const forged = await createServiceJwt(await Secp256k1Keypair.create(), { iss: ref.did, aud: ours.did, lxm: CREATE_ACCOUNT })
    const bad = await call(CREATE_ACCOUNT, { token: forged, body: createAccountInput() })
    expect([bad.status, bad.json.error, bad.json.message]).toEqual([401, 'BadJwtSignature', expect.stringContaining('current signing key')])

    // Another identity, with a perfectly good token of its own.
    const bob = new AtpAgent({ service: ref.url })
    await bob.createAccount({ handle: 'bob.test', email: 'bob@example.com', password: 'bob-pass' })
    const bobToken = (await bob.com.atproto.server.getServiceAuth({ aud: ours.did, lxm: CREATE_ACCOUNT })).data.token
    const other = await call(CREATE_ACCOUNT, { token: bobToken, body: { ...createAccountInput(), did: bob.session!.did } })
    expect([other.status, other.json.message]).toEqual([400, `This PDS hosts ${ref.did}, not ${bob.session!.did}`])
    const stolen = await call(CREATE_ACCOUNT, { token: bobToken, body: createAccountInput() })
    expect([stolen.status, stolen.json.error]).toEqual([401, 'BadJwtSignature'])

    const wrongPassword = await call(CREATE_ACCOUNT, { token: await serviceToken(ours.did), body: { ...createAccountInput(), password: ref.password } })
    expect([wrongPassword.status, wrongPassword.json.error, wrongPassword.json.message]).toEqual([400, 'InvalidPassword', expect.stringContaining('owner password')])

    // Nothing exists here yet: no session can be opened for the refused attempts, and no event was sequenced.
    const frames = await firehoseFrames(0, 500)
    expect(frames).toEqual([])
  })

  it('moves with the standard calls; the network sees the account here, signed with our key', async () => {
    // (1) our service DID, (2) a service token from the old host, (3) createAccount here.
    const agent = new AtpAgent({ service: ours.url })
    const { did: serviceDid } = (await agent.com.atproto.server.describeServer()).data
    expect(serviceDid).toBe(ours.did)
    const token = await serviceToken(serviceDid)
    const created = await agent.com.atproto.server.createAccount(createAccountInput(), { headers: { authorization: `Bearer ${token}` } })
    expect(created.data.did).toBe(ref.did)
    // (4) log in; the account is here but deactivated: writes refused, nothing announced.
    await agent.login({ identifier: ref.identifier, password: ours.password })
    expect(agent.session?.active).toBe(false)
    const write = await call('com.atproto.repo.createRecord', { token: agent.session!.accessJwt, body: { repo: ref.did, collection: 'app.bsky.feed.post', record: { text: 'too early', createdAt: new Date().toISOString() } } })
    expect([write.status, write.json.error]).toEqual([401, 'AccountDeactivated'])
    expect(await firehoseFrames(0, 500)).toEqual([])
    const status0 = (await agent.com.atproto.server.checkAccountStatus()).data
    expect(status0).toMatchObject({ activated: false, validDid: false })

    // (5) the repo: a truncated export is refused and changes nothing; the whole one is taken.
    const car = (await old.com.atproto.sync.getRepo({ did: ref.did })).data
    const truncated = await call('com.atproto.repo.importRepo', { token: agent.session!.accessJwt, raw: car.slice(0, Math.floor(car.byteLength * 0.6)) })
    expect([truncated.status, truncated.json.error, truncated.json.message]).toEqual([400, 'InvalidRequest', expect.stringContaining('Invalid repo CAR')])
    expect((await agent.com.atproto.server.checkAccountStatus()).data).toEqual(status0)
    await agent.com.atproto.repo.importRepo(car, { encoding: 'application/vnd.ipld.car' })
    // (6) preferences, (7) blobs.
    // The reference runs without an AppView, so it cannot serve preferences ("No service configured"):
    // the set a Bluesky account typically has stands in for what getPreferences would return.
    const prefs = [{ $type: 'app.bsky.actor.defs#adultContentPref', enabled: true }, { $type: 'app.bsky.actor.defs#savedFeedsPrefV2', items: [] }]
    await expect(old.app.bsky.actor.getPreferences()).rejects.toThrow('No service configured')
    await agent.app.bsky.actor.putPreferences({ preferences: prefs })
    expect(await copyMissingBlobs(old, agent, ref.did)).toBe(before.blobs.size)
    // (8) all there, not live yet.
    const status = (await agent.com.atproto.server.checkAccountStatus()).data
    expect(status).toMatchObject({ activated: false, validDid: false, indexedRecords: before.records.size, expectedBlobs: before.blobs.size, importedBlobs: before.blobs.size })
    const early = await call('com.atproto.server.activateAccount', { token: agent.session!.accessJwt, body: {} })
    expect([early.status, early.json.message]).toEqual([400, expect.stringContaining('Cannot activate yet')])

    // (9) what the PLC operation must say, (10) signed by the old host with the mailed token.
    const credentials = (await agent.com.atproto.identity.getRecommendedDidCredentials()).data
    expect(credentials).toEqual({
      rotationKeys: [ours.rotationKey.did()],
      alsoKnownAs: [`at://${ref.identifier}`],
      verificationMethods: { atproto: ours.signingKey.did() },
      services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: ours.url } },
    })
    const signed = async (fields: object) => {
      await old.com.atproto.identity.requestPlcOperationSignature()
      return (await old.com.atproto.identity.signPlcOperation({ token: await mailedToken(ref.emailTokens, ref.did), ...fields })).data.operation
    }
    // An operation that hands the identity to another key is refused before it reaches PLC.
    const docBefore = await plcDoc(ref.did)
    const stranger = (await Secp256k1Keypair.create()).did()
    for (const wrong of [{ ...credentials, verificationMethods: { atproto: stranger } }, { ...credentials, rotationKeys: [stranger] }]) {
      const refused = await call('com.atproto.identity.submitPlcOperation', { token: agent.session!.accessJwt, body: { operation: await signed(wrong) } })
      expect([refused.status, refused.json.message]).toEqual([400, expect.stringContaining('Invalid PLC operation')])
    }
    // A forged signature passes our checks but not the directory's.
    const good = (await signed(credentials)) as any
    const forged = await call('com.atproto.identity.submitPlcOperation', { token: agent.session!.accessJwt, body: { operation: { ...good, sig: good.sig.slice(0, -4) + (good.sig.endsWith('AAAA') ? 'BBBB' : 'AAAA') } } })
    expect([forged.status, forged.json.message]).toEqual([400, expect.stringContaining('PLC directory refused')])
    expect(await plcDoc(ref.did)).toEqual(docBefore)

    // (11) submitted through us, (12) activated here, (13) deactivated there.
    await agent.com.atproto.identity.submitPlcOperation({ operation: good })
    await agent.com.atproto.server.activateAccount()
    await old.com.atproto.server.deactivateAccount({})

    // The PLC document points here with our key; our rotation key controls the identity.
    const doc = await plcDoc(ref.did)
    expect(doc.service).toEqual([{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: ours.url }])
    const key = atprotoKeyOf(doc)
    expect(key).toBe(ours.signingKey.did())
    expect((await plcData(ref.did)).rotationKeys).toEqual([ours.rotationKey.did()])
    expect((await agent.com.atproto.server.checkAccountStatus()).data).toMatchObject({ activated: true, validDid: true })

    // Our export verifies against the key resolved from PLC and holds exactly the old records…
    const exported = new Uint8Array(await (await fetch(new URL(`/xrpc/com.atproto.sync.getRepo?did=${encodeURIComponent(ref.did)}`, ours.url))).arrayBuffer())
    const verified = await verifyRepoCar(exported, ref.did, key)
    expect(new Map(verified.creates.map((c) => [`at://${ref.did}/${c.collection}/${c.rkey}`, c.cid.toString()]))).toEqual(new Map([...before.records].map(([uri, r]) => [uri, r.cid])))
    const after = await snapshot(agent, ref.did)
    expect(after.records).toEqual(before.records)
    // …and every blob, byte for byte; the preferences came along.
    expect(after.blobs).toEqual(before.blobs)
    expect((await agent.app.bsky.actor.getPreferences()).data.preferences).toEqual(prefs)

    // A post after the move, verified as a relay verifies it, with the key from PLC.
    const post = await agent.post({ text: 'hello from my new home', createdAt: new Date().toISOString() })
    const frames = await firehoseFrames(0, 2000, (f) => f.some((x) => x.header.t === '#commit'))
    const types = frames.map((f) => f.header.t)
    // Nothing while the identity pointed elsewhere (not even the import); the submitted operation's
    // #identity, then the activation (#identity, #account, #sync of the imported head), then the post.
    expect(types).toEqual(['#identity', '#identity', '#account', '#sync', '#commit'])
    expect(frames[2]!.body).toMatchObject({ did: ref.did, active: true })
    const commit = frames.at(-1)!.body
    expect(commit.since).toBe(frames[3]!.body.rev)
    // The activation #sync (our re-signed head) anchors the chain; the post's #commit chains onto it; both verify with the PLC key.
    const verifier = new CommitVerifier(key)
    for (const f of frames) await verifier.frame(f)
    expect([verifier.synced, verifier.verified]).toEqual([1, 1])
    expect(commit.ops).toEqual([expect.objectContaining({ action: 'create', path: post.uri.split('/').slice(-2).join('/') })])

    // The old host reports the repo deactivated.
    expect((await old.com.atproto.sync.getRepoStatus({ did: ref.did })).data).toMatchObject({ active: false, status: 'deactivated' })
  })
})

type Frame = { header: { op: number; t?: string }; body: Record<string, any> }

describe('moving it out again, from ours to another reference PDS', () => {
  it('signs the PLC operation with our rotation key after the owner-held token; the new host takes over', async () => {
    ref2 = await startRefPds({ plc: ref.plc })
    const next = new AtpAgent({ service: ref2.url })
    const agent = new AtpAgent({ service: ours.url })
    await agent.login({ identifier: ref.did, password: ours.password })
    const mine = await snapshot(agent, ref.did)

    const { did: nextDid } = (await next.com.atproto.server.describeServer()).data
    const token = (await agent.com.atproto.server.getServiceAuth({ aud: nextDid, lxm: CREATE_ACCOUNT, exp: Math.floor(Date.now() / 1000) + 60 })).data.token
    await next.com.atproto.server.createAccount({ did: ref.did, handle: 'alice-again.test', password: 'next-pass', email: 'alice-again@example.com' }, { headers: { authorization: `Bearer ${token}` } })
    await next.login({ identifier: ref.did, password: 'next-pass' })
    await next.com.atproto.repo.importRepo((await agent.com.atproto.sync.getRepo({ did: ref.did })).data, { encoding: 'application/vnd.ipld.car' })
    expect(await copyMissingBlobs(agent, next, ref.did)).toBe(mine.blobs.size)
    const credentials = (await next.com.atproto.identity.getRecommendedDidCredentials()).data

    // No mail: the owner reads the token back with the password; without it, or with a wrong one, nothing is signed.
    const reveal = (password: string) => call('dev.rawkode.pds.revealPlcOperationToken', { token: agent.session!.accessJwt, body: { password } })
    expect((await reveal(ours.password)).json.error).toBe('TokenNotFound')
    await agent.com.atproto.identity.requestPlcOperationSignature()
    expect((await reveal('not-the-password')).status).toBe(401)
    const unsigned = await call('com.atproto.identity.signPlcOperation', { token: agent.session!.accessJwt, body: { ...credentials, token: 'WRONG-TOKEN' } })
    expect([unsigned.status, unsigned.json.error]).toEqual([400, 'InvalidToken'])
    const { token: plcToken } = (await reveal(ours.password)).json
    const { operation } = (await agent.com.atproto.identity.signPlcOperation({ token: plcToken, ...credentials })).data
    // The token is good once.
    const again = await call('com.atproto.identity.signPlcOperation', { token: agent.session!.accessJwt, body: { ...credentials, token: plcToken } })
    expect([again.status, again.json.error]).toEqual([400, 'InvalidToken'])

    await next.com.atproto.identity.submitPlcOperation({ operation })
    await next.com.atproto.server.activateAccount()
    await agent.com.atproto.server.deactivateAccount({})

    const doc = await plcDoc(ref.did)
    expect(doc.service[0].serviceEndpoint).toBe(ref2.url)
    expect(doc.alsoKnownAs).toEqual(['at://alice-again.test'])
    const key = atprotoKeyOf(doc)
    expect(key).not.toBe(ours.signingKey.did())
    const theirs = await snapshot(next, ref.did)
    expect(theirs.records).toEqual(mine.records)
    expect(theirs.blobs).toEqual(mine.blobs)
    // The reference keeps the imported commit (signed by us) until its next write; after one, the repo verifies with its key.
    const post = await next.post({ text: 'and on again', createdAt: new Date().toISOString() })
    const verified = await verifyRepoCar((await next.com.atproto.sync.getRepo({ did: ref.did })).data, ref.did, key)
    expect(new Set(verified.creates.map((c) => `at://${ref.did}/${c.collection}/${c.rkey}`))).toEqual(new Set([...mine.records.keys(), post.uri]))
    expect((await agent.com.atproto.sync.getRepoStatus({ did: ref.did })).data).toMatchObject({ active: false, status: 'deactivated' })
    // Our rotation key is no longer needed by the next host's operation, and we cannot change the identity any more.
    expect((await plcData(ref.did)).rotationKeys).not.toContain(ours.rotationKey.did())
  })
})

/** Our subscribeRepos from `cursor`, collected for up to `ms` (or until `done`). */
async function firehoseFrames(cursor: number, ms: number, done?: (frames: Frame[]) => boolean) {
  const ws = new WebSocket(new URL(`/xrpc/com.atproto.sync.subscribeRepos?cursor=${cursor}`, ours.url.replace('http', 'ws')))
  ws.binaryType = 'arraybuffer'
  const frames: Frame[] = []
  ws.onmessage = (e) => frames.push(decodeFrame(new Uint8Array(e.data as ArrayBuffer)) as Frame)
  await new Promise((resolve, reject) => ((ws.onopen = resolve), (ws.onerror = reject)))
  const deadline = Date.now() + ms
  while (Date.now() < deadline && !(done?.(frames) ?? false)) await new Promise((r) => setTimeout(r, 50))
  ws.close()
  return frames
}
