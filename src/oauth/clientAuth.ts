import { calculateJwkThumbprint, createLocalJWKSet, jwtVerify, type JWK, type JSONWebKeySet } from 'jose'
import type { Config } from '../env'
import type { Db } from '../db/client'
import { claimJti } from '../db/oauth'
import { assertPublicUrl, UnsafeUrlError } from '../lib/publicUrl'
import { readLimited, signingKeys, type OAuthClientInfo } from './client'
import { invalidClient } from './errors'

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
const ASSERTION_MAX_AGE_S = 300

/** How a client proved itself: public clients nothing; confidential ones the key of their assertion. */
export type ClientAuth = { method: 'none' } | { method: 'private_key_jwt'; kid: string | null; jkt: string }

/**
 * Authenticates the client on PAR, token and revoke (RFC 7523 §2.2 as the
 * atproto OAuth spec profiles it): a public client sends no credential; a
 * confidential one a fresh, single-use JWT signed by a signing key from its
 * `jwks` or `jwks_uri` with `iss` = `sub` = client_id and `aud` = our issuer.
 */
export async function authenticateClient(
  params: Record<string, unknown>,
  client: OAuthClientInfo,
  ctx: { config: Config; db: Db; cache: KVNamespace; endpoint: string },
): Promise<ClientAuth> {
  const type = params.client_assertion_type
  const assertion = params.client_assertion
  if (client.authMethod === 'none') {
    if (type !== undefined || assertion !== undefined) throw invalidClient('This client is registered as public ("none") and must not send a client assertion')
    return { method: 'none' }
  }
  if (type !== JWT_BEARER || typeof assertion !== 'string') throw invalidClient('private_key_jwt client authentication required (client_assertion)')

  const keys = signingKeys(await clientKeys(client, ctx))
  if (keys.length === 0) throw invalidClient('Client has no signing key')
  const alg = client.metadata.token_endpoint_auth_signing_alg!
  let verified
  try {
    verified = await jwtVerify(assertion, createLocalJWKSet({ keys } as JSONWebKeySet), {
      algorithms: [alg],
      issuer: client.id,
      subject: client.id,
      audience: [ctx.config.publicUrl, ctx.endpoint],
      maxTokenAge: ASSERTION_MAX_AGE_S,
      requiredClaims: ['jti', 'iat'],
    })
  } catch (err) {
    throw invalidClient(`Client assertion is invalid: ${err instanceof Error ? err.message : 'unverifiable'}`)
  }
  const jti = String(verified.payload.jti)
  const [claimed] = await claimJti(ctx.db, `client-assertion:${client.id}:${jti}`, ((verified.payload.iat ?? 0) + ASSERTION_MAX_AGE_S + 60) * 1000)
  if (!claimed) throw invalidClient('Client assertion was already used')
  const kid = verified.protectedHeader.kid ?? null
  const key = keys.find((k) => (kid ? k.kid === kid : true))!
  return { method: 'private_key_jwt', kid, jkt: await calculateJwkThumbprint(key, 'sha256') }
}

/** The same method, and for confidential clients the same key, as when the session began. */
export function sameClientAuth(a: ClientAuth, b: ClientAuth): boolean {
  if (a.method !== b.method) return false
  return a.method === 'none' || (b.method === 'private_key_jwt' && a.jkt === b.jkt)
}

async function clientKeys(client: OAuthClientInfo, ctx: { config: Config; cache: KVNamespace }): Promise<JWK[]> {
  if (client.metadata.jwks) return client.metadata.jwks.keys as JWK[]
  const uri = client.metadata.jwks_uri!
  const cacheKey = `oauth-jwks:${uri}`
  const hit = await ctx.cache.get<{ keys: JWK[] }>(cacheKey, 'json')
  if (hit) return hit.keys
  let url: URL
  try {
    url = assertPublicUrl(uri, ctx.config.proxyAllowInsecure)
  } catch (err) {
    if (err instanceof UnsafeUrlError) throw invalidClient(`jwks_uri refused: ${err.message}`)
    throw err
  }
  let json: { keys?: unknown }
  try {
    const res = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'manual', signal: AbortSignal.timeout(5000) })
    if (res.status !== 200) throw new Error(`answered ${res.status}`)
    json = JSON.parse(await readLimited(res))
  } catch (err) {
    throw invalidClient(`Client jwks_uri could not be fetched: ${err instanceof Error ? err.message : 'unreachable'}`)
  }
  if (!Array.isArray(json?.keys)) throw invalidClient('Client jwks_uri does not hold a key set')
  await ctx.cache.put(cacheKey, JSON.stringify({ keys: json.keys }), { expirationTtl: 600 })
  return json.keys as JWK[]
}
