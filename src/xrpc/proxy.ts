import { isValidNsid } from '@atproto/syntax'
import { authenticateCaller, enforceScope, type CallerAuth } from './callerAuth'
import { createServiceJwt, isPrivilegedMethod, isProtectedMethod } from '../auth/serviceAuth'
import { Scope } from '../auth/tokens'
import { getDb } from '../db/client'
import type { Config } from '../env'
import { DidResolutionError, getServiceEndpoint, resolveDid } from '../identity/resolveDid'
import { getSigningKey } from '../identity/signingKey'
import { log } from '../lib/log'
import { assertPublicUrl, UnsafeUrlError } from '../lib/publicUrl'
import { InvalidRequestError, MethodNotImplementedError, UpstreamFailureError } from '../lib/errors'
import { lexicons } from '../lib/lexicons'
import { hasReadAfterWrite, readAfterWrite } from '../readAfterWrite'
import { feedGeneratorDid, GET_FEED, GET_FEED_SKELETON } from './feedGenerator'
import type { CallOptions } from './method'

/** Request headers a client may address to the upstream service; never authorization or cookies. */
const FORWARDED_REQUEST_HEADERS = ['accept', 'accept-language', 'atproto-accept-labelers', 'content-type', 'x-bsky-topics']
/** Upstream response headers the client gets back (bodies are decoded by fetch, so no content-encoding). */
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'content-language', 'atproto-content-labelers', 'atproto-repo-rev', 'retry-after']
const UPSTREAM_TIMEOUT_MS = 30_000

interface Target {
  /** Service DID: the `aud` of the service token. */
  did: string
  /** Base URL of the service; `/xrpc/<nsid>` is appended. */
  url: string
  /** Whether the caller chose it with `atproto-proxy`, rather than our configuration. */
  fromHeader: boolean
}

/**
 * Forwards an XRPC call this PDS does not serve itself (reference PDS
 * "pipethrough"): to the service named by `atproto-proxy: <did>#<service_id>`,
 * else `app.bsky.*` to the AppView and `chat.bsky.*` to the chat service,
 * with a fresh service token for the signed-in account.
 */
export async function proxyRequest(req: Request, nsid: string, opts: CallOptions, fallback?: 'appview'): Promise<Response> {
  const { config } = opts
  // The NSID becomes part of the upstream path: nothing but a well-formed one may get there.
  if (!isValidNsid(nsid)) throw new InvalidRequestError('invalid xrpc path')
  const proxyTo = req.headers.get('atproto-proxy')
  const defaultTarget = fallback === 'appview' ? { ...config.appView, fromHeader: false } : defaultService(nsid, config)
  if (!proxyTo && !defaultTarget) throw new MethodNotImplementedError(nsid)

  if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST') {
    throw new InvalidRequestError('XRPC requests only supports GET and POST')
  }
  const def = lexicons.getDef(nsid) as { type?: string } | undefined
  const expected = def?.type === 'procedure' ? 'POST' : def?.type === 'query' ? 'GET' : null
  if (expected && req.method !== expected && !(expected === 'GET' && req.method === 'HEAD')) {
    throw new InvalidRequestError(`Incorrect HTTP method (${req.method}) expected ${expected}`)
  }
  if (isProtectedMethod(nsid)) throw new InvalidRequestError('Bad token method', 'InvalidToken')

  // Signed-out clients may read the public AppView through us; anything else needs a session.
  const anonymous = !req.headers.get('authorization') && !proxyTo && (nsid.startsWith('app.bsky.') || fallback === 'appview')
  let auth: CallerAuth | null = null
  if (!anonymous) {
    auth = (await authenticateCaller(req, config, getDb(opts.env.DB), 'access'))!
    opts.onAuth?.(auth)
    // OAuth: `rpc:<nsid>?aud=<did#service>`, the audience as the client names it (atproto permission spec).
    const aud = proxyTo ?? (defaultTarget?.did === config.chat.did ? `${config.chat.did}#bsky_chat` : `${config.appView.did}#bsky_appview`)
    enforceScope(auth, (p) => p.assertRpc({ lxm: nsid, aud }), { req, config, params: {}, input: undefined })
    if (isPrivilegedMethod(nsid) && auth.scope === Scope.AppPass) throw new InvalidRequestError('Bad token method', 'InvalidToken')
  }

  const target = proxyTo ? await resolveProxyHeader(proxyTo, opts) : defaultTarget!
  let url: URL
  try {
    url = assertPublicUrl(`${target.url}/xrpc/${nsid}${new URL(req.url).search}`, config.proxyAllowInsecure)
  } catch (err) {
    if (!(err instanceof UnsafeUrlError)) throw err
    if (target.fromHeader) throw new InvalidRequestError(`proxy target refused: ${err.message}`)
    throw new UpstreamFailureError(`configured service refused: ${err.message}`)
  }

  const headers = new Headers()
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const value = req.headers.get(name)
    if (value !== null && (name !== 'content-type' || req.method === 'POST')) headers.set(name, value)
  }
  if (auth) {
    const keypair = await getSigningKey(config.signingKeyHex)
    const claims =
      nsid === GET_FEED
        ? { aud: await feedGeneratorDid(new URL(req.url).searchParams.get('feed'), config), lxm: GET_FEED_SKELETON }
        : { aud: target.did, lxm: nsid }
    headers.set('authorization', `Bearer ${await createServiceJwt(keypair, { iss: auth.did, ...claims })}`)
  }

  let upstream: Response
  try {
    upstream = await fetch(url, {
      method: req.method,
      headers,
      body: req.method === 'POST' ? req.body : undefined,
      // A redirect could point anywhere, including a private address.
      redirect: 'manual',
      signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
    })
  } catch (err) {
    log('warn', 'proxy upstream unreachable', { requestId: opts.requestId, nsid, upstream: url.origin, errorMessage: err instanceof Error ? err.message : String(err) })
    throw new UpstreamFailureError('Upstream service unreachable')
  }
  if (upstream.status >= 300 && upstream.status < 400) {
    await upstream.body?.cancel()
    throw new UpstreamFailureError(`Upstream service answered a redirect (${upstream.status})`)
  }

  const out = new Headers()
  for (const name of FORWARDED_RESPONSE_HEADERS) {
    const value = upstream.headers.get(name)
    if (value !== null) out.set(name, value)
  }
  const response = new Response(upstream.body, { status: upstream.status, headers: out })
  if (!auth || !hasReadAfterWrite(nsid)) return response
  return readAfterWrite(nsid, auth.did, response, { config, db: getDb(opts.env.DB), d1: opts.env.DB, url: new URL(req.url), requestId: opts.requestId })
}

function defaultService(nsid: string, config: Config): Target | null {
  if (nsid.startsWith('app.bsky.')) return { ...config.appView, fromHeader: false }
  if (nsid.startsWith('chat.bsky.')) return { ...config.chat, fromHeader: false }
  return null
}

/** `did#service_id` → the service's endpoint in the DID document (the configured AppView and chat service need no lookup). */
async function resolveProxyHeader(proxyTo: string, opts: CallOptions): Promise<Target> {
  const { config } = opts
  const hash = proxyTo.indexOf('#')
  if (hash === 0) throw new InvalidRequestError('no did specified in proxy header')
  if (hash === -1 || hash === proxyTo.length - 1) throw new InvalidRequestError('no service id specified in proxy header')
  if (proxyTo.indexOf('#', hash + 1) !== -1) throw new InvalidRequestError('invalid proxy header format')
  if (/\s/.test(proxyTo)) throw new InvalidRequestError('proxy header cannot contain spaces')
  const did = proxyTo.slice(0, hash)
  const serviceId = proxyTo.slice(hash + 1)

  if (did === config.appView.did && serviceId === 'bsky_appview') return { ...config.appView, fromHeader: true }
  if (did === config.chat.did && serviceId === 'bsky_chat') return { ...config.chat, fromHeader: true }

  let doc
  try {
    doc = await resolveDid(did, config, opts.env.CACHE)
  } catch (err) {
    if (err instanceof UnsafeUrlError) throw new InvalidRequestError(`could not resolve proxy did: ${err.message}`)
    if (err instanceof DidResolutionError) throw new InvalidRequestError(`could not resolve proxy did: ${err.message}`)
    throw err
  }
  if (!doc) throw new InvalidRequestError('could not resolve proxy did')
  const url = getServiceEndpoint(doc, serviceId)
  if (!url) throw new InvalidRequestError('could not resolve proxy did service url')
  return { did, url, fromHeader: true }
}
