import { env } from 'cloudflare:workers'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DOH_URL } from '../../../src/identity/handleResolution'
import { TEST_DID, TEST_HANDLE, TEST_PASSWORD, worker, xrpc } from '../../helpers'
import { useNetwork, type Network } from '../../standIns'

// Handles that claim our DID by DNS TXT, by HTTPS well-known, or that claim someone else.
const txt: Record<string, string> = { '_atproto.dns.alice.test': `"did=${TEST_DID}"`, '_atproto.other.test': '"did=did:plc:someoneelsesomeoneelse12"' }
const wellKnown: Record<string, string> = { 'web.alice.test': `${TEST_DID}\n` }

let net: Network
beforeEach(() => {
  net = useNetwork({
    [new URL(DOH_URL).origin]: (req) => {
      const name = new URL(req.url).searchParams.get('name')!
      return Response.json({ Status: 0, Answer: txt[name] ? [{ name, type: 16, TTL: 60, data: txt[name] }] : [] })
    },
  })
  for (const [host, body] of Object.entries(wellKnown)) net.route(`https://${host}`, () => new Response(body, { headers: { 'content-type': 'text/plain' } }))
})
afterEach(() => net.restore())

async function owner(): Promise<string> {
  return (await xrpc('com.atproto.server.createSession', { body: { identifier: TEST_HANDLE, password: TEST_PASSWORD } })).json.accessJwt
}

const identityEvents = async () => (await env.DB.prepare("SELECT count(*) AS n FROM repo_event WHERE type = 'identity'").first<number>('n')) ?? 0

describe('updateHandle', () => {
  it('refuses malformed or disallowed handles with 400 and changes nothing', async () => {
    const token = await owner()
    const before = await identityEvents()
    for (const handle of ['not a handle', 'nodots', 'alice.local', '-bad-.example.com']) {
      const res = await xrpc('com.atproto.identity.updateHandle', { token, body: { handle } })
      expect([handle, res.status]).toEqual([handle, 400])
      expect(['InvalidRequest', 'InvalidHandle']).toContain(res.json.error)
    }
    expect((await xrpc('com.atproto.server.getSession', { token })).json.handle).toBe(TEST_HANDLE)
    expect(await identityEvents()).toBe(before)
    expect(net.requests).toEqual([])
  })

  it('refuses a handle that does not resolve to our DID, by either method, and changes nothing', async () => {
    const token = await owner()
    const before = await identityEvents()
    for (const handle of ['other.test', 'unclaimed.example.com']) {
      const res = await xrpc('com.atproto.identity.updateHandle', { token, body: { handle } })
      expect(res.status).toBe(400)
      expect(res.json).toEqual({ error: 'InvalidRequest', message: `External handle did not resolve to DID: ${TEST_DID}` })
    }
    // Both methods were tried for each.
    expect(net.requests.filter((r) => r.includes('other.test'))).toHaveLength(2)
    expect((await xrpc('com.atproto.server.getSession', { token })).json.handle).toBe(TEST_HANDLE)
    expect(await identityEvents()).toBe(before)
  })

  it('does not follow a redirect from /.well-known/atproto-did, wherever it points', async () => {
    const token = await owner()
    const before = await identityEvents()
    // One redirect to a host that does claim our DID, one to a private address.
    const targets = { 'hop.alice.test': 'https://web.alice.test/.well-known/atproto-did', 'inside.alice.test': 'http://10.0.0.8/.well-known/atproto-did' }
    net.route('http://10.0.0.8', () => new Response(TEST_DID))
    for (const [host, location] of Object.entries(targets)) {
      net.route(`https://${host}`, () => new Response(null, { status: 302, headers: { location } }))
      const res = await xrpc('com.atproto.identity.updateHandle', { token, body: { handle: host } })
      expect([host, res.status, res.json.message]).toEqual([host, 400, `External handle did not resolve to DID: ${TEST_DID}`])
    }
    expect(net.requests.filter((r) => r.includes('web.alice.test') || r.includes('10.0.0.8'))).toEqual([])
    expect((await xrpc('com.atproto.server.getSession', { token })).json.handle).toBe(TEST_HANDLE)
    expect(await identityEvents()).toBe(before)
  })

  it('requires a session', async () => {
    const res = await xrpc('com.atproto.identity.updateHandle', { body: { handle: 'dns.alice.test' } })
    expect([res.status, res.json.error]).toEqual([401, 'AuthMissing'])
  })

  it('moves to a handle proven by DNS or HTTPS: session, DID document and resolveHandle follow, one #identity each', async () => {
    const token = await owner()
    // Creating the repo announces the account (#identity among others): do that first, then count.
    expect((await xrpc('com.atproto.server.checkAccountStatus', { token })).status).toBe(200)
    const before = await identityEvents()
    for (const handle of ['dns.alice.test', 'Web.Alice.Test']) {
      const res = await xrpc('com.atproto.identity.updateHandle', { token, body: { handle } })
      expect(res.status).toBe(200)
      const normalized = handle.toLowerCase()
      expect((await xrpc('com.atproto.server.getSession', { token })).json.handle).toBe(normalized)
      const doc: any = await (await worker.fetch('https://pds.test/.well-known/did.json')).json()
      expect(doc.alsoKnownAs).toEqual([`at://${normalized}`])
      expect((await xrpc('com.atproto.identity.resolveHandle', { params: { handle: normalized } })).json).toEqual({ did: TEST_DID })
    }
    expect(await identityEvents()).toBe(before + 2)
  })
})
