import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import worker from '../../src/index'
import { PNG } from '../blobs/fixtures'
import { newAgent, TEST_DID, TEST_HANDLE, TEST_PASSWORD, xrpc, xrpcUrl } from '../helpers'
import { APPVIEW, CHAT, didDocument, PLC_URL, standInService, useNetwork, type Network } from '../standIns'

const BOB = 'did:plc:bobbobbobbobbobbobbobbob'
const postCid = CID.createV1(0x71, await sha256.digest(new TextEncoder().encode('a post'))).toString()

const appViewAnswers = {
  'app.bsky.actor.getProfile': ({ query }: { query: URLSearchParams }) => ({ did: query.get('actor') === TEST_HANDLE ? TEST_DID : BOB, handle: query.get('actor'), followersCount: 3 }),
  'app.bsky.feed.getTimeline': () => ({
    cursor: 'next',
    feed: [
      {
        post: {
          uri: `at://${BOB}/app.bsky.feed.post/3kabc`,
          cid: postCid,
          author: { did: BOB, handle: 'bob.test' },
          record: { $type: 'app.bsky.feed.post', text: 'hello alice', createdAt: '2026-01-01T00:00:00.000Z' },
          indexedAt: '2026-01-01T00:00:01.000Z',
        },
      },
    ],
  }),
  'app.bsky.notification.listNotifications': () => ({ notifications: [], seenAt: '2026-01-01T00:00:00.000Z' }),
  'app.bsky.graph.muteActor': () => new Response(null, { status: 200 }),
  'app.bsky.unspecced.getConfig': () =>
    new Response(JSON.stringify({ checkEmailConfirmed: false }), {
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'content-language': 'en',
        'atproto-content-labelers': 'did:plc:labeler',
        'atproto-repo-rev': '3kabc',
        'set-cookie': 'upstream=1',
        'x-upstream-internal': 'secret',
      },
    }),
  'app.bsky.feed.getPostThread': () => Response.json({ error: 'NotFound', message: 'Post not found' }, { status: 400 }),
}

let net: Network
let appView: ReturnType<typeof standInService>
let chat: ReturnType<typeof standInService>

beforeEach(() => {
  appView = standInService(APPVIEW.did, appViewAnswers)
  chat = standInService(CHAT.did, { 'chat.bsky.convo.listConvos': () => ({ convos: [] }) })
  net = useNetwork({ [APPVIEW.url]: appView.handler, [CHAT.url]: chat.handler })
})
afterEach(() => net.restore())

async function session(): Promise<{ accessJwt: string; refreshJwt: string }> {
  return (await xrpc('com.atproto.server.createSession', { body: { identifier: TEST_HANDLE, password: TEST_PASSWORD } })).json
}

async function appPasswordSession(privileged: boolean) {
  const owner = await session()
  const name = `app-${crypto.randomUUID()}`
  const created = await xrpc('com.atproto.server.createAppPassword', { token: owner.accessJwt, body: { name, privileged } })
  expect(created.status).toBe(200)
  return (await xrpc('com.atproto.server.createSession', { body: { identifier: TEST_HANDLE, password: created.json.password } })).json
}

describe('the Bluesky app session through the proxy', () => {
  it('logs in, reads preferences locally, reads profile, timeline and notifications through a verifying AppView, and round-trips preferences', async () => {
    const agent = newAgent()
    const desc = await agent.com.atproto.server.describeServer()
    expect(desc.data.did).toBe(TEST_DID)
    await agent.login({ identifier: TEST_HANDLE, password: TEST_PASSWORD })
    expect((await agent.com.atproto.server.getSession()).data.handle).toBe(TEST_HANDLE)
    // The app names its AppView on every call, as social-app does.
    agent.configureProxy(`${APPVIEW.did}#bsky_appview`)

    const before = await agent.app.bsky.actor.getPreferences()
    expect(before.data.preferences).toEqual([])

    const profile = await agent.getProfile({ actor: TEST_HANDLE })
    expect(profile.data).toMatchObject({ did: TEST_DID, handle: TEST_HANDLE, followersCount: 3 })
    const timeline = await agent.getTimeline({ limit: 30 })
    expect(timeline.data.feed[0]!.post.author.handle).toBe('bob.test')
    expect(timeline.data.cursor).toBe('next')
    const notifications = await agent.listNotifications()
    expect(notifications.data.notifications).toEqual([])

    // Posting with an image stays on the PDS: blob to R2, record through the actor.
    const uploaded = await agent.uploadBlob(PNG, { encoding: 'image/png' })
    const post = await agent.post({
      text: 'look',
      embed: { $type: 'app.bsky.embed.images', images: [{ alt: 'orange', image: uploaded.data.blob }] },
      createdAt: new Date().toISOString(),
    })
    const stored = await agent.com.atproto.repo.getRecord({ repo: TEST_DID, collection: 'app.bsky.feed.post', rkey: post.uri.split('/').at(-1)! })
    expect((stored.data.value as any).embed.images[0].image.ref.toString()).toBe(uploaded.data.blob.ref.toString())

    await agent.app.bsky.actor.putPreferences({
      preferences: [
        { $type: 'app.bsky.actor.defs#adultContentPref', enabled: true },
        { $type: 'app.bsky.actor.defs#savedFeedsPrefV2', items: [{ id: '3kfeed', type: 'timeline', value: 'following', pinned: true }] },
      ],
    })
    const prefs = await agent.getPreferences()
    expect(prefs.moderationPrefs.adultContentEnabled).toBe(true)
    expect(prefs.savedFeeds.map((f) => f.value)).toEqual(['following'])

    // Every forwarded call verified at the AppView; preferences and sessions never left the PDS.
    expect(appView.refusals).toEqual([])
    expect(appView.calls.map((c) => c.nsid)).toEqual(['app.bsky.actor.getProfile', 'app.bsky.feed.getTimeline', 'app.bsky.notification.listNotifications'])
    for (const call of appView.calls) {
      expect(call.claims).toMatchObject({ iss: TEST_DID, aud: APPVIEW.did, lxm: call.nsid })
      expect(call.headers.get('authorization')).not.toContain(agent.session!.accessJwt)
    }
    expect(appView.calls[1]!.query.get('limit')).toBe('30')
  })

  it('forwards the query, body and client headers a service needs, and nothing private either way', async () => {
    const { accessJwt } = await session()
    const muted = await xrpc('app.bsky.graph.muteActor', {
      token: accessJwt,
      body: { actor: BOB },
      headers: { cookie: 'session=secret', 'accept-language': 'fr, en;q=0.5', 'atproto-accept-labelers': 'did:plc:labeler;redact', 'x-forwarded-for': '203.0.113.1' },
    })
    expect(muted.status).toBe(200)
    const call = appView.calls.at(-1)!
    expect(call).toMatchObject({ nsid: 'app.bsky.graph.muteActor', method: 'POST' })
    expect(JSON.parse(call.body)).toEqual({ actor: BOB })
    expect(call.headers.get('content-type')).toBe('application/json')
    expect(call.headers.get('accept-language')).toBe('fr, en;q=0.5')
    expect(call.headers.get('atproto-accept-labelers')).toBe('did:plc:labeler;redact')
    expect(call.headers.get('cookie')).toBeNull()
    expect(call.headers.get('x-forwarded-for')).toBeNull()
    expect(call.headers.get('authorization')).toMatch(/^Bearer ey/)
    expect(call.headers.get('authorization')).not.toContain(accessJwt)

    const config = await xrpc('app.bsky.unspecced.getConfig', { token: accessJwt })
    expect(config.json).toEqual({ checkEmailConfirmed: false })
    expect(config.headers.get('content-type')).toBe('application/json; charset=utf-8')
    expect(config.headers.get('content-language')).toBe('en')
    expect(config.headers.get('atproto-content-labelers')).toBe('did:plc:labeler')
    expect(config.headers.get('atproto-repo-rev')).toBe('3kabc')
    expect(config.headers.get('set-cookie')).toBeNull()
    expect(config.headers.get('x-upstream-internal')).toBeNull()

    // Upstream errors come back as the service said them.
    const thread = await xrpc('app.bsky.feed.getPostThread', { token: accessJwt, params: { uri: `at://${BOB}/app.bsky.feed.post/3kabc` } })
    expect(thread.status).toBe(400)
    expect(thread.json).toEqual({ error: 'NotFound', message: 'Post not found' })
    expect(appView.refusals).toEqual([])
  })

  it('lets signed-out clients read the AppView without a token, and wants a session for anything else', async () => {
    const anon = await xrpc('app.bsky.actor.getProfile', { params: { actor: 'bob.test' } })
    expect(anon.status).toBe(200)
    expect(appView.calls.at(-1)!.claims).toBeNull()

    for (const [nsid, headers] of [
      ['chat.bsky.convo.listConvos', {}],
      ['app.bsky.actor.getProfile', { 'atproto-proxy': 'did:web:labeler.test#atproto_labeler' }],
    ] as const) {
      const res = await xrpc(nsid, { params: { actor: 'bob.test' }, headers })
      expect([nsid, res.status, res.json.error]).toEqual([nsid, 401, 'AuthMissing'])
    }
    expect(chat.calls).toEqual([])
    const bad = await xrpc('app.bsky.actor.getProfile', { params: { actor: 'bob.test' }, token: 'not-a-jwt' })
    expect([bad.status, bad.json.error]).toEqual([400, 'InvalidToken'])
    expect(appView.calls).toHaveLength(1)
  })
})

describe('atproto-proxy', () => {
  it('resolves did:web and did:plc services, signs for the bare service DID, and caches the documents', async () => {
    const labeler = standInService('did:web:labeler.test', { 'com.atproto.label.queryLabels': () => ({ labels: [] }) })
    const plcDid = 'did:plc:feedfeedfeedfeedfeedfeed'
    const feedgen = standInService(plcDid, { 'app.bsky.feed.getFeedSkeleton': () => ({ feed: [] }) })
    net.route('https://labeler.test', (req) =>
      new URL(req.url).pathname === '/.well-known/did.json' ? Response.json(didDocument('did:web:labeler.test', { atproto_labeler: 'https://labels.example.com' })) : new Response('no', { status: 404 }),
    )
    net.route('https://labels.example.com', labeler.handler)
    net.route(PLC_URL, (req) => (new URL(req.url).pathname === `/${plcDid}` ? Response.json(didDocument(plcDid, { bsky_fg: 'https://feeds.example.com' })) : new Response('', { status: 404 })))
    net.route('https://feeds.example.com', feedgen.handler)
    const { accessJwt } = await session()

    for (let i = 0; i < 2; i++) {
      const labels = await xrpc('com.atproto.label.queryLabels', { token: accessJwt, params: { uriPatterns: '*' }, headers: { 'atproto-proxy': 'did:web:labeler.test#atproto_labeler' } })
      expect(labels.status).toBe(200)
      expect(labels.json).toEqual({ labels: [] })
      const skeleton = await xrpc('app.bsky.feed.getFeedSkeleton', { token: accessJwt, params: { feed: `at://${plcDid}/app.bsky.feed.generator/x` }, headers: { 'atproto-proxy': `${plcDid}#bsky_fg` } })
      expect(skeleton.status).toBe(200)
    }
    expect(labeler.refusals).toEqual([])
    expect(feedgen.refusals).toEqual([])
    expect(labeler.calls.map((c) => c.claims?.aud)).toEqual(['did:web:labeler.test', 'did:web:labeler.test'])
    expect(feedgen.calls.map((c) => c.claims?.aud)).toEqual([plcDid, plcDid])
    // One document fetch each: the second round came from the KV cache.
    expect(net.requests.filter((r) => r.includes('did.json') || r.startsWith(`GET ${PLC_URL}`))).toEqual([
      'GET https://labeler.test/.well-known/did.json',
      `GET ${PLC_URL}/${plcDid}`,
    ])
    expect(await env.CACHE.get(`did-doc:${plcDid}`, 'json')).toMatchObject({ id: plcDid })
  })

  it('refuses malformed headers, unknown DIDs and missing service ids with 400 and forwards nothing', async () => {
    net.route('https://labeler.test', () => Response.json(didDocument('did:web:labeler.test', { atproto_labeler: 'https://labels.example.com' })))
    net.route('https://nobody.test', () => new Response('not found', { status: 404 }))
    const { accessJwt } = await session()
    const cases: [string, string][] = [
      ['did:web:labeler.test#bsky_chat', 'could not resolve proxy did service url'],
      ['did:web:nobody.test#atproto_labeler', 'could not resolve proxy did'],
      ['did:web:labeler.test', 'no service id specified in proxy header'],
      ['#atproto_labeler', 'no did specified in proxy header'],
      ['did:web:labeler.test#a#b', 'invalid proxy header format'],
      ['did:example:123#atproto_labeler', 'could not resolve proxy did: unsupported DID: did:example:123'],
      // Past the longest DNS name; its cache key would also pass KV's 512-byte limit.
      [`did:web:${'a'.repeat(60)}.${'b'.repeat(600)}.test#atproto_labeler`, 'could not resolve proxy did: did:web host is longer than 253 characters'],
      [`did:web:${'c'.repeat(250)}.test%3A8080#atproto_labeler`, 'could not resolve proxy did: did:web host is longer than 253 characters'],
    ]
    for (const [proxy, message] of cases) {
      const res = await xrpc('app.bsky.actor.getProfile', { token: accessJwt, params: { actor: 'bob.test' }, headers: { 'atproto-proxy': proxy } })
      expect([proxy, res.status, res.json]).toEqual([proxy, 400, { error: 'InvalidRequest', message }])
    }
    expect(net.requests.filter((r) => r.includes('labels.example.com'))).toEqual([])
    expect(appView.calls).toEqual([])
  })

  it('without the dev override, refuses plain-HTTP and private-address targets before connecting', async () => {
    // A production-like config: without the override a plain-http PLC directory is refused too (readConfig).
    const strictEnv = { ...env, PROXY_ALLOW_INSECURE: 'false', PLC_DIRECTORY_URL: 'https://plc.directory' }
    const call = async (nsid: string, token: string, proxy?: string) => {
      const ctx = createExecutionContext()
      const req = new Request(xrpcUrl(nsid, { actor: 'bob.test' }), { headers: { authorization: `Bearer ${token}`, ...(proxy ? { 'atproto-proxy': proxy } : {}) } })
      const res = await worker.fetch!(req as any, strictEnv as any, ctx)
      await waitOnExecutionContext(ctx)
      return { status: res.status, json: (await res.json()) as any }
    }
    const targets: Record<string, string> = {
      'did:web:rfc1918.test': 'https://10.0.0.7',
      'did:web:metadata.test': 'https://169.254.169.254',
      'did:web:loopback.test': 'https://localhost:8443',
      'did:web:ipv6.test': 'https://[::1]',
      'did:web:mapped.test': 'https://[::ffff:192.168.0.1]',
      'did:web:plain.test': 'http://public.example.com',
    }
    for (const [did, endpoint] of Object.entries(targets)) {
      net.route(`https://${did.slice('did:web:'.length)}`, () => Response.json(didDocument(did, { atproto_labeler: endpoint })))
    }
    const { accessJwt } = await session()
    for (const [did, endpoint] of Object.entries(targets)) {
      const res = await call('app.bsky.actor.getProfile', accessJwt, `${did}#atproto_labeler`)
      expect([endpoint, res.status, res.json.error]).toEqual([endpoint, 400, 'InvalidRequest'])
      expect(res.json.message).toMatch(/^proxy target refused: /)
    }
    // A did:web on a private host is not even resolved.
    const privateDid = await call('app.bsky.actor.getProfile', accessJwt, 'did:web:192.168.1.1#atproto_labeler')
    expect(privateDid).toEqual({ status: 400, json: { error: 'InvalidRequest', message: 'could not resolve proxy did: 192.168.1.1 is not a public address' } })
    // The test AppView itself is on loopback: without the override the PDS will not call it.
    const appViewCall = await call('app.bsky.actor.getProfile', accessJwt)
    expect([appViewCall.status, appViewCall.json.error]).toEqual([502, 'UpstreamFailure'])

    const connected = net.requests.filter((r) => !r.includes('/.well-known/did.json'))
    expect(connected).toEqual([])
    expect(appView.calls).toEqual([])
  })

  it('with the override, reaches a private address and reports an unreachable service as 502 UpstreamFailure', async () => {
    net.route('https://rfc1918.test', () => Response.json(didDocument('did:web:rfc1918.test', { atproto_labeler: 'https://10.0.0.7' })))
    const { accessJwt } = await session()
    const res = await xrpc('app.bsky.actor.getProfile', { token: accessJwt, params: { actor: 'bob.test' }, headers: { 'atproto-proxy': 'did:web:rfc1918.test#atproto_labeler' } })
    expect(res.status).toBe(502)
    expect(res.json).toEqual({ error: 'UpstreamFailure', message: 'Upstream service unreachable' })
    expect(net.requests).toContain('GET https://10.0.0.7/xrpc/app.bsky.actor.getProfile?actor=bob.test')
  })
})

describe('what may be proxied, and by whom', () => {
  it('sends chat to the chat service only for the owner or a privileged app password', async () => {
    const owner = await session()
    const ok = await xrpc('chat.bsky.convo.listConvos', { token: owner.accessJwt })
    expect(ok.status).toBe(200)
    expect(chat.calls.at(-1)!.claims).toMatchObject({ iss: TEST_DID, aud: CHAT.did, lxm: 'chat.bsky.convo.listConvos' })

    const privileged = await appPasswordSession(true)
    expect((await xrpc('chat.bsky.convo.listConvos', { token: privileged.accessJwt, headers: { 'atproto-proxy': `${CHAT.did}#bsky_chat` } })).status).toBe(200)

    const plain = await appPasswordSession(false)
    const refused = await xrpc('chat.bsky.convo.listConvos', { token: plain.accessJwt })
    expect(refused.status).toBe(400)
    expect(refused.json).toEqual({ error: 'InvalidToken', message: 'Bad token method' })
    // A plain app password still reads the AppView.
    expect((await xrpc('app.bsky.actor.getProfile', { token: plain.accessJwt, params: { actor: 'bob.test' } })).status).toBe(200)
    expect(chat.calls).toHaveLength(2)
    expect(chat.refusals).toEqual([])
  })

  it('never proxies account-management methods, answers unknown namespaces 501, and checks the NSID and HTTP verb', async () => {
    const { accessJwt } = await session()
    const protectedCall = await xrpc('com.atproto.server.requestAccountDelete', { token: accessJwt, method: 'POST', headers: { 'atproto-proxy': `${APPVIEW.did}#bsky_appview` } })
    expect(protectedCall.status).toBe(400)
    expect(protectedCall.json).toEqual({ error: 'InvalidToken', message: 'Bad token method' })

    const unknown = await xrpc('com.example.doSomething', { token: accessJwt })
    expect(unknown.status).toBe(501)
    expect(unknown.json.error).toBe('MethodNotImplemented')

    // An NSID is spliced into the upstream path: an encoded path segment must not walk out of /xrpc/.
    for (const nsid of ['app.bsky.feed.x%2F..%2F..%2Fadmin', 'app.bsky.feed.getTimeline%3Fx=1']) {
      const traversal = await xrpc(nsid, { token: accessJwt })
      expect([nsid, traversal.status, traversal.json]).toEqual([nsid, 400, { error: 'InvalidRequest', message: 'invalid xrpc path' }])
    }

    const wrongVerb = await xrpc('app.bsky.feed.getTimeline', { token: accessJwt, body: {} })
    expect(wrongVerb.status).toBe(400)
    expect(wrongVerb.json.message).toBe('Incorrect HTTP method (POST) expected GET')
    expect(appView.calls).toEqual([])
  })
})
