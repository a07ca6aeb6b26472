import { parseDidKey, Secp256k1Keypair, verifySignature } from '@atproto/crypto'
import { describe, expect, it } from 'vitest'
import { TEST_DID, TEST_HANDLE, worker, xrpc } from '../helpers'

describe('identity and discovery', () => {
  it('serves a did:web document whose #atproto key verifies signatures made with PDS_SIGNING_KEY', async () => {
    const res = await worker.fetch('https://pds.test/.well-known/did.json')
    expect(res.status).toBe(200)
    const doc: any = await res.json()
    expect(doc.id).toBe(TEST_DID)
    expect(doc.alsoKnownAs).toEqual([`at://${TEST_HANDLE}`])
    expect(doc.service).toEqual([{ id: '#atproto_pds', type: 'AtprotoPersonalDataServer', serviceEndpoint: 'https://pds.test' }])
    const vm = doc.verificationMethod[0]
    expect(vm).toMatchObject({ id: `${TEST_DID}#atproto`, type: 'Multikey', controller: TEST_DID })
    const parsed = parseDidKey(`did:key:${vm.publicKeyMultibase}`)
    expect(parsed.jwtAlg).toBe('ES256K')

    const key = await Secp256k1Keypair.import('beda21e966f145733c5de18926b3d16d598237bbb3b318c2ca0f3ead7c6b91f8')
    const msg = new TextEncoder().encode('hello')
    expect(await verifySignature(`did:key:${vm.publicKeyMultibase}`, msg, await key.sign(msg))).toBe(true)
  })

  it('answers atproto-did with the DID as text', async () => {
    const res = await worker.fetch('https://pds.test/.well-known/atproto-did')
    expect(res.headers.get('content-type')).toContain('text/plain')
    expect(await res.text()).toBe(TEST_DID)
  })

  it('reports health and describes the server', async () => {
    const health = await xrpc('_health')
    expect(health.json.version).toMatch(/^\d+\.\d+\.\d+/)
    const desc = await xrpc('com.atproto.server.describeServer')
    expect(desc.json).toMatchObject({ did: TEST_DID, inviteCodeRequired: true, availableUserDomains: [] })
  })

  // Other handles go to the AppView: test/xrpc/identity/resolveHandle.test.ts.
  it('resolves its own handle and refuses a missing one with a clear error', async () => {
    expect((await xrpc('com.atproto.identity.resolveHandle', { params: { handle: TEST_HANDLE } })).json).toEqual({ did: TEST_DID })
    const missing = await xrpc('com.atproto.identity.resolveHandle')
    expect(missing.status).toBe(400)
    expect(missing.json.error).toBe('InvalidRequest')
  })

  it('answers unknown paths 404 and unknown methods 501, and preflights CORS', async () => {
    const nf = await worker.fetch('https://pds.test/nope')
    expect(nf.status).toBe(404)
    expect(((await nf.json()) as any).error).toBe('NotFound')
    const unknown = await xrpc('com.example.unknownMethod')
    expect(unknown.status).toBe(501)
    expect(unknown.json.error).toBe('MethodNotImplemented')
    const pre = await worker.fetch('https://pds.test/xrpc/com.atproto.server.createSession', {
      method: 'OPTIONS',
      headers: { origin: 'https://bsky.app', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,atproto-proxy' },
    })
    expect(pre.status).toBeLessThan(300)
    expect(pre.headers.get('access-control-allow-origin')).toBe('*')
    expect(pre.headers.get('access-control-allow-headers')).toContain('atproto-proxy')
  })
})
