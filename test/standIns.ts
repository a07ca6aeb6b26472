/**
 * Stand-in services for the PDS's outbound calls. The Worker runs in this
 * isolate, so its `fetch` is the global one: `useNetwork` routes it by origin
 * to in-test handlers and refuses every other destination, so no test reaches
 * the real network. The stand-in AppView checks service auth the way a real
 * one does: against the key in our DID document, fetched from the Worker.
 */
import { AtpAgent } from '@atproto/api'
import { verifySignature } from '@atproto/crypto'
import { base64url } from 'multiformats/bases/base64'
import { vi } from 'vitest'
import { TEST_DID, worker } from './helpers'

export type Handler = (req: Request) => Response | Promise<Response>

/** Where the test config (vitest.config.ts) points the AppView, chat service and PLC directory. */
export const APPVIEW = { url: 'http://127.0.0.1:2584', did: 'did:web:appview.test' } as const
export const CHAT = { url: 'http://127.0.0.1:2585', did: 'did:web:chat.test' } as const
export const PLC_URL = 'http://127.0.0.1:2582'

export interface Network {
  /** Every outbound request the Worker made, in order, as `METHOD url`. */
  requests: string[]
  route(origin: string, handler: Handler): void
  restore(): void
}

export function useNetwork(routes: Record<string, Handler> = {}): Network {
  const table = new Map(Object.entries(routes))
  const requests: string[] = []
  const send = async (req: Request, hops: number): Promise<Response> => {
    requests.push(`${req.method} ${req.url}`)
    const handler = table.get(new URL(req.url).origin)
    if (!handler) throw new TypeError(`connection refused: nothing listens at ${new URL(req.url).origin} (test network)`)
    const res = await handler(req)
    // Like the real fetch: a redirect is followed unless the caller asked for `manual`.
    const location = res.headers.get('location')
    if (req.redirect === 'manual' || res.status < 300 || res.status > 399 || !location) return res
    if (hops >= 20) throw new TypeError('too many redirects (test network)')
    return send(new Request(new URL(location, req.url), { method: 'GET', headers: req.headers }), hops + 1)
  }
  const spy = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => send(new Request(input, init), 0))
  return { requests, route: (origin, handler) => table.set(origin, handler), restore: () => spy.mockRestore() }
}

export interface VerifiedCall {
  nsid: string
  method: string
  query: URLSearchParams
  headers: Headers
  body: string
  /** Claims of the verified service token; null for an unauthenticated call. */
  claims: Record<string, any> | null
}

/**
 * An AppView (or chat service) that refuses any call whose service token does
 * not verify: signature against the issuer's `#atproto` key, `aud` its own
 * DID, `lxm` the method called, unexpired with at most 60 s of life, fresh `jti`.
 */
export function standInService(
  did: string,
  answers: Record<string, (call: VerifiedCall) => unknown>,
  /**
   * Per-method token expectations other than `aud` = this service, `lxm` = the
   * method: the AppView's getFeed accepts a token meant for the feed generator
   * (`aud` unchecked, `lxm` getFeedSkeleton) to pass it on, as the real one does.
   */
  expect: Record<string, { aud?: string; lxm: string }> = {},
) {
  const calls: VerifiedCall[] = []
  const refusals: string[] = []
  const seenJtis = new Set<string>()

  async function verify(token: string, nsid: string): Promise<Record<string, any>> {
    const [h, p, s] = token.split('.')
    if (!h || !p || !s) throw new Error('malformed JWT')
    const header = JSON.parse(new TextDecoder().decode(base64url.baseDecode(h)))
    const claims = JSON.parse(new TextDecoder().decode(base64url.baseDecode(p)))
    if (header.alg !== 'ES256K' || header.typ !== 'JWT') throw new Error(`unexpected header ${JSON.stringify(header)}`)
    if (claims.iss !== TEST_DID) throw new Error(`unexpected iss ${claims.iss}`)
    // The issuer's key, from its DID document as any AppView would resolve it.
    const doc: any = await (await worker.fetch('https://pds.test/.well-known/did.json')).json()
    const vm = doc.verificationMethod.find((v: any) => v.id === `${TEST_DID}#atproto`)
    const ok = await verifySignature(`did:key:${vm.publicKeyMultibase}`, new TextEncoder().encode(`${h}.${p}`), base64url.baseDecode(s))
    if (!ok) throw new Error('bad signature')
    const now = Math.floor(Date.now() / 1000)
    const want = expect[nsid] ?? { aud: did, lxm: nsid }
    if (want.aud !== undefined && claims.aud !== want.aud) throw new Error(`aud ${claims.aud} is not ${want.aud}`)
    if (claims.lxm !== want.lxm) throw new Error(`lxm ${claims.lxm} is not ${want.lxm}`)
    if (!(claims.exp > now) || claims.exp - claims.iat > 60) throw new Error(`bad exp ${claims.exp} (iat ${claims.iat})`)
    if (typeof claims.jti !== 'string' || seenJtis.has(claims.jti)) throw new Error('missing or replayed jti')
    seenJtis.add(claims.jti)
    return claims
  }

  const handler: Handler = async (req) => {
    const url = new URL(req.url)
    const nsid = url.pathname.replace(/^\/xrpc\//, '')
    const authz = req.headers.get('authorization')
    let claims: Record<string, any> | null = null
    if (authz) {
      try {
        claims = await verify(authz.replace(/^Bearer /, ''), nsid)
      } catch (err) {
        refusals.push(`${nsid}: ${(err as Error).message}`)
        return Response.json({ error: 'AuthenticationRequired', message: (err as Error).message }, { status: 401 })
      }
    }
    const call: VerifiedCall = { nsid, method: req.method, query: url.searchParams, headers: req.headers, body: await req.text(), claims }
    calls.push(call)
    const answer = answers[nsid]
    if (!answer) return Response.json({ error: 'MethodNotImplemented', message: `Method Not Implemented: ${nsid}` }, { status: 501 })
    const out = await answer(call)
    return out instanceof Response ? out : Response.json(out)
  }

  return { did, handler, calls, refusals }
}

/** A DID document whose services are `{id → endpoint}`. */
export function didDocument(did: string, services: Record<string, string>) {
  return {
    '@context': ['https://www.w3.org/ns/did/v1'],
    id: did,
    service: Object.entries(services).map(([id, serviceEndpoint]) => ({ id: `#${id}`, type: 'AtprotoService', serviceEndpoint })),
  }
}

/**
 * The video service as the app uses it: the app sends the video to
 * `app.bsky.video.uploadVideo` with its own service token (aud = the PDS's
 * service DID, lxm = com.atproto.repo.uploadBlob), and the service, after
 * checking the token against the issuer's DID document as the real one does,
 * uploads the processed video to the PDS with that same token, through a
 * real `AtpAgent` that holds no session of its own.
 */
export function standInVideoService() {
  const uploads: { status: number; body: any }[] = []
  const handler: Handler = async (req) => {
    const url = new URL(req.url)
    if (url.pathname !== '/xrpc/app.bsky.video.uploadVideo') return Response.json({ error: 'MethodNotImplemented', message: url.pathname }, { status: 501 })
    const token = (req.headers.get('authorization') ?? '').replace(/^Bearer /, '')
    const claims = await verifyServiceToken(token)
    if (!claims || claims.lxm !== 'com.atproto.repo.uploadBlob') return Response.json({ error: 'AuthenticationRequired', message: 'bad token' }, { status: 401 })
    const bytes = new Uint8Array(await req.arrayBuffer())
    const pds = new AtpAgent({ service: 'https://pds.test', fetch: (input, init) => worker.fetch(new Request(input, init)) as unknown as Promise<Response> })
    try {
      const res = await pds.com.atproto.repo.uploadBlob(bytes, { encoding: req.headers.get('content-type') ?? 'video/mp4', headers: { authorization: `Bearer ${token}` } })
      uploads.push({ status: 200, body: res.data })
      return Response.json({ jobId: crypto.randomUUID(), did: claims.iss, state: 'JOB_STATE_COMPLETED', blob: res.data.blob })
    } catch (err: any) {
      uploads.push({ status: err.status, body: { error: err.error, message: err.message } })
      return Response.json({ jobId: crypto.randomUUID(), did: claims.iss, state: 'JOB_STATE_FAILED', error: err.error, message: err.message })
    }
  }
  return { url: VIDEO.url, did: VIDEO.did, handler, uploads }
}

export const VIDEO = { url: 'http://127.0.0.1:2586', did: 'did:web:video.test' } as const

/** Checks an ES256K service token's signature against our DID document's `#atproto` key; claims if it verifies. */
export async function verifyServiceToken(token: string): Promise<Record<string, any> | null> {
  const [h, p, s] = token.split('.')
  if (!h || !p || !s) return null
  const claims = JSON.parse(new TextDecoder().decode(base64url.baseDecode(p)))
  const doc: any = await (await worker.fetch('https://pds.test/.well-known/did.json')).json()
  const vm = doc.verificationMethod.find((v: any) => v.id === `${claims.iss}#atproto`)
  if (!vm) return null
  const ok = await verifySignature(`did:key:${vm.publicKeyMultibase}`, new TextEncoder().encode(`${h}.${p}`), base64url.baseDecode(s))
  return ok && claims.exp > Date.now() / 1000 ? claims : null
}

export const FEEDGEN = { url: 'http://127.0.0.1:2587', did: 'did:web:feedgen.test' } as const
export const FEED_URI = 'at://did:plc:feedownerfeedownerfeedown/app.bsky.feed.generator/for-alice'
export const BOB = { did: 'did:plc:bobbobbobbobbobbobbobbob', handle: 'bob.test' } as const
const BOB_POST: Record<string, any> = {
  uri: `at://${BOB.did}/app.bsky.feed.post/3kbobbobbob22`,
  cid: 'bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm',
  author: { did: BOB.did, handle: BOB.handle },
  record: { $type: 'app.bsky.feed.post', text: 'hello from bob', createdAt: '2026-01-01T00:00:00.000Z' },
  replyCount: 0,
  repostCount: 0,
  likeCount: 0,
  quoteCount: 0,
  indexedAt: '2026-01-01T00:00:01.000Z',
}

/**
 * An AppView that lags: it knows our repo only as of its last `catchUp()`
 * (read from the Worker as a real AppView reads the firehose: records and the
 * rev), answers from that snapshot, and says how far it got in
 * `atproto-repo-rev`, as the real one does. It verifies every service token
 * (standInService), and its getFeed passes the token on to a stand-in feed
 * generator that verifies it is meant for the generator.
 */
export function standInAppView() {
  let rev: string | null = null
  let posts: { uri: string; cid: string; value: any }[] = []
  let profile: any = null

  async function pds(nsid: string, params: Record<string, string>) {
    const url = new URL(`https://pds.test/xrpc/${nsid}`)
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v)
    const res = await worker.fetch(url.toString())
    return res.ok ? ((await res.json()) as any) : null
  }
  async function catchUp() {
    rev = (await pds('com.atproto.sync.getLatestCommit', { did: TEST_DID }))?.rev ?? null
    posts = (await pds('com.atproto.repo.listRecords', { repo: TEST_DID, collection: 'app.bsky.feed.post', limit: '100' }))?.records ?? []
    profile = (await pds('com.atproto.repo.getRecord', { repo: TEST_DID, collection: 'app.bsky.actor.profile', rkey: 'self' }))?.value ?? null
  }
  const author = () => ({ did: TEST_DID, handle: 'alice.test', ...(profile?.displayName ? { displayName: profile.displayName } : {}) })
  const postView = (p: { uri: string; cid: string; value: any }) => ({
    uri: p.uri,
    cid: p.cid,
    author: author(),
    record: p.value,
    replyCount: 0,
    repostCount: 0,
    likeCount: 0,
    quoteCount: 0,
    indexedAt: p.value.createdAt,
  })
  const withRev = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json; charset=utf-8', ...(rev ? { 'atproto-repo-rev': rev } : {}) } })
  const ownFeed = () => [...posts].sort((a, b) => (a.value.createdAt < b.value.createdAt ? 1 : -1)).map((p) => ({ post: postView(p) }))
  const threadOf = (uri: string): any => {
    const p = posts.find((x) => x.uri === uri)
    if (!p) return null
    const replies = posts.filter((r) => r.value.reply?.parent?.uri === uri).map((r) => threadOf(r.uri))
    return { $type: 'app.bsky.feed.defs#threadViewPost', post: postView(p), replies }
  }

  const feedGenerator = standInService(FEEDGEN.did, {
    'app.bsky.feed.getFeedSkeleton': (call) => ({ feed: [{ post: BOB_POST.uri }], cursor: `for:${call.claims?.iss ?? 'anonymous'}` }),
  })

  const service = standInService(
    APPVIEW.did,
    {
      'app.bsky.actor.getProfile': ({ query }) => (query.get('actor') === BOB.did ? withRev({ ...BOB, followersCount: 1 }) : withRev({ ...author(), description: profile?.description, postsCount: posts.length })),
      'app.bsky.actor.getProfiles': ({ query }) => withRev({ profiles: query.getAll('actors').map((a) => (a === BOB.did ? { ...BOB } : { ...author(), description: profile?.description })) }),
      'app.bsky.feed.getAuthorFeed': ({ query }) => withRev({ feed: query.get('actor') === BOB.did ? [{ post: BOB_POST }] : ownFeed() }),
      'app.bsky.feed.getTimeline': () => withRev({ feed: [...ownFeed(), { post: BOB_POST }] }),
      'app.bsky.feed.getActorLikes': () => withRev({ feed: [] }),
      'app.bsky.feed.getPosts': ({ query }) => ({ posts: query.getAll('uris').flatMap((u): any[] => (u === BOB_POST.uri ? [BOB_POST] : posts.filter((p) => p.uri === u).map(postView))) }),
      'app.bsky.feed.getPostThread': ({ query }) => {
        const uri = query.get('uri')!
        const thread = uri === BOB_POST.uri ? { $type: 'app.bsky.feed.defs#threadViewPost', post: BOB_POST, replies: [] } : threadOf(uri)
        return thread ? withRev({ thread }) : withRev({ error: 'NotFound', message: `Post not found: ${uri}` }, 400)
      },
      // The PDS resolves a feed's generator from its record, unauthenticated.
      'com.atproto.repo.getRecord': ({ query }) =>
        query.get('collection') === 'app.bsky.feed.generator' && `at://${query.get('repo')}/app.bsky.feed.generator/${query.get('rkey')}` === FEED_URI
          ? { uri: FEED_URI, cid: BOB_POST.cid, value: { $type: 'app.bsky.feed.generator', did: FEEDGEN.did, displayName: 'For Alice', createdAt: '2026-01-01T00:00:00.000Z' } }
          : Response.json({ error: 'RecordNotFound', message: 'Could not locate record' }, { status: 400 }),
      // As the real AppView: the caller's token goes on to the feed generator, which checks it is meant for it.
      'app.bsky.feed.getFeed': async ({ query, headers }) => {
        const url = `${FEEDGEN.url}/xrpc/app.bsky.feed.getFeedSkeleton?feed=${encodeURIComponent(query.get('feed')!)}`
        const auth = headers.get('authorization')
        const res = await feedGenerator.handler(new Request(url, { headers: auth ? { authorization: auth } : {} }))
        if (!res.ok) return new Response(res.body, { status: res.status, headers: res.headers })
        const skeleton: any = await res.json()
        return { feed: skeleton.feed.map(() => ({ post: BOB_POST })), cursor: skeleton.cursor }
      },
    },
    { 'app.bsky.feed.getFeed': { lxm: 'app.bsky.feed.getFeedSkeleton' } },
  )
  return { ...service, feedGenerator, catchUp, get rev() { return rev } }
}
