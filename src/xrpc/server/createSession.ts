import { checkCredentials } from '../../auth/credentials'
import { reserveLogin } from '../../auth/loginRateLimit'
import { openSession } from '../../auth/session'
import { getAccount } from '../../db/accounts'
import { AuthRequiredError } from '../../lib/errors'
import { procedure } from '../method'

interface Input {
  identifier: string
  password: string
}

export default procedure<Input>('com.atproto.server.createSession', {}, async ({ db, env, config, req, input }) => {
  // Reserved before the password is checked: parallel attempts cannot all pass the limit.
  const attempt = await reserveLogin(db, req)
  const account = await getAccount(db, config)
  const credential = await checkCredentials(db, config, account, input.identifier, input.password)
  if (!credential) throw new AuthRequiredError('Invalid identifier or password')
  await attempt.release()
  return { json: await openSession(db, config, env.CACHE, credential.scope, credential.appPasswordName, account) }
})
