import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose'
import type { Config } from '../env'
import { BadTokenScopeError, InvalidTokenError } from '../lib/errors'

/** Scopes as the reference PDS mints them (legacy password sessions). */
export const Scope = {
  Access: 'com.atproto.access',
  AppPass: 'com.atproto.appPass',
  AppPassPrivileged: 'com.atproto.appPassPrivileged',
  Refresh: 'com.atproto.refresh',
} as const
export type AccessScope = typeof Scope.Access | typeof Scope.AppPass | typeof Scope.AppPassPrivileged

export const ACCESS_TTL_SECONDS = 2 * 60 * 60
export const REFRESH_TTL_SECONDS = 90 * 24 * 60 * 60

export interface TokenPair {
  accessJwt: string
  refreshJwt: string
  refreshJti: string
  refreshExpiresAt: number
}

export async function createTokenPair(config: Config, did: string, scope: AccessScope): Promise<TokenPair> {
  const now = Math.floor(Date.now() / 1000)
  const refreshJti = crypto.randomUUID()
  const accessJwt = await new SignJWT({ scope })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .setSubject(did)
    .setAudience(config.did)
    .setIssuedAt(now)
    .setExpirationTime(now + ACCESS_TTL_SECONDS)
    .sign(config.jwtSecret)
  const refreshJwt = await new SignJWT({ scope: Scope.Refresh })
    .setProtectedHeader({ alg: 'HS256', typ: 'refresh+jwt' })
    .setSubject(did)
    .setAudience(config.did)
    .setJti(refreshJti)
    .setIssuedAt(now)
    .setExpirationTime(now + REFRESH_TTL_SECONDS)
    .sign(config.jwtSecret)
  return { accessJwt, refreshJwt, refreshJti, refreshExpiresAt: (now + REFRESH_TTL_SECONDS) * 1000 }
}

export interface VerifiedToken {
  did: string
  scope: string
  jti?: string
}

/**
 * Verifies signature (HS256 only, so `alg: none` and key confusion fail),
 * audience and expiry, then that the scope is one of `scopes`. We mint every
 * token with an `exp` and a single `aud` string, so a token without `exp`
 * (valid forever) or with an audience array (meant for others too) is not ours.
 */
export async function verifyToken(config: Config, token: string, scopes: readonly string[]): Promise<VerifiedToken> {
  const payload = await verifiedPayload(config, token)
  if (payload.aud !== config.did) throw new InvalidTokenError('Token could not be verified')
  const scope = typeof payload.scope === 'string' ? payload.scope : ''
  if (!scopes.includes(scope)) throw new BadTokenScopeError()
  if (typeof payload.sub !== 'string' || !payload.sub.startsWith('did:')) throw new InvalidTokenError('Malformed token')
  return { did: payload.sub, scope, jti: payload.jti }
}

/**
 * Tokens this isolate has already verified, per config (secret and audience):
 * a client sends the same access token with every request, and the HMAC
 * check (a key import and a verify through WebCrypto) is the costliest step
 * of an authenticated request. Only the signature's answer is remembered:
 * expiry is checked on every use, and what callers check after (scope,
 * sessions, revocation) is untouched.
 */
const verified = new WeakMap<Config, Map<string, JWTPayload>>()
const MAX_VERIFIED = 256

async function verifiedPayload(config: Config, token: string): Promise<JWTPayload> {
  let known = verified.get(config)
  const hit = known?.get(token)
  if (hit) {
    if (hit.exp! * 1000 > Date.now()) return hit
    known!.delete(token)
    throw new InvalidTokenError('Token has expired', 'ExpiredToken')
  }
  let payload: JWTPayload
  try {
    ;({ payload } = await jwtVerify(token, config.jwtSecret, { algorithms: ['HS256'], audience: config.did, requiredClaims: ['exp'] }))
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw new InvalidTokenError('Token has expired', 'ExpiredToken')
    throw new InvalidTokenError('Token could not be verified')
  }
  if (!known) verified.set(config, (known = new Map()))
  if (known.size >= MAX_VERIFIED) known.delete(known.keys().next().value!)
  known.set(token, payload)
  return payload
}
