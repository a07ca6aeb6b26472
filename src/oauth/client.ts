import {
  atprotoLoopbackClientMetadata,
  isOAuthClientIdLoopback,
  oauthClientMetadataSchema,
  type OAuthClientMetadata,
} from '@atproto/oauth-types'
import type { JWK } from 'jose'
import type { Config } from '../env'
import { assertPublicUrl, UnsafeUrlError } from '../lib/publicUrl'
import { invalidClient, invalidClientMetadata, OAuthError } from './errors'

/** A client as the authorization server knows it: validated metadata and how it authenticates. */
export interface OAuthClientInfo {
  id: string
  metadata: OAuthClientMetadata
  /** `http://localhost…` client ids: public native clients with no hosted document (atproto OAuth spec). */
  loopback: boolean
  authMethod: 'none' | 'private_key_jwt'
}

const CACHE_TTL_S = 600
const FETCH_TIMEOUT_MS = 5000
const MAX_DOCUMENT_BYTES = 64 * 1024

/**
 * Resolves a `client_id`: loopback ids carry their metadata in the id itself;
 * any other id is the URL of the client's metadata document, fetched through
 * the same SSRF guard as the proxy and cached in KV.
 */
export async function resolveClient(clientId: string, config: Config, cache: KVNamespace): Promise<OAuthClientInfo> {
  if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > 2048) throw invalidClient('client_id is required')
  if (isOAuthClientIdLoopback(clientId)) {
    let raw: unknown
    try {
      raw = atprotoLoopbackClientMetadata(clientId)
    } catch (err) {
      throw invalidClient(`Invalid loopback client_id: ${err instanceof Error ? err.message : 'unparseable'}`)
    }
    return validate(clientId, raw, true)
  }
  const raw = await fetchDocument(clientId, config, cache)
  return validate(clientId, raw, false)
}

async function fetchDocument(clientId: string, config: Config, cache: KVNamespace): Promise<unknown> {
  let url: URL
  try {
    url = assertPublicUrl(clientId, config.proxyAllowInsecure)
  } catch (err) {
    if (err instanceof UnsafeUrlError) throw invalidClient(`client_id refused: ${err.message}`)
    throw err
  }
  if (url.hash) throw invalidClient('client_id must not have a fragment')
  if (url.pathname === '/') throw invalidClient('client_id must be the URL of a metadata document, not an origin')
  const key = `oauth-client:${clientId}`
  const hit = await cache.get(key, 'json')
  if (hit) return hit

  let res: Response
  try {
    res = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) })
  } catch (err) {
    throw invalidClientMetadata(`Client metadata could not be fetched: ${err instanceof Error ? err.message : 'unreachable'}`)
  }
  if (res.status !== 200) {
    await res.body?.cancel()
    throw invalidClientMetadata(`Client metadata fetch answered ${res.status}`)
  }
  const text = await readLimited(res, MAX_DOCUMENT_BYTES)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw invalidClientMetadata('Client metadata is not JSON')
  }
  await cache.put(key, JSON.stringify(json), { expirationTtl: CACHE_TTL_S })
  return json
}

/** A fetched document, refused past `limit` bytes (client metadata and key sets are small). */
export async function readLimited(res: Response, limit: number = MAX_DOCUMENT_BYTES): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? 0)
  if (declared > limit) throw invalidClientMetadata('Client metadata is too large')
  const reader = res.body!.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel()
      throw invalidClientMetadata('Client metadata is too large')
    }
    chunks.push(value)
  }
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const c of chunks) bytes.set(c, (offset += c.byteLength) - c.byteLength)
  return new TextDecoder().decode(bytes)
}

/** The atproto profile of RFC 7591 metadata (atproto OAuth spec, "Client ID Metadata Document"). */
function validate(clientId: string, raw: unknown, loopback: boolean): OAuthClientInfo {
  if (typeof raw !== 'object' || raw === null) throw invalidClientMetadata('Client metadata must be a JSON object')
  // RFC 7591 defaults an absent method to client_secret_basic, which atproto does not support: say so, rather than guess.
  if (!('token_endpoint_auth_method' in raw)) {
    throw invalidClientMetadata('token_endpoint_auth_method is required (atproto supports "none" and "private_key_jwt")')
  }
  const parsed = oauthClientMetadataSchema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw invalidClientMetadata(`Invalid client metadata: ${issue ? `${issue.path.join('.')}: ${issue.message}` : 'unparseable'}`)
  }
  const metadata = parsed.data
  if (!loopback && metadata.client_id !== clientId) throw invalidClientMetadata('client_id in the document does not match the URL it was fetched from')
  const scopes = metadata.scope?.split(' ') ?? []
  if (!scopes.includes('atproto')) throw invalidClientMetadata('Client metadata scope must include "atproto"')
  if (metadata.dpop_bound_access_tokens !== true) throw invalidClientMetadata('"dpop_bound_access_tokens" must be true')
  if (!metadata.response_types.includes('code')) throw invalidClientMetadata('response_types must include "code"')
  if (!metadata.grant_types.includes('authorization_code')) throw invalidClientMetadata('grant_types must include "authorization_code"')
  if (metadata.grant_types.some((g) => g !== 'authorization_code' && g !== 'refresh_token')) throw invalidClientMetadata('Only authorization_code and refresh_token grants are supported')

  const method = metadata.token_endpoint_auth_method
  if (method === 'none') {
    if (metadata.token_endpoint_auth_signing_alg) throw invalidClientMetadata('token_endpoint_auth_method "none" must not have token_endpoint_auth_signing_alg')
  } else if (method === 'private_key_jwt') {
    if (loopback) throw invalidClientMetadata('Loopback clients are public clients ("none")')
    if (!metadata.jwks && !metadata.jwks_uri) throw invalidClientMetadata('private_key_jwt requires jwks or jwks_uri')
    if (metadata.jwks && signingKeys(metadata.jwks.keys as JWK[]).length === 0) throw invalidClientMetadata('jwks has no signing key')
    if (!metadata.token_endpoint_auth_signing_alg) throw invalidClientMetadata('private_key_jwt requires token_endpoint_auth_signing_alg')
  } else {
    throw invalidClientMetadata(`Unsupported token_endpoint_auth_method "${method}" (use "none" or "private_key_jwt")`)
  }
  if (metadata.application_type === 'native' && method !== 'none') throw invalidClientMetadata('Native clients must authenticate with "none"')

  for (const uri of metadata.redirect_uris) checkRedirectUri(uri, metadata.application_type, clientId, loopback)
  return { id: clientId, metadata, loopback, authMethod: method }
}

function checkRedirectUri(uri: string, applicationType: string, clientId: string, loopback: boolean) {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    throw invalidClientMetadata(`Invalid redirect_uri ${uri}`)
  }
  if (url.username || url.password) throw invalidClientMetadata('redirect_uri must not contain credentials')
  if (url.hostname === 'localhost') throw invalidClientMetadata('Loopback redirect URIs must use an IP literal (127.0.0.1 or [::1]), not localhost')
  if (url.hostname === '127.0.0.1' || url.hostname === '[::1]') {
    if (applicationType !== 'native') throw invalidClientMetadata('Loopback redirect URIs are only for native clients')
    if (url.protocol !== 'http:') throw invalidClientMetadata('Loopback redirect URIs use http')
    return
  }
  if (url.protocol === 'https:') return
  if (url.protocol === 'http:') throw invalidClientMetadata('Only loopback redirect URIs may use http')
  // Private-use schemes (RFC 8252 §7.1): reverse-DNS of the client's own domain, native apps only.
  if (applicationType !== 'native' || !url.protocol.includes('.')) throw invalidClientMetadata(`Invalid redirect_uri scheme ${url.protocol}`)
  if (!loopback) {
    const host = new URL(clientId).hostname
    const reversed = url.protocol.slice(0, -1).split('.').reverse().join('.')
    if (reversed !== host && !host.endsWith(`.${reversed}`) && !reversed.endsWith(`.${host}`) && reversed !== host) {
      throw invalidClientMetadata('Private-use redirect scheme must be the reverse of the client_id domain')
    }
  }
}

/**
 * Keys a client may sign its assertions with. Encryption keys in the same set
 * are skipped, not fatal; a signing key whose `key_ops` also lists encryption
 * operations (as @atproto/jwk publishes them) keeps only `verify`, which is
 * all WebCrypto accepts for importing a verification key.
 */
export function signingKeys(keys: readonly JWK[]): JWK[] {
  return keys
    .filter((k) => k.use !== 'enc' && (!k.key_ops || k.key_ops.includes('verify')))
    .map(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, k: _k, key_ops: _ops, ...pub }) => ({ ...pub, key_ops: ['verify'] }))
}

export function isOAuthError(err: unknown): err is OAuthError {
  return err instanceof OAuthError
}
