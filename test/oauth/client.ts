/**
 * A small OAuth client for workers tests, built on jose the way atproto
 * clients do it: DPoP proofs, PKCE, PAR, the consent form, the token
 * endpoint. Refusal tests bend one piece at a time.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose'
import { readResponse, TEST_HANDLE, TEST_PASSWORD, worker } from '../helpers'

export const ORIGIN = 'https://pds.test'
export const REDIRECT = 'http://127.0.0.1:9999/callback'

export function loopbackClientId(scope = 'atproto transition:generic', redirect = REDIRECT): string {
  return `http://localhost?redirect_uri=${encodeURIComponent(redirect)}&scope=${encodeURIComponent(scope)}`
}

export interface DpopKey {
  privateKey: CryptoKey
  jwk: JWK
  jkt: string
}

export async function newDpopKey(): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = await exportJWK(publicKey)
  return { privateKey, jwk, jkt: await calculateJwkThumbprint(jwk) }
}

export async function sha256b64url(value: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value)))
  return btoa(String.fromCharCode(...digest)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

export interface ProofOptions {
  htm: string
  htu: string
  nonce?: string
  accessToken?: string
  /** Overrides for refusal tests. */
  claims?: Record<string, unknown>
  key?: DpopKey
  /** Signs with this key but embeds `key`'s public JWK. */
  signWith?: CryptoKey
}

export async function dpopProof(key: DpopKey, opts: ProofOptions): Promise<string> {
  const k = opts.key ?? key
  return new SignJWT({
    iat: Math.floor(Date.now() / 1000),
    htm: opts.htm,
    htu: opts.htu,
    jti: crypto.randomUUID(),
    ...(opts.nonce ? { nonce: opts.nonce } : {}),
    ...(opts.accessToken ? { ath: await sha256b64url(opts.accessToken) } : {}),
    ...opts.claims,
  })
    .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk: k.jwk })
    .sign(opts.signWith ?? k.privateKey)
}

/** The nonce every OAuth/XRPC response carries. */
export async function freshNonce(): Promise<string> {
  const res = await worker.fetch(`${ORIGIN}/.well-known/oauth-authorization-server`)
  await res.text()
  return res.headers.get('dpop-nonce')!
}

export async function postForm(path: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  return readResponse(await worker.fetch(`${ORIGIN}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form).toString(), redirect: 'manual' }))
}

export interface PushedRequest {
  requestUri: string
  verifier: string
  state: string
  clientId: string
}

export async function par(key: DpopKey, opts: { clientId?: string; scope?: string; extra?: Record<string, string>; json?: boolean } = {}): Promise<PushedRequest> {
  const clientId = opts.clientId ?? loopbackClientId()
  const verifier = `${crypto.randomUUID()}${crypto.randomUUID()}`
  const state = crypto.randomUUID()
  const form: Record<string, string> = {
    client_id: clientId,
    response_type: 'code',
    redirect_uri: REDIRECT,
    code_challenge: await sha256b64url(verifier),
    code_challenge_method: 'S256',
    state,
    scope: opts.scope ?? 'atproto transition:generic',
    ...opts.extra,
  }
  const proof = await dpopProof(key, { htm: 'POST', htu: `${ORIGIN}/oauth/par`, nonce: await freshNonce() })
  const res = opts.json
    ? await worker.fetch(`${ORIGIN}/oauth/par`, { method: 'POST', headers: { 'content-type': 'application/json', dpop: proof }, body: JSON.stringify(form) })
    : await worker.fetch(`${ORIGIN}/oauth/par`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: proof }, body: new URLSearchParams(form).toString() })
  const body: any = await res.json()
  if (res.status !== 201) throw new Error(`PAR failed ${res.status}: ${JSON.stringify(body)}`)
  return { requestUri: body.request_uri, verifier, state, clientId }
}

export function cookiesFrom(headers: Headers): string {
  return headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ')
}

/** Opens the page, signs in as the owner and allows; returns the redirect the browser would follow. */
export async function approve(req: PushedRequest, opts: { password?: string; decision?: string; cookie?: string } = {}) {
  const page = await worker.fetch(`${ORIGIN}/oauth/authorize?client_id=${encodeURIComponent(req.clientId)}&request_uri=${encodeURIComponent(req.requestUri)}`, { headers: opts.cookie ? { cookie: opts.cookie } : {} })
  const html = await page.text()
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)?.[1]
  if (!csrf) throw new Error(`no form on the page (${page.status}): ${html.slice(0, 300)}`)
  const cookie = [opts.cookie, cookiesFrom(page.headers)].filter(Boolean).join('; ')
  const form: Record<string, string> = { request_uri: req.requestUri, client_id: req.clientId, csrf, decision: opts.decision ?? 'allow' }
  if (html.includes('name="password"')) Object.assign(form, { identifier: TEST_HANDLE, password: opts.password ?? TEST_PASSWORD })
  const res = await postForm('/oauth/authorize', form, { cookie, origin: ORIGIN })
  return { ...res, location: res.headers.get('location'), cookie: [cookie, cookiesFrom(res.headers)].filter(Boolean).join('; ') }
}

export async function tokenRequest(key: DpopKey, form: Record<string, string>, nonce?: string) {
  const proof = await dpopProof(key, { htm: 'POST', htu: `${ORIGIN}/oauth/token`, nonce: nonce ?? (await freshNonce()) })
  return postForm('/oauth/token', form, { dpop: proof })
}

/** PAR → page → code → tokens, for a loopback client. */
export async function signIn(key: DpopKey, opts: { scope?: string; clientId?: string } = {}) {
  const req = await par(key, opts)
  const approved = await approve(req)
  const code = new URL(approved.location!).searchParams.get('code')!
  const res = await tokenRequest(key, { grant_type: 'authorization_code', code, code_verifier: req.verifier, redirect_uri: REDIRECT, client_id: req.clientId })
  if (res.status !== 200) throw new Error(`token failed ${res.status}: ${res.text}`)
  return { ...res.json, clientId: req.clientId } as { access_token: string; refresh_token: string; scope: string; sub: string; clientId: string; expires_in: number; token_type: string }
}

/** An XRPC call with `Authorization: DPoP`, proof for exactly this request. */
export async function dpopXrpc(key: DpopKey, token: string, nsid: string, opts: { body?: unknown; params?: Record<string, string>; nonce?: string; method?: string; headers?: Record<string, string>; proof?: Partial<ProofOptions>; scheme?: string; rawBody?: BodyInit } = {}) {
  const url = new URL(`${ORIGIN}/xrpc/${nsid}`)
  for (const [k, v] of Object.entries(opts.params ?? {})) url.searchParams.set(k, v)
  const method = opts.method ?? (opts.body !== undefined || opts.rawBody !== undefined ? 'POST' : 'GET')
  const proof = await dpopProof(key, { htm: method, htu: url.toString(), nonce: opts.nonce ?? (await freshNonce()), accessToken: token, ...opts.proof })
  const headers: Record<string, string> = { authorization: `${opts.scheme ?? 'DPoP'} ${token}`, dpop: proof, ...opts.headers }
  if (opts.body !== undefined) headers['content-type'] = 'application/json'
  return readResponse(await worker.fetch(url.toString(), { method, headers, body: opts.rawBody ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined) }))
}
