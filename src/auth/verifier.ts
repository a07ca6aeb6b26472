import type { Config } from '../env'
import { AuthRequiredError, BadTokenScopeError } from '../lib/errors'
import { Scope, verifyToken } from './tokens'

/**
 * What a method demands of its caller:
 * - `access`: any access token, app passwords included;
 * - `privileged`: full access or a privileged app password;
 * - `full`: the owner's own password session (account and app-password management);
 * - `refresh`: a refresh token (refreshSession, deleteSession);
 * - `optional`: verified if present, anonymous otherwise.
 */
export type AuthMode = 'none' | 'optional' | 'access' | 'privileged' | 'full' | 'refresh'

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
