import { Secp256k1Keypair } from '@atproto/crypto'
import * as dagCbor from '@ipld/dag-cbor'
import { env } from 'cloudflare:workers'
import { base64url } from 'multiformats/bases/base64'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { readConfig, type Env } from '../../src/env'
import { getSigningKey } from '../../src/identity/signingKey'
import { callMethod } from '../../src/xrpc/method'
import { methodsByNsid } from '../../src/xrpc/routes'
import { PLC_URL, useNetwork, type Network } from '../standIns'
import { PlcStandIn, type Op } from './plcStandIn'

// A did:plc deployment of the PDS under test.
const DID = 'did:plc:sessiondiddoctest2345abc'
const plcEnv = { ...env, PDS_DID: DID, PDS_HANDLE: 'alice.example.com', PLC_ROTATION_KEY: '4a6d1c2ab0e5a7d48c19f2e6b3a04d5c7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b' } as unknown as Env
const config = readConfig(plcEnv)

let net: Network
let plc: PlcStandIn
let fetches = 0

/** The DID's PLC log: one genesis naming `endpoint` and `signingKey` (and an alias our rendering would not have). */
async function registerDid(endpoint: string, signingKey: string) {
  const rotation = await Secp256k1Keypair.create()
  const genesis: Op = {
    type: 'plc_operation',
    rotationKeys: [rotation.did()],
    verificationMethods: { atproto: signingKey },
    alsoKnownAs: ['at://alice.example.com', 'https://alice.example.com'],
    services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint } },
    prev: null,
  }
  plc.logs.set(DID, [{ ...genesis, sig: base64url.baseEncode(await rotation.sign(dagCbor.encode(genesis))) }])
}

beforeEach(async () => {
  plc = new PlcStandIn()
  fetches = 0
  net = useNetwork({
    [PLC_URL]: (req) => {
      fetches++
      return plc.handler(req)
    },
  })
  await env.CACHE.delete(`did-doc:${DID}`)
})
afterEach(() => net.restore())

async function call(nsid: string, opts: { body?: unknown; token?: string } = {}) {
  const req = new Request(`${config.publicUrl}/xrpc/${nsid}`, {
    method: opts.body === undefined && nsid !== 'com.atproto.server.refreshSession' ? 'GET' : 'POST',
    headers: { ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }), ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  })
  const res = await callMethod(methodsByNsid.get(nsid.split('?')[0]!)!, req, { env: plcEnv, config, requestId: 'test', waitUntil: () => {} }).catch((err) => err.toResponse())
  return { status: res.status, json: (await res.json()) as any }
}

const login = () => call('com.atproto.server.createSession', { body: { identifier: 'alice.example.com', password: env.ADMIN_PASSWORD } })

describe('sessions of a did:plc account', () => {
  it('return the DID document the PLC directory holds once it names this PDS (KV-cached), not our own rendering', async () => {
    await registerDid(config.publicUrl, (await getSigningKey(config.signingKeyHex)).did())
    const created = await login()
    expect(created.status).toBe(200)
    const resolved = await (await plc.handler(new Request(`${PLC_URL}/${DID}`))).json()
    expect(created.json.didDoc).toEqual(resolved)
    expect(created.json.didDoc.alsoKnownAs).toEqual(['at://alice.example.com', 'https://alice.example.com'])

    const session = await call('com.atproto.server.getSession', { token: created.json.accessJwt })
    const refreshed = await call('com.atproto.server.refreshSession', { token: created.json.refreshJwt })
    expect([session.status, refreshed.status]).toEqual([200, 200])
    expect(session.json.didDoc).toEqual(resolved)
    expect(refreshed.json.didDoc).toEqual(resolved)
    // Resolved once, then read from the KV cache.
    expect(fetches).toBe(1)
  })

  it('leave didDoc out while the document names the old host (an agent would follow it there) or cannot be resolved', async () => {
    await registerDid('https://old-host.example', (await Secp256k1Keypair.create()).did())
    const moving = await login()
    expect(moving.status).toBe(200)
    expect(moving.json.did).toBe(DID)
    expect(moving.json).not.toHaveProperty('didDoc')
    // describeRepo still shows where the identity points.
    const described = await call(`com.atproto.repo.describeRepo?repo=${DID}`)
    expect(described.json.didDoc.service[0].serviceEndpoint).toBe('https://old-host.example')

    net.restore()
    net = useNetwork({ [PLC_URL]: () => new Response('down', { status: 503 }) })
    await env.CACHE.delete(`did-doc:${DID}`)
    const unreachable = await login()
    expect(unreachable.status).toBe(200)
    expect(unreachable.json).not.toHaveProperty('didDoc')
  })
})
