import type { Config } from '../env'
import { AuthRequiredError, BadTokenScopeError } from '../lib/errors'
import { Scope, verifyToken } from './tokens'
import { isServiceJwt, verifyUserServiceJwt } from './userServiceAuth'

/**
 * What a method demands of its caller:
 * - `access`: any access token, app passwords included;
 * - `privileged`: full access or a privileged app password;
 * - `full`: the owner's own password session (account and app-password management);
 * - `refresh`: a refresh token (refreshSession, deleteSession);
 * - `optional`: verified if present, anonymous otherwise;
 * - `accessOrService`: as `access`, or the account's own service JWT for this
 *   method (uploadBlob from the video service, as the reference PDS allows).
 */
export type AuthMode = 'none' | 'optional' | 'access' | 'privileged' | 'full' | 'refresh' | 'accessOrService'

/** The scope an AuthContext carries when the caller presented a user service JWT. */
export const SERVICE_AUTH_SCOPE = 'service'

export interface AuthContext {
  did: string
  scope: string
  /** Present on refresh tokens. */
  jti?: string
  token: string
}

const scopesFor: Record<Exclude<AuthMode, 'none'>, readonly string[]> = {
  optional: [Scope.Access, Scope.AppPass, Scope.AppPassPrivileged],
  access: [Scope.Access, Scope.AppPass, Scope.AppPassPrivileged],
  privileged: [Scope.Access, Scope.AppPassPrivileged],
  full: [Scope.Access],
  refresh: [Scope.Refresh],
  accessOrService: [Scope.Access, Scope.AppPass, Scope.AppPassPrivileged],
}

export function bearerToken(req: Request): string | null {
  const header = req.headers.get('authorization')
  if (!header) return null
  const [type, token] = header.split(' ')
  if (type?.toLowerCase() !== 'bearer' || !token) throw new AuthRequiredError('Unexpected authorization type', 'InvalidToken')
  return token
}

export async function authenticate(req: Request, config: Config, mode: AuthMode): Promise<AuthContext | null> {
  if (mode === 'none') return null
  const token = bearerToken(req)
  if (!token) {
    if (mode === 'optional') return null
    throw new AuthRequiredError('Authentication Required', 'AuthMissing')
  }
  if (mode === 'accessOrService' && isServiceJwt(token)) {
    const { did } = await verifyUserServiceJwt(config, token, new URL(req.url).pathname.replace(/^\/xrpc\//, ''))
    return { did, scope: SERVICE_AUTH_SCOPE, token }
  }
  const verified = await verifyToken(config, token, scopesFor[mode]).catch((err) => {
    // An app-password session calling an owner-only method is refused, not "invalid".
    if (err instanceof BadTokenScopeError && mode !== 'refresh') {
      return verifyToken(config, token, scopesFor.access).then(() => {
        throw new BadTokenScopeError()
      })
    }
    throw err
  })
  if (verified.did !== config.did) throw new AuthRequiredError('Unknown account', 'InvalidToken')
  return { ...verified, token }
}
