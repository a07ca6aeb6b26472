import { Secp256k1Keypair } from '@atproto/crypto'
import * as dagCbor from '@ipld/dag-cbor'
import { env } from 'cloudflare:workers'
import { base64url } from 'multiformats/bases/base64'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { readConfig, type Env } from '../../src/env'
import { callMethod } from '../../src/xrpc/method'
import { methodsByNsid } from '../../src/xrpc/routes'
import { PLC_URL, useNetwork, type Network } from '../standIns'
import { PlcStandIn, type Op } from './plcStandIn'

// A did:plc deployment of the PDS under test, while its PLC document still names the old host and key.
const DID = 'did:plc:sessiondiddoctest2345abc'
const plcEnv = { ...env, PDS_DID: DID, PDS_HANDLE: 'alice.example.com', PLC_ROTATION_KEY: '4a6d1c2ab0e5a7d48c19f2e6b3a04d5c7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b' } as unknown as Env
const config = readConfig(plcEnv)

let net: Network
let plc: PlcStandIn
let fetches = 0

beforeEach(async () => {
  plc = new PlcStandIn()
  const oldHostKey = await Secp256k1Keypair.create()
  const genesis: Op = {
    type: 'plc_operation',
    rotationKeys: [oldHostKey.did()],
    verificationMethods: { atproto: oldHostKey.did() },
    alsoKnownAs: ['at://alice.example.com'],
    services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: 'https://old-host.example' } },
    prev: null,
  }
  plc.logs.set(DID, [{ ...genesis, sig: base64url.baseEncode(await oldHostKey.sign(dagCbor.encode(genesis))) }])
  fetches = 0
  net = useNetwork({
    [PLC_URL]: (req) => {
      fetches++
      return plc.handler(req)
    },
  })
})
afterEach(() => net.restore())

async function call(nsid: string, opts: { body?: unknown; token?: string } = {}) {
  const req = new Request(`${config.publicUrl}/xrpc/${nsid}`, {
    method: opts.body === undefined && nsid !== 'com.atproto.server.refreshSession' ? 'GET' : 'POST',
    headers: { ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }), ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  })
  const res = await callMethod(methodsByNsid.get(nsid)!, req, { env: plcEnv, config, requestId: 'test', waitUntil: () => {} }).catch((err) => err.toResponse())
  return { status: res.status, json: (await res.json()) as any }
}

describe('sessions of a did:plc account', () => {
  it('return the DID document the PLC directory holds (KV-cached), not our own rendering', async () => {
    const created = await call('com.atproto.server.createSession', { body: { identifier: 'alice.example.com', password: env.ADMIN_PASSWORD } })
    expect(created.status).toBe(200)
    const resolved = await (await plc.handler(new Request(`${PLC_URL}/${DID}`))).json()
    expect(created.json.didDoc).toEqual(resolved)
    expect(created.json.didDoc.service[0].serviceEndpoint).toBe('https://old-host.example')

    const session = await call('com.atproto.server.getSession', { token: created.json.accessJwt })
    const refreshed = await call('com.atproto.server.refreshSession', { token: created.json.refreshJwt })
    expect([session.status, refreshed.status]).toEqual([200, 200])
    expect(session.json.didDoc).toEqual(resolved)
    expect(refreshed.json.didDoc).toEqual(resolved)
    // Resolved once, then read from the KV cache.
    expect(fetches).toBe(1)
  })

  it('leave didDoc out while the directory cannot be reached, rather than claim this PDS', async () => {
    net.restore()
    net = useNetwork({ [PLC_URL]: () => new Response('down', { status: 503 }) })
    await env.CACHE.delete(`did-doc:${DID}`)
    const created = await call('com.atproto.server.createSession', { body: { identifier: 'alice.example.com', password: env.ADMIN_PASSWORD } })
    expect(created.status).toBe(200)
    expect(created.json.did).toBe(DID)
    expect(created.json).not.toHaveProperty('didDoc')
  })
})
