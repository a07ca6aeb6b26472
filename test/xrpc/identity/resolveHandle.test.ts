import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TEST_DID, TEST_HANDLE, xrpc } from '../../helpers'
import { APPVIEW, standInService, useNetwork, type Network } from '../../standIns'

const BOB = 'did:plc:bobbobbobbobbobbobbobbob'
let net: Network
let appView: ReturnType<typeof standInService>

beforeEach(() => {
  appView = standInService(APPVIEW.did, {
    'com.atproto.identity.resolveHandle': ({ query }) =>
      query.get('handle') === 'bob.test' ? { did: BOB } : Response.json({ error: 'InvalidRequest', message: 'Unable to resolve handle' }, { status: 400 }),
  })
  net = useNetwork({ [APPVIEW.url]: appView.handler })
})
afterEach(() => net.restore())

describe('resolveHandle', () => {
  it('answers its own handle locally, in any case, without asking the AppView', async () => {
    for (const handle of [TEST_HANDLE, TEST_HANDLE.toUpperCase()]) {
      expect((await xrpc('com.atproto.identity.resolveHandle', { params: { handle } })).json).toEqual({ did: TEST_DID })
    }
    expect(net.requests).toEqual([])
  })

  it('asks the AppView for any other handle, unauthenticated', async () => {
    const res = await xrpc('com.atproto.identity.resolveHandle', { params: { handle: 'Bob.Test' } })
    expect(res.status).toBe(200)
    expect(res.json).toEqual({ did: BOB })
    expect(appView.calls.map((c) => [c.query.get('handle'), c.claims])).toEqual([['bob.test', null]])
  })

  it('answers 400 HandleNotFound when the AppView cannot resolve it, 502 when the AppView is down', async () => {
    const unknown = await xrpc('com.atproto.identity.resolveHandle', { params: { handle: 'nobody.example.com' } })
    expect(unknown.status).toBe(400)
    expect(unknown.json).toEqual({ error: 'HandleNotFound', message: 'Unable to resolve handle' })

    net.route(APPVIEW.url, () => new Response('overloaded', { status: 503 }))
    const down = await xrpc('com.atproto.identity.resolveHandle', { params: { handle: 'bob.test' } })
    expect(down.status).toBe(502)
    expect(down.json).toEqual({ error: 'UpstreamFailure', message: 'Unable to resolve handle: AppView answered 503' })

    net.route(APPVIEW.url, () => Response.json({ did: 'not a did' }))
    expect((await xrpc('com.atproto.identity.resolveHandle', { params: { handle: 'bob.test' } })).status).toBe(502)
  })

  it('refuses a malformed handle with 400 before asking anyone', async () => {
    const res = await xrpc('com.atproto.identity.resolveHandle', { params: { handle: 'not a handle' } })
    expect([res.status, res.json.error]).toEqual([400, 'InvalidRequest'])
    expect(net.requests).toEqual([])
  })
})
