import { Secp256k1Keypair } from '@atproto/crypto'
import { blocksToCarFile, MemoryBlockstore, Repo, WriteOpAction } from '@atproto/repo'
import * as dagCbor from '@ipld/dag-cbor'
import { env } from 'cloudflare:workers'
import { base64url } from 'multiformats/bases/base64'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { readConfig, type Env } from '../../src/env'
import { callMethod } from '../../src/xrpc/method'
import { methodsByNsid } from '../../src/xrpc/routes'
import { PLC_URL, useNetwork, type Network } from '../standIns'
import { PlcStandIn, type Op } from './plcStandIn'

// A did:plc being moved in: its PLC document still names the old host and that host's key.
const DID = 'did:plc:importsignaturetest23456'
const plcEnv = { ...env, PDS_DID: DID, PDS_HANDLE: 'alice.example.com', PLC_ROTATION_KEY: '5a6d1c2ab0e5a7d48c19f2e6b3a04d5c7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b' } as unknown as Env
const config = readConfig(plcEnv)

let net: Network
let oldHostKey: Secp256k1Keypair

beforeEach(async () => {
  const plc = new PlcStandIn()
  oldHostKey = await Secp256k1Keypair.create()
  const genesis: Op = {
    type: 'plc_operation',
    rotationKeys: [oldHostKey.did()],
    verificationMethods: { atproto: oldHostKey.did() },
    alsoKnownAs: ['at://alice.example.com'],
    services: { atproto_pds: { type: 'AtprotoPersonalDataServer', endpoint: 'https://old-host.example' } },
    prev: null,
  }
  plc.logs.set(DID, [{ ...genesis, sig: base64url.baseEncode(await oldHostKey.sign(dagCbor.encode(genesis))) }])
  net = useNetwork({ [PLC_URL]: plc.handler })
  // Created by createAccount with a service token: deactivated until the move completes.
  await env.DB.prepare('INSERT INTO account (did, handle, active, created_at) VALUES (?, ?, 0, ?) ON CONFLICT DO NOTHING').bind(DID, 'alice.example.com', Date.now()).run()
})
afterEach(() => net.restore())

async function call(nsid: string, opts: { body?: BodyInit; json?: unknown; token?: string }) {
  const req = new Request(`${config.publicUrl}/xrpc/${nsid}`, {
    method: 'POST',
    headers: { 'content-type': opts.json === undefined ? 'application/vnd.ipld.car' : 'application/json', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) },
    body: opts.json === undefined ? opts.body : JSON.stringify(opts.json),
  })
  const res = await callMethod(methodsByNsid.get(nsid)!, req, { env: plcEnv, config, requestId: 'test', waitUntil: () => {} }).catch((err) => err.toResponse())
  return { status: res.status, json: (await res.json()) as any }
}

describe('importRepo of a did:plc still at its old host', () => {
  it('refuses an export whose commit is not signed by the key its DID document names, staging nothing', async () => {
    const token = (await call('com.atproto.server.createSession', { json: { identifier: 'alice.example.com', password: env.ADMIN_PASSWORD } })).json.accessJwt
    const storage = new MemoryBlockstore()
    const forged = await Repo.create(storage, DID, await Secp256k1Keypair.create(), [
      { action: WriteOpAction.Create, collection: 'app.bsky.feed.post', rkey: '3kaaaaaaaaaa2', record: { $type: 'app.bsky.feed.post', text: 'not mine', createdAt: '2025-01-01T00:00:00.000Z' } as never },
    ])
    const res = await call('com.atproto.repo.importRepo', { body: await blocksToCarFile(forged.cid, storage.blocks), token })
    expect([res.status, res.json.error]).toEqual([400, 'InvalidRequest'])
    expect(res.json.message).toContain(`not signed by ${DID}'s key (${oldHostKey.did()})`)
    const left = await env.DB.prepare("SELECT (SELECT COUNT(*) FROM repo_block WHERE did = ?1) + (SELECT COUNT(*) FROM import_node) + (SELECT COUNT(*) FROM import_record) AS n").bind(DID).first<{ n: number }>()
    expect(left!.n).toBe(0)
  })
})
