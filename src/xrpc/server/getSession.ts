import { describeSession } from '../../auth/session'
import { query } from '../method'

export default query('com.atproto.server.getSession', { auth: 'access' }, async ({ db, env, config, auth }) => {
  const session = await describeSession(db, config, env.CACHE)
  // OAuth apps see the email only with account:email (or transition:email), as the reference PDS.
  if (auth?.oauth && !auth.oauth.permissions.allowsAccount({ attr: 'email', action: 'read' })) {
    const { email: _email, emailConfirmed: _confirmed, emailAuthFactor: _factor, ...rest } = session as typeof session & { email?: string }
    return { json: rest }
  }
  return { json: session }
})
