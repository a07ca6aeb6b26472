import { Secp256k1Keypair } from '@atproto/crypto'
import * as dagCbor from '@ipld/dag-cbor'
import { env } from 'cloudflare:workers'
import { base64url } from 'multiformats/bases/base64'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { readConfig, type Env } from '../../src/env'
import { DOH_URL } from '../../src/identity/handleResolution'
import { getSigningKey } from '../../src/identity/signingKey'
import { callMethod } from '../../src/xrpc/method'
import { methodsByNsid } from '../../src/xrpc/routes'
import { PLC_URL, useNetwork, type Network } from '../standIns'
import { PlcStandIn, type Op } from './plcStandIn'

// A did:plc deployment of the PDS under test: same bindings, another identity.
const DID = 'did:plc:handlechangetest2345abcd'
const ROTATION_HEX = '3f6d1c2ab0e5a7d48c19f2e6b3a04d5c7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b'
const plcEnv = { ...env, PDS_DID: DID, PDS_HANDLE: 'alice.example.com', PLC_ROTATION_KEY: ROTATION_HEX } as unknown as Env
const config = readConfig(plcEnv)

let net: Network
let plc: PlcStandIn
let user: Secp256k1Keypair

beforeEach(async () => {
  plc = new PlcStandIn()
  user = await Secp256k1Keypair.create()
  const rotation = await Secp256k1Keypair.import(ROTATION_HEX)
  const genesis: Op = {
    type: 'plc_operation',
    rotationKeys: [rotation.did(), user.did()],
    verificationMethods: { atproto: (await getSigningKey(config.signingKeyHex)).did() },
    alsoKnownAs: ['at://alice.example.com', 'https://alice.example.com'],
    services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: config.publicUrl } },
    prev: null,
  }
  plc.logs.set(DID, [{ ...genesis, sig: base64url.baseEncode(await user.sign(dagCbor.encode(genesis))) }])
  net = useNetwork({
    [PLC_URL]: plc.handler,
    [new URL(DOH_URL).origin]: (req) => {
      const name = new URL(req.url).searchParams.get('name')!
      const claims = name === '_atproto.new.alice.test' ? [{ name, type: 16, TTL: 60, data: `"did=${DID}"` }] : []
      return Response.json({ Status: 0, Answer: claims })
    },
  })
})
afterEach(() => net.restore())

async function call(nsid: string, body?: unknown, token?: string) {
  const req = new Request(`${config.publicUrl}/xrpc/${nsid}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const res = await callMethod(methodsByNsid.get(nsid)!, req, { env: plcEnv, config, requestId: 'test', waitUntil: () => {} }).catch((err) => err.toResponse())
  return { status: res.status, json: res.headers.get('content-type')?.includes('json') ? await res.json() : undefined }
}

const owner = async () => (await call('com.atproto.server.createSession', { identifier: 'alice.example.com', password: env.ADMIN_PASSWORD })).json.accessJwt as string

describe('updateHandle on a did:plc', () => {
  it('signs a PLC update with our rotation key that the directory accepts, keeping everything else', async () => {
    const token = await owner()
    const res = await call('com.atproto.identity.updateHandle', { handle: 'new.alice.test' }, token)
    expect(res.status).toBe(200)
    const log = plc.logs.get(DID)!
    expect(log).toHaveLength(2)
    // Only the handle changed; other aliases, keys and the endpoint stay.
    const { sig: _, prev, ...fields } = log[1]!
    const { sig: __, prev: ___, ...before } = log[0]!
    expect(fields).toEqual({ ...before, alsoKnownAs: ['at://new.alice.test', 'https://alice.example.com'] })
    expect(prev).toBe(await plc.cid(log[0]!))
    // (The actor's half, the account row and #identity, is the did:web path's: test/xrpc/identity/updateHandle.test.ts.
    // Durable Objects here run with the pool's did:web bindings, so it is not re-checked for this identity.)
  })

  it('refuses clearly, changing nothing, when our rotation key no longer controls the DID', async () => {
    const token = await owner()
    const log = plc.logs.get(DID)!
    // The user rotated us out with their own key.
    const { sig: _, ...last } = log[0]!
    const next: Op = { ...last, rotationKeys: [user.did()], prev: await plc.cid(log[0]!) }
    log.push({ ...next, sig: base64url.baseEncode(await user.sign(dagCbor.encode(next))) })
    const res = await call('com.atproto.identity.updateHandle', { handle: 'new.alice.test' }, token)
    expect([res.status, res.json.message]).toEqual([400, expect.stringContaining('is not among the rotation keys')])
    expect(log).toHaveLength(2)
  })
})
