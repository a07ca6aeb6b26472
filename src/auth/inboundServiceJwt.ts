import { verifySignature } from '@atproto/crypto'
import { base64url } from 'multiformats/bases/base64'
import { AuthRequiredError } from '../lib/errors'

export interface ServiceJwtExpectation {
  /** Our service DID: the token must be meant for us. */
  aud: string
  /** The method the token must be scoped to. */
  lxm: string
  /** The issuer's current `#atproto` key (did:key), or null when it has none. */
  keyOf(iss: string): Promise<string | null>
}

/**
 * Verifies an inter-service JWT another PDS minted for its account (atproto
 * service auth): ES256K/ES256 over `header.payload`, by the issuer DID's
 * current signing key, for our DID and this method, not expired. Returns the
 * issuer DID. Every failure is a 401 saying what was wrong.
 */
export async function verifyInboundServiceJwt(token: string, want: ServiceJwtExpectation): Promise<string> {
  const parts = token.split('.')
  if (parts.length !== 3) throw bad('Service token is not a JWT')
  const header = decodeJson(parts[0]!)
  const payload = decodeJson(parts[1]!)
  if (!header || !payload) throw bad('Service token is not a JWT')
  if (header.alg !== 'ES256K' && header.alg !== 'ES256') throw bad(`Service token algorithm ${String(header.alg)} is not supported`)
  // Session tokens (at+jwt, refresh+jwt, dpop) are never service tokens.
  if (header.typ !== undefined && header.typ !== 'JWT') throw bad('Not a service token')
  const iss = typeof payload.iss === 'string' ? payload.iss.split('#')[0]! : ''
  if (!iss.startsWith('did:')) throw bad('Service token has no issuer DID')
  if (payload.aud !== want.aud) throw new AuthRequiredError(`Service token is for ${String(payload.aud)}, not this PDS (${want.aud})`, 'BadJwtAudience')
  if (payload.lxm !== want.lxm) throw new AuthRequiredError(`Service token is for ${payload.lxm === undefined ? 'any method' : String(payload.lxm)}, not ${want.lxm}`, 'BadJwtLexiconMethod')
  if (typeof payload.exp !== 'number' || payload.exp * 1000 < Date.now()) throw new AuthRequiredError('Service token has expired', 'JwtExpired')
  const key = await want.keyOf(iss)
  if (!key) throw bad(`${iss} has no signing key in its DID document`)
  let sig: Uint8Array
  try {
    sig = base64url.baseDecode(parts[2]!)
  } catch {
    throw bad('Service token signature is not base64url')
  }
  const valid = await verifySignature(key, new TextEncoder().encode(`${parts[0]}.${parts[1]}`), sig).catch(() => false)
  if (!valid) throw bad(`Service token is not signed by the current signing key of ${iss}`)
  return iss
}

const bad = (message: string) => new AuthRequiredError(message, 'BadJwtSignature')

function decodeJson(part: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(new TextDecoder().decode(base64url.baseDecode(part)))
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : null
  } catch {
    return null
  }
}
