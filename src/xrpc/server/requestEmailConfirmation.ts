import { getAccountEmail } from '../../db/accountEmail'
import { InvalidRequestError } from '../../lib/errors'
import { procedure } from '../method'

/**
 * Nothing to send: the owner's address is confirmed when set (updateEmail).
 * Without an address, the reference PDS's answer.
 */
export default procedure('com.atproto.server.requestEmailConfirmation', { auth: 'full', input: 'none', oauth: (p) => p.assertAccount({ attr: 'email', action: 'manage' }) }, async ({ db, config }) => {
  if (!(await getAccountEmail(db, config.did))) throw new InvalidRequestError('account does not have an email address')
})
