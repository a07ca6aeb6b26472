import { afterEach, describe, expect, it } from 'vitest'
import { loggedInAgent, TEST_DID, xrpc } from '../../helpers'
import { APPVIEW, standInService, useNetwork, type Network } from '../../standIns'

let network: Network | undefined
afterEach(() => network?.restore())

describe('getRecord for a repo this PDS does not host', () => {
  it('is answered by the AppView, with a verified service token when signed in and none when not', async () => {
    const bob = 'did:plc:bobbobbobbobbobbobbobbob'
    const appview = standInService(APPVIEW.did, {
      'com.atproto.repo.getRecord': (call) => ({ uri: `at://${call.query.get('repo')}/app.bsky.feed.post/3k`, cid: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm', value: { text: 'from bob' } }),
    })
    network = useNetwork({ [APPVIEW.url]: appview.handler })
    const agent = await loggedInAgent()

    const signedIn = await agent.com.atproto.repo.getRecord({ repo: bob, collection: 'app.bsky.feed.post', rkey: '3k' })
    expect((signedIn.data.value as any).text).toBe('from bob')
    expect(appview.calls[0]!.claims).toMatchObject({ iss: TEST_DID, aud: APPVIEW.did, lxm: 'com.atproto.repo.getRecord' })
    expect(appview.calls[0]!.query.get('repo')).toBe(bob)

    const anonymous = await xrpc('com.atproto.repo.getRecord', { params: { repo: bob, collection: 'app.bsky.feed.post', rkey: '3k' } })
    expect(anonymous.status).toBe(200)
    expect(appview.calls[1]!.claims).toBeNull()
    expect(appview.refusals).toEqual([])

    // Our own records never leave the PDS.
    const mine = await agent.post({ text: 'mine', createdAt: new Date().toISOString() })
    await agent.com.atproto.repo.getRecord({ repo: TEST_DID, collection: 'app.bsky.feed.post', rkey: mine.uri.split('/').at(-1)! })
    expect(appview.calls).toHaveLength(2)
  })
})
