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
  const spy = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init)
    requests.push(`${req.method} ${req.url}`)
    const handler = table.get(new URL(req.url).origin)
    if (!handler) throw new TypeError(`connection refused: nothing listens at ${new URL(req.url).origin} (test network)`)
    return handler(req)
  })
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
export function standInService(did: string, answers: Record<string, (call: VerifiedCall) => unknown>) {
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
    if (claims.aud !== did) throw new Error(`aud ${claims.aud} is not ${did}`)
    if (claims.lxm !== nsid) throw new Error(`lxm ${claims.lxm} is not ${nsid}`)
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
