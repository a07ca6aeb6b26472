import { ScopeMissingError, type ScopePermissions } from '@atproto/oauth-scopes'
import { authenticate, type AuthContext, type AuthMode } from '../auth/verifier'
import type { Config } from '../env'
import type { Db } from '../db/client'
import { ForbiddenError, InvalidRequestError, XrpcError } from '../lib/errors'
import { authenticateDpop, dpopToken } from '../oauth/resource'

/** A caller as a method sees it: legacy sessions as before, OAuth tokens with their permissions. */
export type CallerAuth = AuthContext & { oauth?: { clientId: string; permissions: ScopePermissions } }

/**
 * What OAuth credentials may do on a method (atproto permission spec):
 * `refuse` for methods the spec keeps from OAuth (app passwords, account
 * lifecycle), or a check of the token's permissions against the call.
 * Methods without one accept any OAuth token (all carry `atproto`).
 */
export type OAuthPolicy = 'refuse' | ((permissions: ScopePermissions, call: ScopeCall) => void)
export interface ScopeCall {
  req: Request
  config: Config
  params: Record<string, any>
  input: any
}

/** `Authorization: DPoP …` goes to the OAuth resource server; everything else to the session verifier. */
export async function authenticateCaller(req: Request, config: Config, db: Db, mode: AuthMode, policy?: OAuthPolicy): Promise<CallerAuth | null> {
  const token = dpopToken(req)
  if (token === null) return authenticate(req, config, mode)
  if (mode === 'none') return null
  if (mode === 'refresh') throw new InvalidRequestError('OAuth tokens are refreshed at the token endpoint, not here', 'InvalidToken')
  if (policy === 'refuse') throw new ForbiddenError('OAuth credentials are not supported for this endpoint')
  const creds = await authenticateDpop(req, config, db, token)
  return { did: creds.did, scope: 'oauth', token, oauth: { clientId: creds.clientId, permissions: creds.permissions } }
}

/** Runs a method's scope check; a missing permission is a 403 naming the scope the app should ask for. */
export function enforceScope(auth: CallerAuth | null, policy: OAuthPolicy | undefined, call: ScopeCall): void {
  if (!auth?.oauth || typeof policy !== 'function') return
  try {
    policy(auth.oauth.permissions, call)
  } catch (err) {
    if (err instanceof ScopeMissingError) throw new XrpcError(403, 'ScopeMissingError', err.message)
    throw err
  }
}
