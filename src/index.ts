import { Hono } from 'hono'
import { cors } from 'hono/cors'
import { collectGarbage } from './blobs/gc'
import { getDb } from './db/client'
import { pruneLoginLimits } from './db/loginLimit'
import { pruneExpiredRefreshTokens } from './db/sessions'
import { ConfigError, readConfig, type Env } from './env'
import { costFields, meterActors, meterBucket, newCost, withCost } from './lib/cost'
import { meterD1 } from './db/metered'
import { pruneExpiredOAuth } from './db/oauth'
import { setDpopNonce } from './oauth/routes'
import { errorFields, log, setLogLevel } from './lib/log'
import { NotFoundError, toXrpcError, XrpcError } from './lib/errors'
import { callMethod, type CallOptions } from './xrpc/method'
import { proxyRequest } from './xrpc/proxy'
import { crawlNewRelaysOnce, crawlRelays } from './relays/crawl'
import { httpRoutes, methodsByNsid } from './xrpc/routes'

export { AccountActor } from '../actors/account-actor'

type Vars = { requestId: string; did?: string; nsid?: string; error?: string }
const app = new Hono<{ Bindings: Env; Variables: Vars }>()

// One JSON log line per request with what it cost (D1, actor, R2: src/lib/cost.ts);
// tokens and bodies never appear in it.
app.use('*', async (c, next) => {
  const started = Date.now()
  const requestId = c.req.header('cf-ray') ?? crypto.randomUUID()
  c.set('requestId', requestId)
  const cost = newCost()
  await withCost(cost, next)
  const status = c.res.status
  // What failed, by its XRPC error name (ours, or the upstream's for a proxied call); never the message.
  const error = status >= 400 ? (c.get('error') ?? (await errorName(c.res))) : undefined
  const line = () =>
    log(status >= 500 ? 'error' : 'info', 'request', {
      requestId,
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      nsid: c.get('nsid'),
      status,
      error,
      ms: Date.now() - started,
      did: c.get('did'),
      ...costFields(cost),
    })
  // A CAR export reads D1 page by page while it streams: its line waits for the end.
  if (c.res.body && c.res.headers.get('content-type') === 'application/vnd.ipld.car') {
    c.res = new Response(c.res.body.pipeThrough(new TransformStream({ flush: line })), c.res)
  } else line()
})

// CORS as the reference PDS: any origin, the headers atproto clients send.
app.use(
  '*',
  cors({
    origin: '*',
    allowHeaders: ['authorization', 'content-type', 'atproto-proxy', 'atproto-accept-labelers', 'dpop', 'atproto-content-labelers'],
    allowMethods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
    exposeHeaders: ['dpop-nonce', 'www-authenticate', 'content-language', 'atproto-content-labelers', 'atproto-repo-rev', 'retry-after'],
    maxAge: 86400,
  }),
)

// DPoP nonces on every OAuth and XRPC response (set after the handler, errors included).
for (const path of ['/xrpc/*', '/oauth/*', '/.well-known/oauth-*']) {
  app.use(path, async (c, next) => {
    await next()
    await setDpopNonce(c.res, c.env)
  })
}

for (const route of httpRoutes) {
  app.on(route.method, route.path, (c) => {
    if (route.nsid) c.set('nsid', route.nsid)
    return route.handler(c.req.raw, c.env, c.req.param() as Record<string, string>)
  })
}

app.all('/xrpc/:nsid', async (c) => {
  const nsid = c.req.param('nsid')
  c.set('nsid', nsid)
  const config = readConfig(c.env)
  // A deployment with a new relay list asks the new relays at once (one D1 read per isolate).
  const crawl = crawlNewRelaysOnce(getDb(c.env.DB), config)
  if (crawl) c.executionCtx.waitUntil(crawl.catch((err) => log('error', 'requestCrawl not sent', errorFields(err))))
  const opts: CallOptions = {
    env: c.env,
    config,
    requestId: c.get('requestId'),
    waitUntil: (p) => c.executionCtx.waitUntil(p),
    onAuth: (auth) => c.set('did', auth.did),
  }
  const method = methodsByNsid.get(nsid)
  // Methods this PDS does not serve go to the AppView, chat or `atproto-proxy` service (or 501).
  if (!method) return proxyRequest(c.req.raw, nsid, opts)
  return callMethod(method, c.req.raw, opts)
})

app.notFound(() => new NotFoundError().toResponse())

app.onError((err, c) => {
  const xrpcErr = err instanceof ConfigError ? new XrpcError(503, 'InvalidConfiguration', 'The server configuration is invalid: see /xrpc/_health') : toXrpcError(err)
  c.set('error', xrpcErr.error)
  if (err instanceof ConfigError) log('error', 'invalid configuration', { requestId: c.get('requestId'), settings: err.settings })
  else if (!(err instanceof XrpcError)) log('error', 'unhandled error', { requestId: c.get('requestId'), nsid: c.get('nsid'), ...errorFields(err) })
  const res = xrpcErr.toResponse()
  res.headers.set('access-control-allow-origin', '*')
  return res
})

/** The `error` of a JSON error body (an upstream's, passed through), if it looks like an XRPC error name. */
async function errorName(res: Response): Promise<string | undefined> {
  if (!/^application\/json\b/i.test(res.headers.get('content-type') ?? '')) return undefined
  const body = (await res.clone().json().catch(() => null)) as { error?: unknown } | null
  return typeof body?.error === 'string' && /^[A-Za-z][A-Za-z0-9]{0,63}$/.test(body.error) ? body.error : undefined
}

/** The bindings, metered (src/lib/cost.ts): wrapped once per isolate. */
const meteredEnvs = new WeakMap<Env, Env>()
function metered(env: Env): Env {
  let m = meteredEnvs.get(env)
  if (!m) {
    // Before the first line this isolate logs, even for a route that never reads the config.
    setLogLevel(env.LOG_LEVEL)
    m = { ...env, DB: meterD1(env.DB), BLOBS: meterBucket(env.BLOBS), ACCOUNT: meterActors(env.ACCOUNT) }
    meteredEnvs.set(env, m)
  }
  return m
}

export default {
  fetch: (req: Request, env: Env, ctx: ExecutionContext) => app.fetch(req, metered(env), ctx),
  /** Cron trigger (wrangler.toml): blob garbage collection, expired sessions, relay crawl requests. */
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(
      collectGarbage(env, controller.scheduledTime).then(
        (result) => log('info', 'blob gc', { ...result }),
        (err) => log('error', 'blob gc failed', errorFields(err)),
      ),
    )
    ctx.waitUntil(pruneExpiredRefreshTokens(getDb(env.DB)).catch((err) => log('error', 'session prune failed', errorFields(err))))
    // Relays that were down, refused, or have not heard from us for a while are asked again.
    ctx.waitUntil(
      Promise.resolve()
        .then(() => crawlRelays(getDb(env.DB), readConfig(env), { scope: 'due', reason: 'cron' }))
        .catch((err) => log('error', 'requestCrawl not sent', errorFields(err))),
    )
    ctx.waitUntil(pruneExpiredOAuth(getDb(env.DB)).catch((err) => log('error', 'oauth prune failed', errorFields(err))))
    ctx.waitUntil(pruneLoginLimits(getDb(env.DB)).catch((err) => log('error', 'login limit prune failed', errorFields(err))))
  },
} satisfies ExportedHandler<Env>
