import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify, type JWK } from 'jose'
import type { Config } from '../env'
import { invalidDpopProof, useDpopNonce } from './errors'
import { isFreshNonce } from './nonce'

/**
 * Asymmetric algorithms a DPoP proof may use (never `none` or HMAC): those
 * WebCrypto in workerd verifies. Clients pick from this list in order, so
 * ES256K (which jose cannot verify here) must not appear in it.
 */
export const DPOP_ALGS = ['ES256', 'ES384', 'PS256', 'PS384', 'PS512', 'RS256', 'RS384', 'RS512']

/** How old a proof's `iat` may be, and how far ahead of our clock. */
export const DPOP_MAX_AGE_S = 300
const DPOP_MAX_SKEW_S = 30

export interface DpopProof {
  /** RFC 7638 thumbprint of the proof key: what tokens are bound to (`cnf.jkt`). */
  jkt: string
  jti: string
  /** When the `jti` may be forgotten: after that the `iat` check refuses the proof anyway. */
  jtiExpiresAt: number
}

/**
 * Checks the `DPoP` header of a request (RFC 9449 §4.3): a `dpop+jwt` signed
 * by the public key it embeds, for this method and URL, recent, carrying a
 * nonce we issued, and, when an access token comes with it, the token's hash
 * (`ath`). The `jti` is returned for the caller to record (replay check),
 * so that a resource request can do it in the same D1 round trip as its
 * session lookup.
 */
export async function verifyDpopProof(req: Request, config: Config, accessToken?: string): Promise<DpopProof> {
  const proof = req.headers.get('dpop')
  if (!proof) throw invalidDpopProof('DPoP proof required')
  if (proof.includes(',')) throw invalidDpopProof('Exactly one DPoP proof is allowed')

  let payload: Record<string, unknown>
  let jwk: JWK
  try {
    const verified = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: DPOP_ALGS })
    payload = verified.payload as Record<string, unknown>
    jwk = verified.protectedHeader.jwk as JWK
  } catch (err) {
    throw invalidDpopProof(`DPoP proof is invalid: ${err instanceof Error ? err.message : 'unverifiable'}`)
  }
  if ('d' in jwk || 'k' in jwk || 'p' in jwk) throw invalidDpopProof('DPoP proof key must be a public key')

  const { jti, htm, htu, iat, nonce, ath } = payload
  if (typeof jti !== 'string' || jti.length < 8 || jti.length > 256) throw invalidDpopProof('DPoP proof "jti" is missing or malformed')
  if (htm !== req.method) throw invalidDpopProof('DPoP proof "htm" does not match the request method')
  if (typeof htu !== 'string' || normaliseHtu(htu) !== normaliseHtu(req.url)) throw invalidDpopProof('DPoP proof "htu" does not match the request URL')
  const now = Math.floor(Date.now() / 1000)
  if (typeof iat !== 'number' || iat > now + DPOP_MAX_SKEW_S || iat < now - DPOP_MAX_AGE_S) throw invalidDpopProof('DPoP proof "iat" is not recent')

  if (accessToken !== undefined) {
    const expected = await sha256b64url(accessToken)
    if (typeof ath !== 'string') throw invalidDpopProof('DPoP proof "ath" is required with an access token')
    if (ath !== expected) throw invalidDpopProof('DPoP proof "ath" does not match the access token')
  }

  // Checked last so that a client retrying with the nonce does not hit another error it could have seen first.
  if (typeof nonce !== 'string') throw useDpopNonce()
  if (!(await isFreshNonce(config, nonce))) throw useDpopNonce('DPoP nonce is stale or unknown')

  return { jkt: await calculateJwkThumbprint(jwk, 'sha256'), jti, jtiExpiresAt: (iat + DPOP_MAX_AGE_S + DPOP_MAX_SKEW_S) * 1000 }
}

/** `htu` compares without query and fragment (RFC 9449 §4.3 step 9), origin case-insensitively. */
function normaliseHtu(value: string): string | null {
  try {
    const url = new URL(value)
    return `${url.protocol}//${url.host}${url.pathname}`
  } catch {
    return null
  }
}

export async function sha256b64url(value: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(value)))
  return btoa(String.fromCharCode(...digest)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}
