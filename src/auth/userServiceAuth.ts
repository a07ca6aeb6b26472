import { verifySignature } from '@atproto/crypto'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import { base64url } from 'multiformats/bases/base64'
import type { Config } from '../env'
import { getSigningKey } from '../identity/signingKey'
import { AuthRequiredError } from '../lib/errors'

/**
 * Whether a bearer token is a service JWT rather than a session token: the
 * reference PDS tells them apart by the `lxm` claim, which our HS256 session
 * tokens never carry. A token that does not even decode is left to the session
 * verifier, which reports it as InvalidToken.
 */
export function isServiceJwt(token: string): boolean {
  try {
    return decodeJwt(token).lxm != null
  } catch {
    return false
  }
}

/**
 * Verifies a service JWT the account minted for someone else to call us with
 * (the video service uploading the processed video, PROTOCOL.md "Service auth
 * the other way"): ES256K over `header.payload`, `iss` our account, `aud` our
 * service DID, `lxm` the method being called, not expired. The key is our DID
 * document's `#atproto` key, which is our own signing key, so nothing needs
 * resolving. Errors use the reference PDS's names (401 BadJwt*, JwtExpired).
 */
export async function verifyUserServiceJwt(config: Config, token: string, nsid: string): Promise<{ did: string }> {
  const parts = token.split('.')
  if (parts.length !== 3) throw new AuthRequiredError('poorly formatted jwt', 'BadJwt')
  let header: ReturnType<typeof decodeProtectedHeader>
  let payload: ReturnType<typeof decodeJwt>
  try {
    header = decodeProtectedHeader(token)
    payload = decodeJwt(token)
  } catch {
    throw new AuthRequiredError('poorly formatted jwt', 'BadJwt')
  }
  // Session, refresh and DPoP tokens are never service tokens, whatever they claim.
  if (header.typ === 'at+jwt' || header.typ === 'refresh+jwt' || header.typ === 'dpop+jwt') {
    throw new AuthRequiredError(`Invalid jwt type "${header.typ}"`, 'BadJwtType')
  }
  if (typeof payload.exp !== 'number' || Date.now() / 1000 > payload.exp) throw new AuthRequiredError('jwt expired', 'JwtExpired')
  if (payload.aud !== config.did) throw new AuthRequiredError('jwt audience does not match service did', 'BadJwtAudience')
  if (payload.lxm !== nsid) throw new AuthRequiredError(`bad jwt lexicon method ("lxm"). must match: ${nsid}`, 'BadJwtLexiconMethod')
  if (payload.iss !== config.did) throw new AuthRequiredError('jwt issuer is not an account on this PDS', 'BadJwtIss')
  if (header.alg !== 'ES256K') throw new AuthRequiredError('could not verify jwt signature', 'BadJwtSignature')

  const key = await getSigningKey(config.signingKeyHex)
  let valid = false
  try {
    valid = await verifySignature(key.did(), new TextEncoder().encode(`${parts[0]}.${parts[1]}`), base64url.baseDecode(parts[2]!), {
      jwtAlg: 'ES256K',
      allowMalleableSig: true,
    })
  } catch {
    valid = false
  }
  if (!valid) throw new AuthRequiredError('jwt signature does not match jwt issuer', 'BadJwtSignature')
  return { did: payload.iss }
}
