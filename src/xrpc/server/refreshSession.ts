import { openSession } from '../../auth/session'
import { Scope } from '../../auth/tokens'
import { getAppPassword } from '../../db/appPasswords'
import { takeRefreshToken } from '../../db/sessions'
import { InvalidTokenError } from '../../lib/errors'
import { procedure } from '../method'

/** Rotation: the presented refresh token is consumed; reusing it later fails. */
export default procedure('com.atproto.server.refreshSession', { auth: 'refresh', input: 'none' }, async ({ db, env, config, auth }) => {
  const row = await takeRefreshToken(db, auth!.jti ?? '', auth!.did)
  if (!row) throw new InvalidTokenError('Token has been revoked')
  let scope: typeof Scope.Access | typeof Scope.AppPass | typeof Scope.AppPassPrivileged = Scope.Access
  if (row.appPasswordName) {
    const appPassword = await getAppPassword(db, row.did, row.appPasswordName)
    if (!appPassword) throw new InvalidTokenError('Token has been revoked')
    scope = appPassword.privileged ? Scope.AppPassPrivileged : Scope.AppPass
  }
  return { json: await openSession(db, config, env.CACHE, scope, row.appPasswordName) }
})
