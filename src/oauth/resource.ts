import type { ScopePermissionsTransition } from '@atproto/oauth-scopes'
import type { Config } from '../env'
import type { Db } from '../db/client'
import { claimJti, selectSession } from '../db/oauth'
import { verifyAccessToken } from './accessToken'
import { verifyDpopProof } from './dpop'
import { DpopAuthError, toResourceError } from './errors'
import { permissionsFor } from './scopes'

export interface OAuthCredentials {
  did: string
  scope: string
  clientId: string
  sessionId: string
  permissions: ScopePermissionsTransition
}

/** `Authorization: DPoP <token>` → the token, or null for any other scheme. */
export function dpopToken(req: Request): string | null {
  const header = req.headers.get('authorization')
  const m = header ? /^DPoP\s+(\S+)$/i.exec(header.trim()) : null
  return m ? m[1]! : null
}

/**
 * Resource-server check of an OAuth access token (RFC 9449 §7): signature,
 * audience and expiry; a DPoP proof for this request by the key the token is
 * bound to (with `ath`); and the session still alive in D1, so revoking an
 * app stops its tokens at once. The `jti` record and the session read share
 * one D1 round trip.
 */
export async function authenticateDpop(req: Request, config: Config, db: Db, token: string): Promise<OAuthCredentials> {
  const check = await verifyAccessToken(config, token)
  if (!check.ok) throw new DpopAuthError('invalid_token', check.reason === 'expired' ? 'Token has expired' : 'Token could not be verified')
  const { claims } = check
  let proof
  try {
    proof = await verifyDpopProof(req, config, token)
  } catch (err) {
    throw toResourceError(err)
  }
  if (proof.jkt !== claims.jkt) throw new DpopAuthError('invalid_dpop_proof', 'DPoP proof is signed by another key than the token is bound to')
  const [claimed, sessions] = await db.batch([claimJti(db, proof.jti, proof.jtiExpiresAt), selectSession(db, claims.sid)])
  if (claimed.length === 0) throw new DpopAuthError('invalid_dpop_proof', 'DPoP proof "jti" was already used')
  const session = sessions[0]
  if (!session || session.expiresAt < Date.now()) throw new DpopAuthError('invalid_token', 'Token has been revoked')
  if (claims.sub !== config.did || session.did !== claims.sub) throw new DpopAuthError('invalid_token', 'Unknown account')
  return { did: claims.sub, scope: claims.scope, clientId: claims.clientId, sessionId: claims.sid, permissions: permissionsFor(claims.scope) }
}
